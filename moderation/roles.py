"""Roles and their rights: the one table. Groups are created from it by migrations.

Any signed-in account without a role is a "user": they file reports and see only their own.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.utils.translation import gettext_lazy

MODERATOR, COMPLIANCE, ADMIN = "moderator", "compliance", "admin"
ROLES = (MODERATOR, COMPLIANCE, ADMIN)
# Highest first: a person in several groups has the highest role.
_ROLE_ORDER = (ADMIN, COMPLIANCE, MODERATOR)

_MODERATOR = {
    "reports.view_queue",
    "reports.review_report",
    "enforcement.apply_basic_action",
}
_COMPLIANCE = _MODERATOR | {
    "reports.view_escalated",
    "audit.view_auditevent",
    "enforcement.apply_severe_action",
    "enforcement.approve_referral",
    "enforcement.lift_sanction",
    "enforcement.view_removed_content",
    "enforcement.decide_appeal",
    "reports.set_legal_hold",
}
_ADMIN = _COMPLIANCE | {
    "reports.reopen_report",
    "reports.mark_trusted_flagger",
    "auth.view_user",
    "auth.add_user",
    "auth.change_user",
    # Detectors and their policies, in Django's admin (moderation/signals/admin.py), each change audited.
    "signals.view_detector",
    "signals.add_detector",
    "signals.change_detector",
    "signals.view_signalpolicy",
    "signals.add_signalpolicy",
    "signals.change_signalpolicy",
    "signals.delete_signalpolicy",
}

ROLE_PERMISSIONS: dict[str, set[str]] = {MODERATOR: _MODERATOR, COMPLIANCE: _COMPLIANCE, ADMIN: _ADMIN}

ROLE_LABELS = {
    MODERATOR: gettext_lazy("Moderator"),
    COMPLIANCE: gettext_lazy("Compliance officer"),
    ADMIN: gettext_lazy("Admin"),
    None: gettext_lazy("User"),
}


def role_of(user: AbstractBaseUser) -> str | None:
    """The user's highest role, or None for an ordinary user. Cached on the user for the request."""
    if not user.is_authenticated:
        return None
    if not hasattr(user, "_role_cache"):
        # moderation.auth.RoleAwareBackend fills this with the permissions; this is the fallback.
        user._role_cache = role_from_groups(set(user.groups.values_list("name", flat=True)))
    return user._role_cache


def role_from_groups(names: set[str]) -> str | None:
    return next((role for role in _ROLE_ORDER if role in names), None)


def is_staff_for(role: str | None) -> bool:
    """Django's is_staff for an account given `role`: only admins reach Django's admin (to manage
    staff); nobody gets is_superuser from a role."""
    return role == ADMIN


def sync_role_groups(apps: Any) -> None:
    """Create or update the role groups with exactly the permissions in ROLE_PERMISSIONS.

    Takes the migration's app registry so that it can run inside migrations.
    """
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        # A migration's app registry has no models_module, which create_permissions requires.
        original = getattr(app_config, "models_module", None)
        app_config.models_module = original or True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = original

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, perms in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        wanted = []
        for dotted in sorted(perms):
            app_label, codename = dotted.split(".")
            # A permission whose model a later migration adds is skipped here; that migration syncs
            # the groups again, so the last one to run leaves them exactly as the table says.
            wanted.extend(Permission.objects.filter(content_type__app_label=app_label, codename=codename))
        group.permissions.set(wanted)
