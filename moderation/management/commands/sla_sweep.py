from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from moderation.services import sla_sweep


class Command(BaseCommand):
    help = (
        "Escalate open reports past their deadline (critical ones past half of it) and alert the "
        "moderators once per report. Safe to run every minute, on several hosts at once."
    )

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=1000, help="At most this many reports per run.")

    def handle(self, *args, **options):
        try:
            result = sla_sweep(limit=options["limit"])
        except DatabaseError as error:
            raise CommandError(f"sla_sweep failed: {error}") from error
        for report_id in result.overdue:
            self.stdout.write(f"escalated {report_id}: past its deadline")
        for report_id in result.half_way:
            self.stdout.write(f"escalated {report_id}: critical, past half its deadline")
        self.stdout.write(
            self.style.SUCCESS(
                f"{len(result.escalated)} report(s) escalated and alerted "
                f"({len(result.overdue)} overdue, {len(result.half_way)} critical past half their deadline)."
            )
        )
