"""Languages (issue 18): every page and mail a reporter, complainant or sanctioned user sees is in
their language, Spanish and German shipped complete for them, and a string left unmarked or
untranslated fails a test.

Two nets catch a forgotten string on the pages:
- each page is rendered in English and in Spanish (and German) with the same data; a word of four
  letters or more that both renderings show, and that is neither data nor on the short list of words
  the languages share, is English left in the page: text never marked, or marked and not translated;
- no English sentence of the user-facing catalogue appears in a Spanish or German page or mail.
The catalogues themselves: no user-facing message is untranslated or fuzzy, placeholders agree, and
`makemessages` finds exactly the messages the catalogues hold (a newly marked string fails until the
catalogues are brought up to date).
"""

from __future__ import annotations

import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone, translation

from audit.events import EVENT_TYPES
from audit.filters import OBJECT_TYPES
from audit.models import AuditEvent
from moderation import services as moderation
from moderation.enforcement import services as enforcement
from moderation.enforcement.actions import ActionKind
from moderation.enforcement.models import AppealStatus, Notice, NoticeKind
from moderation.enforcement.notices import appeal_token
from moderation.services import report_review
from moderation.signals.models import Detector, SignalPolicy
from reports.models import Profile, Report, ReportChannel, ReportStatus, TargetKind
from tests.factories import PASSWORD, ReportFactory, TargetFactory, UserFactory
from tests.test_enforcement import decide, in_a_day
from tests.test_signals_pages import signals_on
from tests.test_stories import submit

LANGUAGES = ("es", "de")
LOCALE = Path(settings.BASE_DIR) / "locale"

#: Where a person who is not staff reads text: these files' messages are translated in full.
USER_FACING_SOURCES = (
    "templates/base.html",
    "templates/_language_switcher.html",
    "templates/_error_summary.html",
    "templates/_pagination.html",
    "templates/403.html",
    "templates/404.html",
    "templates/413.html",
    "templates/500.html",
    "templates/503.html",
    "templates/reports/",
    "templates/registration/",
    "templates/enforcement/_account_banner.html",
    "templates/enforcement/_appeal_form.html",
    "templates/enforcement/complaint_appeal.html",
    "templates/enforcement/my_notices.html",
    "templates/enforcement/notice_detail.html",
    "templates/enforcement/notices/",
    "templates/jinja2/reports/",
    "reports/",
    "moderation/notify.py",
    "moderation/enforcement/wording.py",
    "moderation/enforcement/notices.py",
    "moderation/enforcement/signin.py",
    "moderation/enforcement/models.py",
    "moderation/enforcement/actions.py",
    "config/",
)
#: The appellant's messages in files shared with the moderators' side.
USER_FACING_MESSAGES = {
    "Appeal sent. Someone who did not take the decision will review it.",
    "Why should we change this decision?",
    "Explain what we got wrong. Someone who did not take the decision reads it.",
    "A file that supports your appeal (optional)",
    "One screenshot or PDF, 10 MB at most.",
    "Attach one file at most.",
    "Explain why the decision should change.",
    "Keep the appeal to %(limit)s characters or fewer.",
    "Only a dismissed report can be appealed.",
    "Appeals are open for %(days)s days after the decision; this one has closed.",
    "You have already appealed this decision.",
    "An appeal is about one sanction or one report.",
    "This decision can no longer be appealed.",
}


def catalogue(language: str) -> polib.POFile:
    return polib.pofile(str(LOCALE / language / "LC_MESSAGES" / "django.po"))


def user_facing(entry: polib.POEntry) -> bool:
    files = [path for path, _line in entry.occurrences]
    return entry.msgid in USER_FACING_MESSAGES or any(
        path.startswith(source) for path in files for source in USER_FACING_SOURCES
    )


# --- the catalogues -------------------------------------------------------------------------------

_PLACEHOLDER = re.compile(r"%\(\w+\)[sdr]|\{\w+(?:![rsa])?\}")


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_catalogue_translates_every_user_facing_message_and_has_no_fuzzy_entry(language):
    po = catalogue(language)
    assert po.metadata.get("Plural-Forms", "").startswith("nplurals=2;")
    assert not [entry.msgid for entry in po if "fuzzy" in entry.flags], "fuzzy entries are never shipped"
    assert not po.obsolete_entries()
    user_entries = [entry for entry in po if user_facing(entry)]
    assert len(user_entries) > 450  # the whole of the user's side, not a sample
    untranslated = [entry.msgid for entry in user_entries if not entry.translated()]
    assert untranslated == [], f"{len(untranslated)} user-facing messages untranslated in {language}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_panel_is_translated_too_every_message_of_the_catalogue(language):
    """The moderators' and compliance officers' side as well as the user's: no message left."""
    untranslated = [entry.msgid for entry in catalogue(language) if not entry.translated()]
    assert untranslated == [], f"{len(untranslated)} messages untranslated in {language}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_translations_keep_every_placeholder_of_their_message(language):
    """What msgfmt --check would say: a translation that loses or invents a %(name)s or {name} place
    fails at run time (KeyError) or drops a value."""
    wrong = []
    for entry in catalogue(language).translated_entries():
        pairs = (
            [(entry.msgid, entry.msgstr)]
            if not entry.msgid_plural
            else [(entry.msgid_plural, text) for text in entry.msgstr_plural.values()]
        )
        for source, translated in pairs:
            wanted = sorted(set(_PLACEHOLDER.findall(source)))
            if not entry.msgid_plural and sorted(set(_PLACEHOLDER.findall(translated))) != wanted:
                wrong.append((entry.msgid, translated))
            # A plural's singular form may say "one" in words instead of %(count)s.
            if entry.msgid_plural and not set(_PLACEHOLDER.findall(translated)) <= set(wanted):
                wrong.append((entry.msgid, translated))
    assert wrong == []


def test_the_compiled_catalogues_are_read_by_django():
    with translation.override("es"):
        assert translation.gettext("Send report") == "Enviar denuncia"
    with translation.override("de"):
        assert translation.gettext("Send report") == "Meldung senden"


@pytest.mark.skipif(not shutil.which("xgettext"), reason="GNU gettext is not installed (bin/test installs it)")
def test_makemessages_finds_exactly_the_messages_the_catalogues_hold(tmp_path, settings, monkeypatch):
    """A string marked in a template, a Jinja2 template or the code, and not yet in the catalogues,
    fails here (and one that no longer exists does too): run `manage.py makemessages -l es -l de`.
    It runs on a copy of the sources, so that the shipped catalogues are never touched."""
    copy = tmp_path / "src"
    for folder in ("config", "reports", "moderation", "audit", "templates"):
        shutil.copytree(Path(settings.BASE_DIR) / folder, copy / folder, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "locale").mkdir()
    settings.LOCALE_PATHS = [copy / "locale"]
    monkeypatch.chdir(copy)
    call_command("makemessages", locale=["es"], verbosity=0)
    found = {(entry.msgctxt, entry.msgid) for entry in polib.pofile(str(copy / "locale/es/LC_MESSAGES/django.po"))}
    for language in LANGUAGES:
        shipped = {(entry.msgctxt, entry.msgid) for entry in catalogue(language)}
        assert found - shipped == set(), f"marked but missing from the {language} catalogue"
        assert shipped - found == set(), f"in the {language} catalogue but no longer in the code"
    # The Jinja2 templates are read too (their messages are not Django template syntax).
    assert (None, "Filters (%(count)s active)") in found


# --- reading pages ----------------------------------------------------------------------------------


class _Visible(HTMLParser):
    """The text a person reads or hears: text nodes (not scripts or styles) and the attributes read
    aloud or shown (title, aria-label, placeholder, alt, a button's value)."""

    READ_ATTRIBUTES = {"title", "aria-label", "placeholder", "alt", "data-confirm"}

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._hidden += 1
        for name, value in attrs:
            if value and (name in self.READ_ATTRIBUTES or (name == "value" and ("type", "submit") in attrs)):
                self.parts.append(value)

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden:
            self.parts.append(data)


def visible(html: str) -> str:
    parser = _Visible()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


#: Words Spanish or German share with English, as they are rightly written in those languages.
SHARED_WORDS = {
    "Report",
    "Desk",  # the product's name
    "English",
    "Español",
    "Deutsch",  # the languages, each named in itself
    "Trust",
    "Safety",  # the team's name, kept in German
    "Token",
    "Tokens",
    "Status",
    "Name",
    "Admin",
    "Compliance",
    "Dashboard",
    "Filter",
    "Person",
    "Moderator",
    "Signal",
    "Score",
    "Labels",  # German words spelt as English ones
    "Actor",
    "Total",
    "original",
    "percentiles",  # Spanish words spelt as English ones
    "cron",  # a program's name
    "Live",
    "Story",
    "Spam",
    "Profil",
    "Normal",
    "Visible",
    "Error",
    "Authorization",
    "Platform",  # a header's syntax, shown in code
    "Chat",
    "Chats",
    "#lobby",
    "sexual",
    "grooming",
    "illegal",  # Spanish and German words spelt as in English
    "PDFs",
    "optional",
    "describe",  # the Spanish imperative
    "script",  # Spanish says script too
    "April",
    "August",
    "September",
    "November",  # German months
}
#: The fixtures' own words: data, not text of the site.
DATA_WORDS = {"zorblax", "quuxly", "plonk", "Frobnitz", "snark", "example", "test", "lobby", "zorblax@example.test"}


def english_left(english: str, other: str, *, data: set[str] = frozenset()) -> set[str]:
    """Words of four letters or more that the other language's page shows just as the English one
    does: English left in a translated page."""

    def words(text: str) -> set[str]:
        return set(re.findall(r"(?<![\w-])[^\W\d_]{4,}(?![\w-])", text))

    allowed = {word.lower() for word in SHARED_WORDS | DATA_WORDS | data}
    return {word for word in words(visible(other)) & words(visible(english)) if word.lower() not in allowed}


def english_sentences(text: str, language: str) -> list[str]:
    """User-facing English messages (their fixed parts of four words or more) found in `text`."""
    found = []
    for entry in catalogue(language):
        if not user_facing(entry) or not entry.translated() or entry.msgstr == entry.msgid:
            continue
        for fragment in re.split(r"%\(\w+\)[sdr]|\{[^}]*\}|<[^>]+>", entry.msgid):
            fragment = fragment.strip(" .,:;")
            if len(fragment.split()) >= 4 and fragment in text:
                found.append(fragment)
    return found


def get(client, url: str, language: str, **kwargs):
    response = client.get(url, HTTP_ACCEPT_LANGUAGE=language, **kwargs)
    assert response.status_code in (200, 400, 404), (url, response.status_code)
    return response.content.decode()


def post(client, url: str, data: dict, language: str):
    return client.post(url, data, HTTP_ACCEPT_LANGUAGE=language)


def check_page(english: str, other: str, language: str, *, data: set[str] = frozenset()) -> None:
    assert f'<html lang="{language}"' in other
    assert english_left(english, other, data=data) == set()
    assert english_sentences(visible(other), language) == []


@pytest.fixture
def people(db):
    """A reporter, the person they report (later sanctioned), and content named in made-up words."""
    reporter = UserFactory(username="zorblax")
    reported = UserFactory(username="quuxly")
    target = TargetFactory(owner=reported, title="plonk plonk #lobby", snapshot_text="Frobnitz snark plonk")
    return reporter, reported, target


# --- what each person sees, in Spanish and in German -----------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("language", LANGUAGES)
def test_an_anonymous_visitor_reads_every_page_in_their_language(client, language, django_capture_on_commit_callbacks):
    pages = [reverse("home"), reverse("login"), reverse("reports:complaint"), "/no-such-page/"]
    for url in pages:
        check_page(get(client, url, "en"), get(client, url, language), language)
    # The complaint form with its errors, and with a good complaint its thank-you page.
    english = post(client, reverse("reports:complaint"), {"location": ""}, "en").content.decode()
    other = post(client, reverse("reports:complaint"), {"location": ""}, language).content.decode()
    check_page(english, other, language)
    assert {"es": "Hay 5 problemas", "de": "Es gibt 5 Probleme"}[language] in visible(other)
    complaint = {
        "name": "Zorblax Quuxly",
        "email": "zorblax@example.test",
        "content_kind": "message",
        "location": "plonk plonk #lobby",
        "category": "harassment",
        "description": "Frobnitz snark plonk plonk.",
        "good_faith": "on",
    }
    pages = {}
    for lang in ("en", language):
        client.cookies.clear()
        with django_capture_on_commit_callbacks(execute=True):
            assert post(client, reverse("reports:complaint"), complaint, lang).status_code == 302
        pages[lang] = get(client, reverse("reports:complaint_received"), lang)
    check_page(pages["en"], pages[language], language, data={"Zorblax", "Quuxly"})
    # The complaint keeps the language it was sent in, for its mail.
    assert list(Report.objects.order_by("created_at").values_list("language", flat=True)) == ["en", language]
    received = mail.outbox[-1]
    assert english_sentences(received.subject + received.body, language) == []
    assert {"es": "Hemos recibido tu denuncia", "de": "Wir haben deine Meldung"}[language] in received.subject


@pytest.mark.django_db
@pytest.mark.parametrize("language", LANGUAGES)
def test_a_reporter_reads_every_page_and_mail_in_their_language(
    client, people, language, django_capture_on_commit_callbacks
):
    reporter, _reported, target = people
    mine = ReportFactory(
        reporter=reporter,
        status=ReportStatus.DISMISSED,
        reason="Frobnitz plonk.",
        target=TargetFactory(owner=people[1], title="snark #lobby", snapshot_text="plonk"),
    )
    client.force_login(reporter)
    urls = [
        reverse("reports:demo"),
        f"{reverse('reports:new')}?target={target.public_id}",
        reverse("reports:mine"),
        reverse("reports:detail", args=[mine.pk]),
        reverse("reports:account"),
        reverse("enforcement:notices"),
    ]
    for url in urls:
        check_page(get(client, url, "en"), get(client, url, language), language)
    # My reports writes its dates the way the language does ("30 de noviembre de 2026 a las 08:10",
    # "30. November 2026 08:10"), not English's "30 Nov 2026, 08:10" with the month translated.
    from django.utils import translation

    from config.dates import full_moment

    with translation.override(language):
        written = full_moment(mine.created_at)
    assert {"es": " de ", "de": ". "}[language] in written
    assert written in visible(get(client, reverse("reports:mine"), language))
    # The filing form with its errors (the error summary, each field's message, the help texts).
    new = f"{reverse('reports:new')}?target={target.public_id}"
    english = post(client, new, {"reason": ""}, "en").content.decode()
    other = post(client, new, {"reason": ""}, language).content.decode()
    check_page(english, other, language)
    assert {"es": "Hay 3 problemas", "de": "Es gibt 3 Probleme"}[language] in visible(other)
    # Filed in that language: the confirmation message and the mail.
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            new,
            {"category": "harassment", "reason": "Frobnitz snark plonk.", "good_faith": "on"},
            HTTP_ACCEPT_LANGUAGE=language,
            follow=True,
        )
    page = response.content.decode()
    assert english_sentences(visible(page), language) == []
    assert {"es": "Denuncia", "de": "Meldung"}[language] in visible(page)
    [received] = [m for m in mail.outbox if reporter.email in m.to]
    assert english_sentences(received.subject + received.body, language) == []
    assert Report.objects.filter(reporter=reporter, language=language).count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("language", LANGUAGES)
def test_a_sanctioned_user_reads_the_block_the_statement_and_the_appeal_in_their_language(
    client, moderator, compliance, people, language, django_capture_on_commit_callbacks
):
    _reporter, reported, target = people
    Profile.objects.create(user=reported, language=language)
    report = ReportFactory(target=target)
    with django_capture_on_commit_callbacks(execute=True):
        removal, suspension = decide(
            moderator, report, ActionKind.REMOVE_CONTENT, ActionKind.SUSPENSION, ends_at=in_a_day()
        )
    statement = Notice.objects.get(kind=NoticeKind.STATEMENT_OF_REASONS)
    # The statement was written in the person's language (the moderator's page was English).
    [sent] = [m for m in mail.outbox if reported.email in m.to]
    assert sent.subject == statement.subject
    assert english_sentences(sent.subject + sent.body, language) == []
    expected = {
        "es": ("Se ha eliminado tu mensaje y tu cuenta está suspendida hasta el ", "Cómo recurrir"),
        "de": ("Deine Nachricht wurde entfernt und dein Konto ist bis zum ", "Wie du Einspruch einlegst"),
    }[language]
    assert statement.subject.startswith(expected[0]) and expected[1] in sent.body
    # What the moderator wrote stays as written.
    assert "Repeated insults in the lobby after being asked to stop." in sent.body
    # The dates say their time zone.
    assert "UTC" in sent.body

    # What the moderator wrote, and the notice's title (written once, in the person's language).
    data = {"Repeated", "insults", "after", "being", "asked", "stop", "Terms", "service", "harassment"}
    data |= set(re.findall(r"\w{4,}", statement.subject))
    # The sign-in block (the suspended account signs in with the right password), in its language.
    english = client.post(reverse("login"), {"username": "quuxly", "password": PASSWORD}, HTTP_ACCEPT_LANGUAGE="en")
    other = client.post(reverse("login"), {"username": "quuxly", "password": PASSWORD}, HTTP_ACCEPT_LANGUAGE=language)
    check_page(english.content.decode(), other.content.decode(), language, data=data)
    assert {"es": "Esta cuenta está suspendida hasta el ", "de": "Dieses Konto ist gesperrt bis zum "}[
        language
    ] in visible(other.content.decode())
    # The statement and the appeal form behind the signed link, and the appeal sent from it.
    link = reverse("enforcement:appeal_link", args=[appeal_token(sanction=suspension)])
    check_page(get(client, link, "en"), get(client, link, language), language, data=data)
    english = post(client, link, {"text": ""}, "en").content.decode()
    other = post(client, link, {"text": ""}, language).content.decode()
    check_page(english, other, language, data=data)
    # Its decision is mailed in the same language.
    appeal = enforcement.appeal_file(actor=reported, sanction_id=suspension.pk, text="Frobnitz.")
    with django_capture_on_commit_callbacks(execute=True):
        enforcement.appeal_decide(
            actor=compliance, appeal_id=appeal.pk, outcome=AppealStatus.UPHELD, reason="Plonk snark."
        )
    decision = mail.outbox[-1]
    assert decision.to == [reported.email]
    assert english_sentences(decision.subject + decision.body, language) == []
    assert {"es": "Tu recurso no ha prosperado", "de": "Dein Einspruch war nicht erfolgreich"}[language] in (
        decision.subject
    )


@pytest.mark.django_db
@pytest.mark.parametrize("language", LANGUAGES)
def test_a_warned_user_reads_their_notices_in_their_language(client, moderator, people, language):
    _reporter, reported, target = people
    decide(moderator, ReportFactory(target=target), ActionKind.WARNING)
    notice = Notice.objects.get(recipient=reported)
    client.force_login(reported)
    for url in (reverse("enforcement:notices"), reverse("enforcement:notice", args=[notice.pk])):
        english, other = get(client, url, "en"), get(client, url, language)
        # The notice's title was written once, in the language the account had then (English here).
        data = set(re.findall(r"[A-Za-z]{4,}", notice.subject)) | {
            "Repeated",
            "insults",
            "after",
            "being",
            "asked",
            "stop",
            "Terms",
            "service",
            "harassment",
        }
        check_page(english, other, language, data=data)


@pytest.mark.django_db
def test_mail_goes_out_in_the_account_language_whatever_the_page_language(
    client, moderator, people, django_capture_on_commit_callbacks
):
    reporter, _reported, target = people
    Profile.objects.create(user=reporter, language="de")
    client.force_login(reporter)
    new = f"{reverse('reports:new')}?target={target.public_id}"
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            new, {"category": "harassment", "reason": "Frobnitz.", "good_faith": "on"}, HTTP_ACCEPT_LANGUAGE="es"
        )
    report = Report.objects.get(reporter=reporter)
    # The account's language wins over the page's, for the pages too (it is in the session).
    assert report.language == "de"
    [received] = mail.outbox
    assert received.subject == f"Wir haben deine Meldung {report.short_id} erhalten"
    # The outcome, decided on an English page, still in German; dates in German with the zone named.
    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        report_review(actor=moderator, report_id=report.pk, status="reviewed")
        report_review(actor=moderator, report_id=report.pk, status="dismissed")
    outcome = mail.outbox[-1]
    assert outcome.subject == f"Deine Meldung {report.short_id}: Wir haben keinen Verstoß festgestellt"
    assert "Einspruch auf der Seite deiner Meldung" in outcome.body


@pytest.mark.django_db
def test_a_complaint_without_an_account_is_answered_in_the_language_it_was_sent_in(
    client, moderator, django_capture_on_commit_callbacks
):
    client.post(
        reverse("reports:complaint"),
        {
            "name": "Zorblax",
            "email": "zorblax@example.test",
            "content_kind": "message",
            "location": "plonk",
            "category": "spam",
            "description": "Frobnitz snark.",
            "good_faith": "on",
        },
        HTTP_ACCEPT_LANGUAGE="es-MX,es;q=0.9,en;q=0.5",
    )
    report = Report.objects.get()
    assert report.language == "es"
    with django_capture_on_commit_callbacks(execute=True):
        report_review(actor=moderator, report_id=report.pk, status="dismissed")
    outcome = mail.outbox[-1]
    assert outcome.subject.startswith("Tu denuncia") and "Recurre aquí (no necesitas cuenta" in outcome.body
    assert english_sentences(outcome.body, "es") == []


@pytest.mark.django_db
def test_dates_in_mail_are_written_for_the_language_with_the_zone_named(people, settings):
    from config.dates import long_date

    settings.TIME_ZONE = "Europe/Madrid"
    moment = timezone.make_aware(timezone.datetime(2026, 12, 5, 14, 0), timezone.get_fixed_timezone(60))
    with timezone.override("Europe/Madrid"):
        with translation.override("es"):
            assert long_date(moment) == "5 de diciembre de 2026 a las 14:00 CET"
        with translation.override("de"):
            assert long_date(moment) == "5. Dezember 2026 14:00 CET"
        with translation.override("en"):
            assert long_date(moment) == "5 Dec 2026, 14:00 CET"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "sent", "appealed"),
    [
        ("en", "5 December 2026, 14:00", "You appealed on 6 December 2026."),
        ("es", "5 de diciembre de 2026 a las 14:00", "Presentaste el recurso el 6 de diciembre de 2026."),
        ("de", "5. Dezember 2026 14:00", "Du hast am 6. Dezember 2026 Einspruch eingelegt."),
    ],
)
def test_a_reports_page_writes_its_dates_as_its_language_does(client, user, settings, language, sent, appealed):
    """Not one English pattern with translated month names ("5 diciembre 2026", "5 Dezember 2026")."""
    settings.TIME_ZONE = "UTC"
    moment = timezone.make_aware(timezone.datetime(2026, 12, 5, 14, 0), timezone.get_fixed_timezone(0))
    report = ReportFactory(reporter=user, status=ReportStatus.DISMISSED)
    Report.objects.filter(pk=report.pk).update(created_at=moment)
    appeal = enforcement.appeal_file(actor=user, report_id=report.pk, text="Please look again.", attachment=None)
    type(appeal).objects.filter(pk=appeal.pk).update(created_at=moment + timezone.timedelta(days=1))
    client.force_login(user)
    html = client.get(reverse("reports:detail", args=[report.pk]), HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert f"<dd>{sent}</dd>" in html
    assert appealed in html


# --- the switcher -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_every_page_has_a_language_switcher_that_works_without_javascript(client, people):
    reporter = people[0]
    for url in (reverse("home"), reverse("login"), reverse("reports:complaint")):
        html = get(client, url, "en")
        assert f'action="{reverse("set_language")}"' in html and 'name="language"' in html
        assert '<option value="es" lang="es"' in html and '<option value="de" lang="de"' in html
    client.force_login(reporter)
    html = get(client, reverse("reports:mine"), "en")
    assert f'action="{reverse("set_language")}"' in html and 'name="next" value="/report/mine/"' in html


@pytest.mark.django_db
def test_the_switcher_changes_the_language_and_it_sticks_to_the_account(client, people):
    reporter = people[0]
    client.force_login(reporter)
    response = client.post(reverse("set_language"), {"language": "de", "next": reverse("reports:mine")})
    assert response.status_code == 302 and response.url == reverse("reports:mine")
    assert Profile.objects.get(user=reporter).language == "de"
    # The browser asks for English; the account says German.
    assert "Meine Meldungen" in get(client, reverse("reports:mine"), "en")
    # Another browser (no cookie, no session): signing in brings the account's language back.
    other = client.__class__()
    other.post(reverse("login"), {"username": reporter.username, "password": PASSWORD}, HTTP_ACCEPT_LANGUAGE="en")
    page = other.get(reverse("reports:mine"), HTTP_ACCEPT_LANGUAGE="en")
    assert page["Content-Language"] == "de" and "Meine Meldungen" in page.content.decode()
    # Choosing again changes it everywhere; a language that is not offered changes nothing.
    other.post(reverse("set_language"), {"language": "es", "next": "/"})
    other.post(reverse("set_language"), {"language": "fr", "next": "/"})
    assert Profile.objects.get(user=reporter).language == "es"
    assert "Mis denuncias" in other.get(reverse("reports:mine")).content.decode()


@pytest.mark.django_db
def test_a_language_chosen_before_signing_in_is_kept_on_the_account(client, people):
    reporter = people[0]
    client.post(reverse("set_language"), {"language": "es", "next": reverse("login")})
    assert not Profile.objects.filter(user=reporter, language="es").exists()
    client.post(reverse("login"), {"username": reporter.username, "password": PASSWORD})
    assert Profile.objects.get(user=reporter).language == "es"


@pytest.mark.django_db
def test_without_a_chosen_language_mail_follows_the_language_last_signed_in_with(
    client, moderator, people, django_capture_on_commit_callbacks
):
    _reporter, reported, target = people
    client.post(reverse("login"), {"username": reported.username, "password": PASSWORD}, HTTP_ACCEPT_LANGUAGE="de")
    profile = Profile.objects.get(user=reported)
    assert profile.language == "" and profile.seen_language == "de"
    with django_capture_on_commit_callbacks(execute=True):
        decide(moderator, ReportFactory(target=target), ActionKind.WARNING)
    assert Notice.objects.get(recipient=reported).subject == "Du hast eine Verwarnung erhalten"


@pytest.mark.django_db
def test_english_stays_the_default(client, people):
    html = get(client, reverse("home"), "")
    assert '<html lang="en"' in html and "Report harmful content safely" in html
    assert "Report harmful content safely" in get(client, reverse("home"), "fr")


def test_api_errors_follow_the_request_language(client, db):
    response = client.post("/api/reports", data="{not json", content_type="application/json", HTTP_ACCEPT_LANGUAGE="de")
    assert response.status_code in (400, 401, 403)
    assert response["Content-Language"] == "de"


def test_a_label_in_a_sentence_is_lowered_as_its_language_writes_it():
    from config.i18n import in_sentence

    with translation.override("en"):
        assert in_sentence(ReportStatus.REVIEWED.label) == "reviewed"
    with translation.override("es"):
        assert in_sentence(ReportStatus.RESOLVED.label) == "resuelta"
        assert in_sentence(TargetKind.MESSAGE.label, noun=True) == "mensaje de chat"
    with translation.override("de"):
        assert in_sentence(ReportStatus.REVIEWED.label) == "in Prüfung"  # a noun inside a state keeps its capital
        assert in_sentence(ReportStatus.RESOLVED.label) == "erledigt"
        assert in_sentence(TargetKind.MESSAGE.label, noun=True) == "Chatnachricht"


# --- the moderators' and compliance officers' panel ---------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("language", LANGUAGES)
def test_the_panel_reads_in_the_staff_members_language(
    client, moderator, compliance, people, language, django_capture_on_commit_callbacks
):
    """The queue, a report, the decision form, the dashboard, the appeals, a sanction, an account
    and the audit log, as a moderator or a compliance officer whose browser asks for Spanish or
    German: no English word of the panel's own left (the data is as it was written)."""
    reporter, reported, target = people
    report = ReportFactory(target=target, reporter=reporter, reason="Frobnitz snark plonk quuxly.")
    open_report = ReportFactory(target=TargetFactory(owner=reported, title="plonk"), reporter=reporter)
    with django_capture_on_commit_callbacks(execute=True):
        [suspension] = decide(moderator, report, ActionKind.SUSPENSION, ends_at=in_a_day())
    enforcement.appeal_file(actor=reported, sanction_id=suspension.pk, text="Frobnitz.")
    # The open report's history: an assignment and an escalation (their fields' labels, translated).
    moderation.report_assign(actor=moderator, report_id=open_report.pk, assignee=moderator)
    moderation.report_escalate(actor=moderator, report_id=open_report.pk, reason="Plonk snark.")
    # A machine's report (a detector's signals) and a story waiting for review before publication.
    detector = Detector.objects.create(name="hate-speech-model")
    SignalPolicy.objects.create(detector=detector, category="", floor="0.1", review_threshold="0.5")
    signals_on(TargetFactory(owner=reported, title="plonk"), 2, top="0.93")
    automated = Report.objects.get(channel=ReportChannel.AUTOMATED)
    story = submit("story-plonk", title="plonk snark", caption="Frobnitz plonk").story
    # What people and the platform wrote (the factories' reasons and snapshots, the decision's
    # statement and ground).
    data = {"moderator1", "compliance1", "zorblax", "quuxly", "plonk", "Frobnitz", "snark", "manage"}
    data |= set(re.findall(r"[^\W\d_]{4,}", report.reason + open_report.reason + target.snapshot_text))
    data |= set(re.findall(r"[^\W\d_]{4,}", str(Report.objects.values_list("admin_notes", flat=True)[::1])))
    data |= set(re.findall(r"[^\W\d_]{4,}", suspension.facts + suspension.ground + suspension.ladder_override_reason))
    data |= {"room", "pathetic", "next"}  # the snapshot's platform fields; a button's form value
    # The machine's report: the reason the service wrote for it, the detector's labels, the video's address.
    data |= set(re.findall(r"[^\W\d_]{4,}", automated.reason)) | {"slur", "https"}
    # The audit log alone shows what is stored as it is stored (event types, object types, each
    # event's recorded fields): codes, not words of the panel, and exempt on that page only.
    stored = {
        word
        for event in AuditEvent.objects.all()
        for word in re.findall(
            r"[^\W\d_]{4,}", f"{event.event_type} {event.object_type} {event.before} {event.after} {event.data}"
        )
    }
    stored |= set(re.findall(r"[^\W\d_]{4,}", " ".join([*EVENT_TYPES, *OBJECT_TYPES])))
    pages = {
        moderator: [
            reverse("moderation:queue"),
            reverse("moderation:queue") + "?status=all",
            reverse("moderation:report", args=[open_report.pk]),
            reverse("moderation:report", args=[report.pk]),
            reverse("enforcement:decide", args=[open_report.pk]),
            reverse("enforcement:sanction", args=[suspension.pk]),
            reverse("enforcement:account", args=[reported.pk]),
            reverse("moderation:report", args=[automated.pk]),
            reverse("stories:queue"),
            reverse("stories:story", args=[story.pk]),
        ],
        compliance: [
            reverse("dashboard"),
            reverse("enforcement:appeals"),
            reverse("audit:log"),
        ],
    }
    left = {}
    for staff, urls in pages.items():
        client.force_login(staff)
        for url in urls:
            english, other = get(client, url, "en"), get(client, url, language)
            assert f'<html lang="{language}"' in other
            exempt = data | stored if url == reverse("audit:log") else data
            words = english_left(english, other, data=exempt) | set(english_sentences(visible(other), language))
            if words:
                left[url] = sorted(words)
    assert left == {}


@pytest.mark.django_db
def test_what_the_code_records_is_english_whatever_the_page(moderator, people):
    """A decision taken from a German page: the report's admin notes the service writes name the
    actions in English, the language of the record, not in the moderator's."""
    _reporter, _reported, target = people
    report = ReportFactory(target=target)
    with translation.override("de"):
        decide(moderator, report, ActionKind.WARNING)
    report.refresh_from_db()
    assert report.admin_notes == "Decision: Warning."
