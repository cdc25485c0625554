"""manage.py hashbank_retire ENTRY_ID --reason TEXT"""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from audit import services as audit
from moderation.hashbank.services import entry_retire


class Command(BaseCommand):
    help = "Retire a hash bank entry: it stays on record (who, when, why) and stops matching in every process."

    def add_arguments(self, parser):
        parser.add_argument("entry_id", type=int)
        parser.add_argument("--reason", required=True, help="Why, e.g. 'withdrawn by the list's source'.")

    def handle(self, *args, **options):
        try:
            entry = entry_retire(
                actor=audit.SystemActor("hashbank_retire command"),
                entry_id=options["entry_id"],
                reason=options["reason"],
            )
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from error
        self.stdout.write(self.style.SUCCESS(f"Retired hash bank entry {entry.pk} ({entry.category})."))
