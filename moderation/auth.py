"""Sign-in and sessions respect suspensions and terminations, checked on every access."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, logout
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.db.models import CharField, OuterRef, Value
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render

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


def sign_in_name(username: str) -> str:
    """The key failed sign-ins are counted under: the name as Django signs it in (stripped, NFKC, as
    the sign-in form's UsernameField does), casefolded. "ｒｏｓａ", "rｏsa" and "Rosa" are one name,
    not three with five tries each."""
    return AbstractBaseUser.normalize_username(username.strip()).casefold()


def axes_username(request: HttpRequest, credentials: dict | None) -> str:
    """django-axes' AXES_USERNAME_CALLABLE: lockouts count per normalised name (and address)."""
    raw = (credentials or {}).get("username") or request.POST.get("username") or ""
    return sign_in_name(str(raw))


def sign_in_attempts_limit(request: HttpRequest, credentials: dict | None) -> int:
    """django-axes' AXES_FAILURE_LIMIT: failures of one name from one address before a lockout."""
    return settings.LOGIN_ATTEMPTS_LIMIT


def sign_in_lockout_time(request: HttpRequest | None = None) -> timedelta:
    """django-axes' AXES_COOLOFF_TIME: how long a lockout lasts after the last failure."""
    return timedelta(seconds=settings.LOGIN_ATTEMPTS_WINDOW_SECONDS)


def too_many_attempts(minutes: int) -> str:
    return f"Too many failed sign-in attempts. Try again in {max(1, minutes)} minute(s)."


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
    (name, address) pair after LOGIN_ATTEMPTS_LIMIT failures, and this form refuses an address after
    LOGIN_ATTEMPTS_PER_ADDRESS failures over all names (spraying). The right password from another
    address always gets through.
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
