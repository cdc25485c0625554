from django.core.management.base import BaseCommand

from moderation.enforcement.services import expire_sanctions


class Command(BaseCommand):
    help = "Record the end of temporary sanctions past their end time (safe on several hosts at once)."

    def handle(self, *args, **options):
        expired = expire_sanctions()
        for sanction_id in expired:
            self.stdout.write(f"expired {sanction_id}")
        self.stdout.write(self.style.SUCCESS(f"{len(expired)} sanction(s) expired."))
