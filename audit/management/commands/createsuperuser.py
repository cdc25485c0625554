"""Django's createsuperuser, with its audit event.

An account with every permission is the change an insider most wants unseen, and this command is
how one is made on a host: Django's own wrote no trace. This one records `account.superuser_created`
(who ran it on which host) in the transaction that creates the account, so the account exists only
with its event. Interactive or not, everything else (prompts, validation, DJANGO_SUPERUSER_*) is
Django's. It replaces Django's because `audit` comes before django.contrib.auth in INSTALLED_APPS.
"""

from __future__ import annotations

from django.contrib.auth.management.commands.createsuperuser import Command as DjangoCreateSuperuser

from audit import host
from audit import services as audit


class Command(DjangoCreateSuperuser):
    help = DjangoCreateSuperuser.help + " Records the account's audit event in the same transaction."

    def handle(self, *args, **options):
        with host.recorded_command(self.UserModel, database=options["database"]) as saved:
            result = super().handle(*args, **options)
            for user, created in saved:
                if created and user.is_superuser:
                    audit.record(
                        actor=audit.SystemActor("manage.py createsuperuser"),
                        event_type="account.superuser_created",
                        object_type="user",
                        object_id=user.pk,
                        after={"username": user.get_username(), "is_superuser": True, "is_staff": user.is_staff},
                        data=host.facts(),
                    )
        return result
