"""Which language a person reads: on their pages, and in the mail and notices written to them.

Pages: Django's LocaleMiddleware picks the language switcher's cookie, else Accept-Language, else
LANGUAGE_CODE; for a signed-in person AccountLanguageMiddleware then applies the language stored
on their account (reports.models.Profile), copied into the session at sign-in so that no page pays
a query for it. The switcher (every page's header, templates/base.html) posts to `set_language`
here: Django's own view (the cookie and the redirect back), plus the account.

Mail and notices: `recipient_language` names the recipient's language (the account's, else the
language the report or complaint was sent in) and `language_of` switches to it around the code that
writes the subject and body (translation.override), so that a moderator's Spanish page never writes
a German reporter's mail in Spanish.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language

from reports.models import Profile

#: The account's language, in the session of a signed-in person (set at sign-in and by the switcher).
SESSION_KEY = "account_language"


def supported(language: str | None) -> str:
    """`language` if it is one of settings.LANGUAGES (or a regional form of one: "es-mx" -> "es"),
    else ""."""
    if not language:
        return ""
    try:
        return translation.get_supported_language_variant(language)
    except LookupError:
        return ""


class AccountLanguageMiddleware:
    """After LocaleMiddleware and AuthenticationMiddleware: a signed-in person's pages are in the
    language stored on their account, whatever the browser says. Read from the session (no query);
    only requests that carry a session cookie look at it."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if settings.SESSION_COOKIE_NAME in request.COOKIES:
            language = supported(request.session.get(SESSION_KEY))
            if language:
                translation.activate(language)
                request.LANGUAGE_CODE = translation.get_language()
        return self.get_response(request)


@receiver(user_logged_in)
def _account_language_at_sign_in(sender, request: HttpRequest | None, user, **kwargs) -> None:
    """At sign-in the account's language goes into the session. An account without one takes the
    language the person chose with the switcher before signing in (its cookie), if any; the language
    they signed in with is remembered either way, for mail when nothing was chosen."""
    if request is None or not hasattr(request, "session"):
        return
    from reports.services import account_language_seen, account_language_set  # they mail through here

    stored = supported(Profile.objects.filter(user=user).values_list("language", flat=True).first())
    if not stored:
        chosen = supported(request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME))
        if chosen:
            account_language_set(actor=user, language=chosen)
            stored = chosen
    account_language_seen(actor=user, language=stored or supported(getattr(request, "LANGUAGE_CODE", "")))
    if stored:
        request.session[SESSION_KEY] = stored
        translation.activate(stored)
        request.LANGUAGE_CODE = stored


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """The language switcher: Django's set_language (the cookie, and back to the page it was sent
    from), and for a signed-in person the language kept on their account and in their session."""
    response = django_set_language(request)
    language = supported(request.POST.get("language"))
    if language and request.user.is_authenticated:
        from reports.services import account_language_set  # the services mail through this module

        account_language_set(actor=request.user, language=language)
        request.session[SESSION_KEY] = language
    return response


def recipient_language(*, account=None, sent_in: str = "") -> str:
    """The language to write to a person in: the one chosen on their account, else the one their
    report or complaint was sent in, else the one they last signed in with, else the site's default.
    `account` may carry its profile already (select_related("reporter__profile")); otherwise this
    reads it (one query)."""
    chosen = seen = ""
    if account is not None:
        with suppress(Profile.DoesNotExist):
            chosen, seen = account.profile.language, account.profile.seen_language
    return supported(chosen) or supported(sent_in) or supported(seen) or settings.LANGUAGE_CODE


@contextmanager
def language_of(*, account=None, sent_in: str = "") -> Iterator[str]:
    """``with language_of(account=user): ...``: what is written inside is in that person's language."""
    language = recipient_language(account=account, sent_in=sent_in)
    with translation.override(language):
        yield language


#: Languages that write their nouns with a capital inside a sentence too.
_CAPITALISED_NOUNS = {"de"}


def in_sentence(label: object, *, noun: bool = False) -> str:
    """A choice's label set inside a sentence. English and Spanish lowercase it ("already resolved").
    German lowercases a state's first letter ("bereits erledigt", "in Prüfung") and keeps a noun as
    it is ("Nachricht", "Verwarnung"): pass noun=True for kinds of things, not for states."""
    text = str(label)
    if translation.get_language() not in _CAPITALISED_NOUNS:
        return text.lower()
    return text if noun else text[:1].lower() + text[1:]


def in_english(label: object) -> str:
    """A label inside a record the code writes (a report's reason, an escalation's): in the code's
    language, whatever language the page that caused it was in, so that no record is half German."""
    with translation.override("en"):
        return str(label)
