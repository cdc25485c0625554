"""Django's changepassword, with its audit event: `account.password_set` (who ran it on which host,
never the password) in the transaction that sets it, as the admin's password change records it.
Taking over any account, a superuser's included, on a host left no trace with Django's own."""

from __future__ import annotations

from django.contrib.auth.management.commands.changepassword import Command as DjangoChangePassword
from django.contrib.auth.management.commands.changepassword import UserModel

from audit import host
from audit import services as audit


class Command(DjangoChangePassword):
    help = DjangoChangePassword.help + " Records the change's audit event in the same transaction."

    def handle(self, *args, **options):
        with host.recorded_command(UserModel, database=options["database"]) as saved:
            result = super().handle(*args, **options)
            for user, _created in saved:
                audit.record(
                    actor=audit.SystemActor("manage.py changepassword"),
                    event_type="account.password_set",
                    object_type="user",
                    object_id=user.pk,
                    data={"usable": user.has_usable_password(), **host.facts()},
                )
        return result
