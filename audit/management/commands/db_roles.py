from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, transaction

from audit.db_roles import InvalidRoleName, owner_connection, runtime_grants


class Command(BaseCommand):
    help = (
        "Print (and with --apply run, as the owner in MIGRATE_DATABASE_URL) the SQL that gives the app's "
        "runtime PostgreSQL role what it needs and no more: no ownership, and on the audit table only "
        "SELECT, INSERT and filling the chain columns."
    )

    def add_arguments(self, parser):
        parser.add_argument("--runtime-role", required=True, help="The role in DATABASE_URL (not the owner).")
        parser.add_argument("--create-role", action="store_true", help="Also create the role (LOGIN) if missing.")
        parser.add_argument("--apply", action="store_true", help="Run the statements as the owner.")

    def handle(self, *args, **options):
        with owner_connection() as connection:
            if connection.vendor != "postgresql":
                raise CommandError("Database roles are PostgreSQL's: SQLite has one user, the owner of its file.")
            try:
                statements = runtime_grants(
                    connection=connection, runtime_role=options["runtime_role"], create_role=options["create_role"]
                )
            except (InvalidRoleName, LookupError, ValueError) as error:
                raise CommandError(str(error)) from error
            for statement in statements:
                self.stdout.write(statement + ";")
            if not options["apply"]:
                return
            try:
                with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
                    for statement in statements:
                        cursor.execute(statement)
            except DatabaseError as error:
                raise CommandError(f"Not applied: {error}") from error
        self.stderr.write(
            self.style.SUCCESS(f"Applied as the owner: {options['runtime_role']} has what the app needs, no more.")
        )
