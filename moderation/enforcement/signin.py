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
from django.shortcuts import redirect

from config import throttle
from moderation.enforcement.notices import appeal_token
from moderation.enforcement.selectors import sign_in_block


class SanctionAwareAuthenticationForm(AuthenticationForm):
    """Sign-in that is throttled (per username and per address) and that refuses a suspended or
    terminated account, but only after the right password, so that the reason, the end and the
    appeal link are shown to the account's owner and nobody else."""

    sanction_block = None
    # bandit B105: a signed appeal link, not a password
    appeal_token = ""  # nosec B105

    def clean(self):
        username = (self.data.get("username") or "").strip().lower()
        window = settings.LOGIN_ATTEMPTS_WINDOW_SECONDS
        # Per username, to stop guessing one password; per address (higher, offices share one) to
        # stop spraying many usernames. Only the username's count is reset by a success.
        subjects = [
            ("login-user", username, settings.LOGIN_ATTEMPTS_LIMIT),
            ("login-ip", throttle.client_ip(self.request) if self.request else "", settings.LOGIN_ATTEMPTS_PER_ADDRESS),
        ]
        for scope, subject, limit in subjects:
            wait = throttle.retry_after(scope=scope, subject=subject, limit=limit, window=window)
            if wait is not None:
                raise ValidationError(
                    f"Too many failed sign-in attempts. Try again in {max(1, wait // 60)} minute(s).",
                    code="throttled",
                )
        try:
            cleaned = super().clean()
        except ValidationError as error:
            if error.code == "invalid_login" or any(e.code == "invalid_login" for e in error.error_list):
                for scope, subject, _limit in subjects:
                    throttle.hit(scope=scope, subject=subject, window=window)
            raise
        throttle.reset(scope="login-user", subject=username, window=window)
        return cleaned

    def confirm_login_allowed(self, user) -> None:
        super().confirm_login_allowed(user)
        block = sign_in_block(account=user)
        if block is not None:
            self.sanction_block = block
            self.appeal_token = appeal_token(sanction=block)
            until = f"until {block.ends_at:%d %B %Y, %H:%M} UTC" if block.ends_at else "permanently"
            raise ValidationError(f"This account is {block.get_kind_display().lower()} {until}.", code="sanctioned")


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
                return JsonResponse({"detail": "This account is suspended."}, status=403)
            messages.error(request, "Your account is suspended. Sign in again to see why and how to appeal.")
            return redirect("login")
        return self.get_response(request)
