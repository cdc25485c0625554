from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from audit import services as audit
from reports.services import platform_key_create


class Command(BaseCommand):
    help = "Create a key for the platform's servers (Authorization: Platform <key>). The key is printed once."

    def add_arguments(self, parser):
        parser.add_argument("name", help="What uses the key, e.g. chat-backend-prod.")

    def handle(self, *args, **options):
        try:
            platform_key, key = platform_key_create(actor=audit.SYSTEM, name=options["name"])
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from error
        self.stdout.write(self.style.SUCCESS(f"Created platform key {platform_key.name!r} ({platform_key.prefix}…)."))
        self.stdout.write("Store it now; it is not shown again and only its hash is kept:")
        self.stdout.write(key)
