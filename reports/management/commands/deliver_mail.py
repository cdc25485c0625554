from django.core.management.base import BaseCommand, CommandError

from reports.models import OutboxMail
from reports.outbox import deliver_due


class Command(BaseCommand):
    help = (
        "Deliver the mail outbox now (what the worker's deliver_mail task does every few seconds): due "
        "mail, and mail the relay refused once its backoff ran out. Safe beside running workers."
    )

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=500)

    def handle(self, *args, **options):
        result = deliver_due(limit=options["limit"])
        waiting = OutboxMail.objects.filter(sent_at__isnull=True).count()
        self.stdout.write(f"sent {result.sent}, failed {result.failed}, still waiting {waiting}")
        if result.failed:
            raise CommandError("the relay refused; the rest is retried with backoff on the next run")
