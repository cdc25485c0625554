"""Sign-in and sessions respect suspensions and terminations, checked on every access."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, logout
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.db.models import CharField, OuterRef, Value
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect

from config import throttle
from moderation.enforcement import sign_in_block, sign_in_blocked
from moderation.notices import appeal_token
from moderation.roles import role_from_groups


class RoleAwareBackend(ModelBackend):
    """Django's ModelBackend, reading an account's permissions and role groups in one query (a
    UNION ALL) instead of three per request: its own permissions, its groups' permissions, and its
    group names for `moderation.roles.role_of`, which every page's navigation asks. The session's
    account is loaded with whether a sanction keeps it out (for SanctionedSessionMiddleware)."""

    def get_user(self, user_id):
        accounts = get_user_model()._default_manager.annotate(_sign_in_blocked=sign_in_blocked(OuterRef("pk")))
        user = accounts.filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None

    def get_all_permissions(self, user_obj, obj=None):
        wanted = user_obj.is_active and not user_obj.is_anonymous and obj is None and not user_obj.is_superuser
        if wanted and not hasattr(user_obj, "_perm_cache"):
            self._load(user_obj)
        return super().get_all_permissions(user_obj, obj)

    @staticmethod
    def _load(user_obj) -> None:
        def kind(name: str):
            return Value(name, output_field=CharField())

        rows = (
            Permission.objects.filter(user=user_obj)
            .order_by()
            .annotate(kind=kind("user"))
            .values_list("kind", "content_type__app_label", "codename")
            .union(
                Permission.objects.filter(group__user=user_obj)
                .order_by()
                .annotate(kind=kind("group"))
                .values_list("kind", "content_type__app_label", "codename"),
                Group.objects.filter(user=user_obj)
                .order_by()
                .annotate(kind=kind("role"), app=kind(""))
                .values_list("kind", "app", "name"),
                all=True,
            )
        )
        found: dict[str, set[str]] = {"user": set(), "group": set(), "role": set()}
        for row_kind, app_label, name in rows:
            found[row_kind].add(f"{app_label}.{name}" if row_kind != "role" else name)
        # The caches ModelBackend and role_of read (set together, so they always agree).
        user_obj._user_perm_cache = found["user"]
        user_obj._group_perm_cache = found["group"]
        user_obj._perm_cache = found["user"] | found["group"]
        user_obj._role_cache = role_from_groups(found["role"])


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
