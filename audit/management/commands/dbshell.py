"""Django's dbshell, with its audit event: `host.shell_opened` committed before the database's
client starts (see shell.py). The client connects with the app's credentials: in production the
runtime role, which cannot rewrite or drop the audit log (db_roles)."""

from __future__ import annotations

from django.core.management.commands.dbshell import Command as DjangoDbShell

from audit import host


class Command(DjangoDbShell):
    help = DjangoDbShell.help + " Records a host.shell_opened audit event first."

    def handle(self, **options):
        parameters = options.get("parameters") or []
        host.record_shell_opened(
            command="dbshell",
            mode="command" if parameters else "interactive",
            text=" ".join(parameters),
            database=options["database"],
            stderr=self.stderr,
        )
        return super().handle(**options)
