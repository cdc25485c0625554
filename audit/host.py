"""What Django's own account commands (createsuperuser, changepassword) need to leave their audit
event: who ran them on which host, and which accounts they saved, in one transaction with it."""

from __future__ import annotations

import contextlib
import getpass
import os
import socket
from collections.abc import Iterator

from django.core.management.base import CommandError
from django.db import DEFAULT_DB_ALIAS, transaction
from django.db.models.signals import post_save


def facts() -> dict[str, str]:
    """The host's name and the operating-system user who ran the command."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a container): its number then
        user = f"uid {os.getuid()}"
    return {"host": socket.gethostname(), "host_user": user}


@contextlib.contextmanager
def saves_of(model: type) -> Iterator[list[tuple[object, bool]]]:
    """The instances of `model` saved inside the block, each with whether it was created."""
    saved: list[tuple[object, bool]] = []

    def remember(sender, instance, created: bool, **kwargs) -> None:
        saved.append((instance, created))

    uid = f"audit.host.saves_of:{id(saved)}"
    post_save.connect(remember, sender=model, weak=False, dispatch_uid=uid)
    try:
        yield saved
    finally:
        post_save.disconnect(sender=model, dispatch_uid=uid)


@contextlib.contextmanager
def recorded_command(model: type, *, database: str) -> Iterator[list[tuple[object, bool]]]:
    """The frame of such a command: on the default database (the audit log's), in one transaction
    (the prompts too, so the change commits only with its event), the `model` rows it saves."""
    if database != DEFAULT_DB_ALIAS:
        raise CommandError("The audit log is in the default database: run this command there.")
    with transaction.atomic(), saves_of(model) as saved:
        yield saved
