"""Sign-in and sessions respect suspensions and terminations, checked on every access: the sign-in
form refuses a sanctioned account (after the right password, with the reason, the end and the appeal
link), and the middleware ends the session of an account suspended while it was signed in."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from config import throttle
from moderation.enforcement.notices import appeal_token
from moderation.enforcement.selectors import sign_in_block
from moderation.enforcement.wording import sign_in_block_message


def too_many_attempts(minutes: int) -> str:
    minutes = max(1, minutes)
    return ngettext(
        "Too many failed sign-in attempts. Try again in %(minutes)s minute.",
        "Too many failed sign-in attempts. Try again in %(minutes)s minutes.",
        minutes,
    ) % {"minutes": minutes}


def sign_in_locked_out(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """django-axes' AXES_LOCKOUT_CALLABLE: this name from this address failed LOGIN_ATTEMPTS_LIMIT
    times. Our sign-in page again, saying so, with 429; the same name from elsewhere is unaffected."""
    messages.error(request, too_many_attempts(settings.LOGIN_ATTEMPTS_WINDOW_SECONDS // 60))
    form = SanctionAwareAuthenticationForm(request, initial={"username": request.POST.get("username", "")})
    return render(request, "registration/login.html", {"form": form}, status=429)


class SanctionAwareAuthenticationForm(AuthenticationForm):
    """Sign-in that is throttled and that refuses a suspended or terminated account, but only after
    the right password, so that the reason, the end and the appeal link are shown to the account's
    owner and nobody else.

    Throttled by source, never by victim: django-axes (first in AUTHENTICATION_BACKENDS) locks a
    (name, address) pair after LOGIN_ATTEMPTS_LIMIT failures (keyed by moderation.auth.sign_in_name),
    and this form refuses an address after LOGIN_ATTEMPTS_PER_ADDRESS failures over all names
    (spraying). The right password from another address always gets through.
    """

    sanction_block = None
    # bandit B105: a signed appeal link, not a password
    appeal_token = ""  # nosec B105

    def clean(self):
        window = settings.LOGIN_ATTEMPTS_WINDOW_SECONDS
        address = throttle.client_ip(self.request) if self.request else ""
        limit = settings.LOGIN_ATTEMPTS_PER_ADDRESS
        wait = throttle.retry_after(scope="login-ip", subject=address, limit=limit, window=window)
        if wait is not None:
            raise ValidationError(too_many_attempts(wait // 60), code="throttled")
        try:
            return super().clean()
        except ValidationError as error:
            if error.code == "invalid_login" or any(e.code == "invalid_login" for e in error.error_list):
                throttle.hit(scope="login-ip", subject=address, window=window)
            raise

    def confirm_login_allowed(self, user) -> None:
        super().confirm_login_allowed(user)
        block = sign_in_block(account=user)
        if block is not None:
            self.sanction_block = block
            self.appeal_token = appeal_token(sanction=block)
            raise ValidationError(sign_in_block_message(block), code="sanctioned")


def _blocked(user) -> bool:
    # RoleAwareBackend.get_user loaded the answer with the account; another backend's user is asked.
    blocked = getattr(user, "_sign_in_blocked", None)
    return sign_in_block(account=user) is not None if blocked is None else blocked


class SanctionedSessionMiddleware:
    """Ends the session of an account suspended while it was signed in."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and _blocked(user):
            logout(request)
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": _("This account is suspended.")}, status=403)
            messages.error(request, _("Your account is suspended. Sign in again to see why and how to appeal."))
            return redirect("login")
        return self.get_response(request)
