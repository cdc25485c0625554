from django.core.management.base import BaseCommand

from audit.services import seal_pending


class Command(BaseCommand):
    help = "Link every committed audit event not yet in the hash chain (safe from cron on several hosts)."

    def handle(self, *args, **options):
        sealed = seal_pending()
        self.stdout.write(self.style.SUCCESS(f"Sealed {sealed} audit event(s) into the chain."))
