"""Sign-in and sessions respect suspensions and terminations, checked on every access."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from moderation.enforcement import sign_in_block
from moderation.notices import appeal_token


class SanctionAwareAuthenticationForm(AuthenticationForm):
    """Refuses a suspended or terminated account, but only after the right password, so that the
    reason, the end and the appeal link are shown to the account's owner and nobody else."""

    sanction_block = None
    appeal_token = ""

    def confirm_login_allowed(self, user) -> None:
        super().confirm_login_allowed(user)
        block = sign_in_block(account=user)
        if block is not None:
            self.sanction_block = block
            self.appeal_token = appeal_token(sanction=block)
            until = f"until {block.ends_at:%d %B %Y, %H:%M} UTC" if block.ends_at else "permanently"
            raise ValidationError(f"This account is {block.get_kind_display().lower()} {until}.", code="sanctioned")


class SanctionedSessionMiddleware:
    """Ends the session of an account suspended while it was signed in."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and sign_in_block(account=user) is not None:
            logout(request)
            messages.error(request, "Your account is suspended. Sign in again to see why and how to appeal.")
            return redirect("login")
        return self.get_response(request)
