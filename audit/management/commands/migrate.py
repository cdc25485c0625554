"""Django's migrate, run as the owner role when MIGRATE_DATABASE_URL is set.

The app itself connects as a role that owns nothing (DATABASE_URL); migrations need the owner. This
command replaces Django's (an app's command of the same name takes precedence) only to reconnect the
default database with the owner's credentials for its run; everything else is Django's own.
"""

from django.core.management.commands.migrate import Command as DjangoMigrate
from django.db import DEFAULT_DB_ALIAS

from audit.db_roles import owner_connection


class Command(DjangoMigrate):
    help = DjangoMigrate.help + " Connects as the owner in MIGRATE_DATABASE_URL when it is set."

    def handle(self, *args, **options):
        if options["database"] != DEFAULT_DB_ALIAS:
            return super().handle(*args, **options)
        with owner_connection():
            return super().handle(*args, **options)
