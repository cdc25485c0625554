from django.core.management.base import BaseCommand, CommandError

from moderation.enforcement.models import Notice
from moderation.notify import resend_due
from reports.models import UnsentMail


class Command(BaseCommand):
    help = "Send again the mail the relay refused (kept mails with backoff, and notices never emailed). Run from cron."

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=500)

    def handle(self, *args, **options):
        result = resend_due(limit=options["limit"])
        waiting = UnsentMail.objects.count()
        notices = Notice.objects.filter(emailed_at__isnull=True).exclude(email="").count()
        self.stdout.write(
            f"sent {result.sent} kept mails and {result.notices_sent} notices; "
            f"still waiting: {waiting} mails, {notices} notices"
        )
        if result.failed:
            raise CommandError("the relay refused again; the rest is retried with backoff on the next run")
