"""Services for accounts and their roles: every change to an account made by staff (the Django admin's
account pages, `create_staff`) goes through here, in one transaction with its audit event.

A role is one of the groups of moderation/roles.py, and nothing else: no service here sets
is_superuser or a permission of its own, so no one becomes superuser or gets a right outside the
roles table through the web. Superusers are made at the shell (`createsuperuser`), and an admin may
not change a superuser's account or password (which would let them sign in as one).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from audit import services as audit
from moderation.roles import ROLES, is_staff_for, role_from_groups

# What an account change may touch, and what its audit event shows before and after.
ACCOUNT_FIELDS = ("username", "first_name", "last_name", "email", "is_active")


def clean_username(username: str, *, account_pk: int | None = None) -> str:
    """The username as Django's sign-up form would take it: NFKC-normalised, within the field's
    length, letters, digits and @.+-_ only (UnicodeUsernameValidator), and not another account's
    name in other letter case (UserCreationForm refuses those too: "Rosa" beside "rosa")."""
    User = get_user_model()  # noqa: N806
    username = User.normalize_username((username or "").strip())
    if not username:
        raise ValidationError({"username": _("A username is required.")})
    field = User._meta.get_field(User.USERNAME_FIELD)
    try:
        field.clean(username, None)
    except ValidationError as error:
        raise ValidationError({"username": error.messages}) from error
    lookalike = User._default_manager.filter(**{f"{User.USERNAME_FIELD}__iexact": username})
    if lookalike.exclude(pk=account_pk).exclude(**{User.USERNAME_FIELD: username}).exists():
        raise ValidationError({"username": _("Another account has this name in other letter case.")})
    return username


def _check_role(role: str | None) -> None:
    if role not in (None, *ROLES):
        raise ValidationError({"role": f"Role must be one of: {', '.join(ROLES)}, or none."})


def _set_role(account: AbstractBaseUser, role: str | None) -> None:
    account.is_staff = is_staff_for(role)
    account.save(update_fields=["is_staff"])
    account.groups.set(Group.objects.filter(name=role) if role else [])


def _state(account: AbstractBaseUser, role: str | None) -> dict[str, Any]:
    return {**{name: getattr(account, name) for name in ACCOUNT_FIELDS}, "role": role}


def _refuse_superuser_target(actor: AbstractBaseUser, account: AbstractBaseUser) -> None:
    if account.is_superuser and not getattr(actor, "is_superuser", False):
        raise PermissionDenied("Only a superuser may change a superuser's account.")


def account_create(
    *, actor: AbstractBaseUser, username: str, email: str = "", password: str | None, role: str | None
) -> AbstractBaseUser:
    """An account made by staff in the admin, with a role or none (audit: account.created)."""
    _check_role(role)
    username = clean_username(username)
    User = get_user_model()  # noqa: N806
    with transaction.atomic():
        if User._default_manager.filter(**{User.USERNAME_FIELD: username}).exists():
            raise ValidationError({"username": _("An account with this name exists.")})
        account = User(**{User.USERNAME_FIELD: username}, email=email)
        if password:
            account.set_password(password)
        else:
            account.set_unusable_password()
        account.save()
        _set_role(account, role)
        audit.record(
            actor=actor,
            event_type="account.created",
            object_type="user",
            object_id=account.pk,
            after=_state(account, role),
        )
    return account


def account_update(*, actor: AbstractBaseUser, account_id: int, role: str | None, **changes: Any) -> AbstractBaseUser:
    """Change an account's name, email, active flag or role (audit: account.changed, before and after)."""
    _check_role(role)
    unknown = set(changes) - set(ACCOUNT_FIELDS)
    if unknown:
        raise ValidationError(f"These cannot be changed here: {', '.join(sorted(unknown))}.")
    with transaction.atomic():
        account = get_user_model()._default_manager.select_for_update().get(pk=account_id)
        _refuse_superuser_target(actor, account)
        if "username" in changes:
            changes["username"] = clean_username(changes["username"], account_pk=account.pk)
        old_role = role_from_groups(set(account.groups.values_list("name", flat=True)))
        before = _state(account, old_role)
        for name, value in changes.items():
            setattr(account, name, value)
        if changes:
            account.save(update_fields=list(changes))
        if role != old_role:
            _set_role(account, role)
        after = _state(account, role)
        if after != before:
            audit.record(
                actor=actor,
                event_type="account.changed",
                object_type="user",
                object_id=account.pk,
                before={key: value for key, value in before.items() if after[key] != value},
                after={key: value for key, value in after.items() if before[key] != value},
            )
    return account


def account_set_password(*, actor: AbstractBaseUser, account_id: int, password: str | None) -> AbstractBaseUser:
    """Set (or, with None, remove) another account's password (audit: account.password_set, without it)."""
    with transaction.atomic():
        account = get_user_model()._default_manager.select_for_update().get(pk=account_id)
        _refuse_superuser_target(actor, account)
        if password:
            account.set_password(password)
        else:
            account.set_unusable_password()
        account.save(update_fields=["password"])
        audit.record(
            actor=actor,
            event_type="account.password_set",
            object_type="user",
            object_id=account.pk,
            data={"usable": bool(password)},
        )
    return account
