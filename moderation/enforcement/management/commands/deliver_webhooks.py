from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from moderation.enforcement.models import OutboxEvent
from moderation.enforcement.webhooks import deliver_due


class Command(BaseCommand):
    help = "Deliver due webhooks from the outbox to WEBHOOK_URL, with backoff for failures."

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=500)

    def handle(self, *args, **options):
        if not settings.WEBHOOK_URL:
            raise CommandError("WEBHOOK_URL is not set; events stay in the outbox until it is.")
        result = deliver_due(limit=options["limit"])
        waiting = OutboxEvent.objects.filter(delivered_at__isnull=True).count()
        self.stdout.write(f"delivered {len(result.delivered)}, failed {len(result.failed)}, still waiting {waiting}")
        for event_id, error in result.failed.items():
            self.stderr.write(f"failed {event_id}: {error}")
        if result.failed:
            raise CommandError("some deliveries failed; they will be retried with backoff")
