"""What Django's own host commands need to leave their audit event: who ran them on which host; for
the account commands (createsuperuser, changepassword) which accounts they saved, in one transaction
with it; for the shells (shell, dbshell) that one was opened."""

from __future__ import annotations

import contextlib
import getpass
import hashlib
import os
import socket
from collections.abc import Iterator

from django.core.management.base import CommandError, OutputWrapper
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


def record_shell_opened(
    *, command: str, mode: str, text: str, stderr: OutputWrapper, database: str = DEFAULT_DB_ALIAS
) -> None:
    """`host.shell_opened`, committed before the shell starts. In a database that has no audit log
    yet (not migrated: nothing in it to act on unseen) nothing is written and `stderr` says so. Refused
    (CommandError) when the audit log cannot be written, the database unreachable included, so no
    shell opens unrecorded on a live database. Of a command given on the command line, its SHA-256
    and length, not its text (it may hold personal data or a password): whoever ran it can be asked
    for it, and the digest shows whether the answer is true."""
    from django.db import DatabaseError, connections

    from audit import services as audit
    from audit.models import AuditEvent

    data = {"command": command, "mode": mode, "database": database, **facts()}
    if text:
        data |= {"sha256": hashlib.sha256(text.encode()).hexdigest(), "length": len(text)}
    try:
        if AuditEvent._meta.db_table not in connections[DEFAULT_DB_ALIAS].introspection.table_names():
            stderr.write("This database has no audit log yet (not migrated): nothing was recorded.")
            return
        with transaction.atomic():
            audit.record(
                actor=audit.SystemActor(f"manage.py {command}"),
                event_type="host.shell_opened",
                object_type="host",
                object_id=data["host"][:64],
                data=data,
            )
    except DatabaseError as exc:
        raise CommandError(f"The audit log cannot be written ({exc}); no {command} opens unrecorded.") from exc
