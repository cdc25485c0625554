"""Django's shell, with its audit event: `host.shell_opened` (who opened it on which host, and how)
committed before the shell starts. What is typed in it is not recorded (Python can do anything the
app's credentials allow), but the compliance officer sees that a shell was open, when, on which
host and by which operating-system user, and can ask what was done in it."""

from __future__ import annotations

import sys

from django.core.management.commands.shell import Command as DjangoShell

from audit import host


class Command(DjangoShell):
    help = DjangoShell.help + " Records a host.shell_opened audit event first."

    def handle(self, **options):
        command = options.get("command")
        host.record_shell_opened(
            command="shell",
            mode="command" if command else ("interactive" if sys.stdin.isatty() else "stdin"),
            text=command or "",
            stderr=self.stderr,
        )
        return super().handle(**options)
