"""Who is signed in and what they may do: Django's ModelBackend with permissions and role read in one
query. Sanctions' effect on sign-in is enforcement's (moderation/enforcement/signin.py)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import Group, Permission
from django.db.models import CharField, OuterRef, Value
from django.db.models.functions import Now
from django.http import HttpRequest

from config.prepared import PreparedQuery
from moderation.enforcement.selectors import restricted, sign_in_blocked, unread_notice_count
from moderation.roles import role_from_groups


def _session_account(user_id: int):
    """The session's account with what every page's banner says (enforcement's account_banner):
    whether a sanction keeps it out, notices not yet read, and whether a restriction is in force;
    subqueries of the same query, at the database's now() (so that the SQL holds no time)."""
    return (
        get_user_model()
        ._default_manager.annotate(
            _sign_in_blocked=sign_in_blocked(OuterRef("pk"), at=Now()),
            _unread_notices=unread_notice_count(OuterRef("pk")),
            _restricted=restricted(OuterRef("pk"), at=Now()),
        )
        .filter(pk=user_id)
    )


def _permissions_and_roles(own: int, via_group: int, role: int):
    """(kind, app label, codename or group name) of an account's own permissions, its groups'
    permissions and its group names, in one UNION ALL. One id per branch: each is its own parameter."""

    def kind(name: str):
        return Value(name, output_field=CharField())

    return (
        Permission.objects.filter(user=own)
        .order_by()
        .annotate(kind=kind("user"))
        .values_list("kind", "content_type__app_label", "codename")
        .union(
            Permission.objects.filter(group__user=via_group)
            .order_by()
            .annotate(kind=kind("group"))
            .values_list("kind", "content_type__app_label", "codename"),
            Group.objects.filter(user=role)
            .order_by()
            .annotate(kind=kind("role"), app=kind(""))
            .values_list("kind", "app", "name"),
            all=True,
        )
    )


# Both run on every signed-in request, so compiled once per thread (config/prepared.py): building
# and compiling them through the ORM was about a third of the CPU of a small signed-in request (a
# queue's live poll: 12.7 of 24 ms under cProfile). Markers: ids no account has.
_SESSION_ACCOUNT = PreparedQuery(_session_account, markers={"user_id": -2_147_000_011})
_PERMISSIONS_AND_ROLES = PreparedQuery(
    _permissions_and_roles, markers={"own": -2_147_000_012, "via_group": -2_147_000_013, "role": -2_147_000_014}
)


class RoleAwareBackend(ModelBackend):
    """Django's ModelBackend, reading an account's permissions and role groups in one query (a
        UNION ALL) instead of three per request: its own permissions, its groups' permissions, and its
        group names for `moderation.roles.role_of`, which every page's navigation asks. The session's
        account is loaded with whether a sanction keeps it out (for SanctionedSessionMiddleware), and with
    what every page's banner says about it."""

    def get_user(self, user_id):
        found = _SESSION_ACCOUNT.run(user_id=int(user_id))
        user = found[0] if found else None
        return user if user is not None and self.user_can_authenticate(user) else None

    def get_all_permissions(self, user_obj, obj=None):
        wanted = user_obj.is_active and not user_obj.is_anonymous and obj is None and not user_obj.is_superuser
        if wanted and not hasattr(user_obj, "_perm_cache"):
            self._load(user_obj)
        return super().get_all_permissions(user_obj, obj)

    @staticmethod
    def _load(user_obj) -> None:
        rows = _PERMISSIONS_AND_ROLES.run(own=user_obj.pk, via_group=user_obj.pk, role=user_obj.pk)
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
