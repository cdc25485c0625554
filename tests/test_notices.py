"""What the reported person is told in the app: notices titled by what happened, a notice's page in
parts (not its mail), every route of redress in a statement of reasons and whether it followed a
notice (agreeing with the DSA export), the banner on every page, and the sign-in block's link to the
statement of the very decision that keeps the account out."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from moderation.enforcement import services as enforcement
from moderation.enforcement import wording
from moderation.enforcement.actions import ActionKind
from moderation.enforcement.dsa import statement_for_decision
from moderation.enforcement.models import AppealStatus, Notice, NoticeKind, Sanction
from reports.models import ReportChannel
from tests.factories import PASSWORD, ReportFactory
from tests.html import attr, elements, one, text
from tests.test_enforcement import decide, in_a_day

pytestmark = pytest.mark.django_db


@pytest.fixture
def report(user):
    return ReportFactory(reporter=user)


def parse(content: bytes):
    from django.test.html import parse_html

    return parse_html(content.decode())


def _texts(nodes) -> list[str]:
    return [text(node) for node in nodes]


def _section(page, heading: str):
    """The <section> whose <h2> says `heading`."""
    [found] = [s for s in elements(page, "section") if [text(h) for h in elements(s, "h2")] == [heading]]
    return found


def test_a_notice_page_is_a_page_of_parts_not_the_mail(client, moderator, report, settings):
    settings.REDRESS_JUDICIAL_URL = "https://courts.example.org/how-to-sue"
    owner = report.target.owner
    decide(moderator, report, ActionKind.REMOVE_CONTENT, ActionKind.TIMEOUT, ends_at=in_a_day())
    notice = Notice.objects.get(recipient=owner)
    assert notice.subject.startswith("Your message was removed and your account is timed out until ")
    client.force_login(owner)
    page = parse(client.get(reverse("enforcement:notice", args=[notice.pk])).content)
    article = one(page, "article", class_="notice")
    assert _texts(elements(page, "h1")) == [notice.subject]
    assert _texts(elements(article, "h2")) == [
        "What we decided",
        "Why",
        "The rule",
        "How this decision was taken",
        "How to appeal",
        "Other ways to challenge it",
    ]
    decided = _texts(elements(_section(page, "What we decided"), "li"))
    assert decided[0] == "Your message was removed"
    assert decided[1].startswith("Your account is timed out until ") and decided[1].endswith(" UTC")
    links = {attr(a, "href"): text(a) for a in elements(article, "a")}
    assert links["#appeal"] == "Appeal this decision" and elements(one(page, id="appeal"), "form")
    assert links[settings.REDRESS_OUT_OF_COURT_URL] == "The certified out-of-court dispute settlement bodies"
    assert links["https://courts.example.org/how-to-sue"] == "Going to court"
    words = text(article)
    assert "-- Trust & Safety" not in words and "Hello" not in words and "http" not in words


def test_the_statement_names_every_route_of_redress_and_the_notice_it_followed(moderator, report, settings):
    settings.REDRESS_OUT_OF_COURT_TEXT = "Ask the Dispute Board in Dublin."
    settings.REDRESS_OUT_OF_COURT_URL = "https://odr.example.org/"
    settings.REDRESS_JUDICIAL_TEXT = "Or go to the district court."
    removal, _ = decide(moderator, report, ActionKind.REMOVE_CONTENT, ActionKind.WARNING)
    body = Notice.objects.get(recipient=report.target.owner).body
    assert "- Ask the Dispute Board in Dublin. The certified bodies: https://odr.example.org/" in body
    assert "- Or go to the district court." in body
    assert "this decision followed a notice: someone reported this content to us" in body
    assert report.reporter.username not in body
    # The DSA export says the same: an Article 16 notice.
    statement = statement_for_decision(list(Sanction.objects.filter(decision_id=removal.decision_id)))
    assert statement["source_type"] == "SOURCE_ARTICLE_16"


def test_a_decision_on_automated_detection_says_own_initiative_like_the_export(client, moderator):
    report = ReportFactory(channel=ReportChannel.AUTOMATED, reporter=None)
    [removal] = decide(moderator, report, ActionKind.REMOVE_CONTENT)
    notice = Notice.objects.get(recipient=report.target.owner)
    assert "we took this decision on our own initiative, after automated tools flagged the content" in notice.body
    client.force_login(report.target.owner)
    page = parse(client.get(reverse("enforcement:notice", args=[notice.pk])).content)
    how = text(_section(page, "How this decision was taken"))
    assert "We took it on our own initiative, after automated tools flagged the content." in how
    statement = statement_for_decision(list(Sanction.objects.filter(decision_id=removal.decision_id)))
    assert statement["source_type"] == "SOURCE_VOLUNTARY" and statement["automated_detection"] == "Yes"


def test_notices_are_listed_by_what_happened_and_the_unread_ones_are_marked(client, moderator, compliance, report):
    owner = report.target.owner
    [suspension] = decide(moderator, report, ActionKind.SUSPENSION, ends_at=in_a_day())
    enforcement.sanction_lift(actor=compliance, sanction_id=suspension.pk, reason="Identity confirmed; a mix-up.")
    client.force_login(owner)
    page = parse(client.get(reverse("enforcement:notices")).content)
    listing = one(page, "ul", class_="notices")
    titles = _texts(elements(listing, "a"))
    assert titles == ["The suspension of your account was lifted", wording.decision_subject([suspension])]
    assert titles[1].startswith("Your account is suspended until ")
    assert len(elements(listing, "li", class_="unread")) == 2


def test_opening_a_notice_marks_it_read_once_with_an_audit_event(client, moderator, report):
    owner = report.target.owner
    decide(moderator, report, ActionKind.WARNING)
    notice = Notice.objects.get(recipient=owner)
    client.force_login(owner)
    for _ in range(2):
        assert client.get(reverse("enforcement:notice", args=[notice.pk])).status_code == 200
    notice.refresh_from_db()
    assert notice.read_at is not None
    [event] = AuditEvent.objects.filter(event_type="notice.read", object_id=str(notice.pk))
    assert event.actor == owner


def test_someone_elses_notice_is_404_and_not_marked_read(client, moderator, report, user):
    decide(moderator, report, ActionKind.WARNING)
    notice = Notice.objects.get(recipient=report.target.owner)
    client.force_login(user)
    assert client.get(reverse("enforcement:notice", args=[notice.pk])).status_code == 404
    notice.refresh_from_db()
    assert notice.read_at is None


def test_every_page_has_the_banner_with_the_restriction_and_the_unread_notices(client, moderator, report):
    owner = report.target.owner
    [timeout] = decide(moderator, report, ActionKind.TIMEOUT, ends_at=in_a_day())
    client.force_login(owner)
    for name in ("reports:demo", "reports:mine", "reports:account"):
        banner = one(parse(client.get(reverse(name)).content), "section", class_="account-banner")
        assert f"Your account is timed out until {wording.long_date(timeout.ends_at)}." in text(banner), name
        assert "You have 1 unread notice about your account." in text(banner)
        assert [(text(a), attr(a, "href")) for a in elements(banner, "a")] == [
            ("Read it", reverse("enforcement:notices"))
        ]
    client.get(reverse("enforcement:notice", args=[Notice.objects.get(recipient=owner).pk]))
    banner = one(parse(client.get(reverse("reports:mine")).content), "section", class_="account-banner")
    assert "unread" not in text(banner) and "Why, and how to appeal" in text(banner)


def test_no_banner_for_an_account_with_nothing_to_say(client, user):
    client.force_login(user)
    assert not elements(parse(client.get(reverse("reports:mine")).content), class_="account-banner")


def test_the_banner_costs_no_query_for_an_account_without_restrictions(client, user, other_user):
    """Its count comes with the session's account (the same one query): a page costs what it did."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import NoticeFactory

    NoticeFactory(recipient=user)
    counts = []
    for account in (user, other_user):  # with an unread notice (a banner), and without
        client.force_login(account)
        client.get(reverse("reports:mine"))
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("reports:mine"))
        counts.append(len(queries))
        assert ("1 unread notice" in response.content.decode()) is (account == user)
    assert counts[0] == counts[1]


def test_the_sign_in_block_opens_the_statement_of_that_decision_not_a_later_notice(
    client, moderator, compliance, report, django_capture_on_commit_callbacks
):
    """The statement of a removal-and-suspension is filed under the removal; the suspension that
    keeps the account out has only the appeal's decision attached. The link still opens the statement."""
    owner = report.target.owner
    removal, suspension = decide(
        moderator, report, ActionKind.REMOVE_CONTENT, ActionKind.SUSPENSION, ends_at=in_a_day()
    )
    statement = Notice.objects.get(kind=NoticeKind.STATEMENT_OF_REASONS)
    assert statement.sanction == removal
    appeal = enforcement.appeal_file(actor=owner, sanction_id=suspension.pk, text="It was not me.")
    enforcement.appeal_decide(
        actor=compliance, appeal_id=appeal.pk, outcome=AppealStatus.UPHELD, reason="The logs show it was."
    )
    assert Notice.objects.get(kind=NoticeKind.APPEAL_DECISION).sanction == suspension

    login = parse(client.post(reverse("login"), {"username": owner.username, "password": PASSWORD}).content)
    [link] = [a for a in elements(login, "a") if "statement of reasons" in text(a)]
    page = parse(client.get(attr(link, "href")).content)
    assert _texts(elements(page, "h1")) == [statement.subject]
    assert "What we decided" in _texts(elements(one(page, "article", class_="notice"), "h2"))
    statement.refresh_from_db()
    assert statement.read_at is not None  # opened by the account, through its signed link


def test_an_appeal_decision_links_to_the_statement_it_was_about(client, moderator, compliance, report):
    owner = report.target.owner
    [warning] = decide(moderator, report, ActionKind.WARNING)
    appeal = enforcement.appeal_file(actor=owner, sanction_id=warning.pk, text="I was quoting him.")
    enforcement.appeal_decide(actor=compliance, appeal_id=appeal.pk, outcome=AppealStatus.REVERSED, reason="Agreed.")
    decision = Notice.objects.get(kind=NoticeKind.APPEAL_DECISION)
    assert decision.subject == "Your appeal was successful: the decision was reversed"
    client.force_login(owner)
    page = parse(client.get(reverse("enforcement:notice", args=[decision.pk])).content)
    statement = Notice.objects.get(kind=NoticeKind.STATEMENT_OF_REASONS)
    hrefs = [attr(a, "href") for a in elements(one(page, "article", class_="notice"), "a")]
    assert reverse("enforcement:notice", args=[statement.pk]) in hrefs
    assert not elements(page, id="appeal")  # an appeal's decision is not appealed again here


def test_a_misuse_notice_keeps_what_it_said_and_shows_it_as_a_page(client, moderator, settings):
    from moderation.enforcement.notices import misuse

    settings.MISUSE_WINDOW_DAYS = 90
    reporter = ReportFactory().target.owner
    until = timezone.now() + timedelta(days=30)
    notice = misuse(actor=moderator, account=reporter, paused_until=until, count=5)
    assert notice.subject == f"We have paused your reports until {wording.short_date(until)}"
    assert notice.details["count"] == 5
    mail.outbox.clear()
    client.force_login(reporter)
    page = parse(client.get(reverse("enforcement:notice", args=[notice.pk])).content)
    words = text(one(page, "article", class_="notice"))
    assert "In the last 90 days, 5 of your reports were found to be manifestly unfounded" in words
    assert f"until {until:%-d %B %Y}" in words


@pytest.mark.parametrize(("status", "said"), [("dismissed", "we found no violation"), ("resolved", "we took action")])
def test_the_reporters_outcome_mail_says_what_happened(
    moderator, report, status, said, django_capture_on_commit_callbacks
):
    from moderation import services as moderation_services

    with django_capture_on_commit_callbacks(execute=True):
        moderation_services.report_review(actor=moderator, report_id=report.pk, status=status)
    [outcome] = [m for m in mail.outbox if m.to == [report.reporter.email]]
    assert outcome.subject == f"Your report {report.short_id}: {said}"
