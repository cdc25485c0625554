import secrets

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from audit import services as audit
from moderation.roles import ROLES
from moderation.services import staff_create


class Command(BaseCommand):
    help = "Create a staff account with a role (or change an existing account's role)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=ROLES)
        parser.add_argument("--email", default="")
        parser.add_argument("--password", help="Default: a random password, printed once.")

    def handle(self, *args, **options):
        password = options["password"] or secrets.token_urlsafe(12)
        try:
            user, created = staff_create(
                actor=audit.SYSTEM,
                username=options["username"],
                role=options["role"],
                email=options["email"],
                password=password,
            )
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from error
        verb = "Created" if created else "Updated"
        self.stdout.write(self.style.SUCCESS(f"{verb} {user.get_username()} as {options['role']}."))
        self.stdout.write(f"Password: {password}")
