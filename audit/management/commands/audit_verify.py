from django.core.management.base import BaseCommand, CommandError

from audit.services import verify_chain


class Command(BaseCommand):
    help = "Walk the audit log's hash chain; exit 1 at the first event that does not match."

    def handle(self, *args, **options):
        result = verify_chain()
        if result.first_bad is not None:
            event = result.first_bad
            raise CommandError(
                f"Audit chain broken at event #{event.pk} ({event.event_type} on {event.object_type}:"
                f"{event.object_id}, {event.created_at:%Y-%m-%d %H:%M:%S}): {result.problem}. "
                f"{result.checked} events before it are intact."
            )
        self.stdout.write(self.style.SUCCESS(f"Audit chain intact: {result.checked} events checked."))
