from django.core.management.base import BaseCommand, CommandError

from moderation.enforcement.retention import purge_evidence


class Command(BaseCommand):
    help = (
        "Delete evidence files and snapshots of cases closed more than DAYS ago; keep identifiers, hashes "
        "and the audit trail; skip anything under a legal hold, referred to the authorities or under an open appeal."
    )

    def add_arguments(self, parser):
        parser.add_argument("--older-than", type=int, required=True, metavar="DAYS")

    def handle(self, *args, **options):
        if options["older_than"] < 1:
            raise CommandError("--older-than must be at least 1 day")
        result = purge_evidence(older_than_days=options["older_than"])
        self.stdout.write(
            f"Purged evidence of {result.reports} closed report(s): {result.evidence_files} evidence file(s), "
            f"{result.snapshots} snapshot(s). Kept {result.held} report(s) under legal hold or referred."
        )
