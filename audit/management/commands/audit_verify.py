from django.core.management.base import BaseCommand, CommandError

from audit.services import seal_pending, verify_chain


class Command(BaseCommand):
    help = "Seal pending audit events, then walk the hash chain; exit 1 at the first event that does not match."

    def add_arguments(self, parser):
        parser.add_argument(
            "--no-seal", action="store_true", help="Only check; leave events not yet sealed out of the walk."
        )

    def handle(self, *args, **options):
        sealed = 0 if options["no_seal"] else seal_pending()
        result = verify_chain()
        if result.first_bad is not None:
            event = result.first_bad
            raise CommandError(
                f"Audit chain broken at event #{event.pk} ({event.event_type} on {event.object_type}:"
                f"{event.object_id}, {event.created_at:%Y-%m-%d %H:%M:%S}): {result.problem}. "
                f"{result.checked} events before it are intact."
            )
        message = f"Audit chain intact: {result.checked} events checked"
        if sealed:
            message += f" ({sealed} sealed first)"
        if result.unsealed:
            message += f"; {result.unsealed} not yet sealed"
        self.stdout.write(self.style.SUCCESS(message + "."))
