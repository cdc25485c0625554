import time

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from moderation import rollups


class Command(BaseCommand):
    help = (
        "Fold the reports' and sanctions' pending changes into the dashboard's daily rollups (building them first when "
        "they are not built: after the upgrade, or a TIME_ZONE change). Run it every minute; safe on "
        "several hosts at once (one folds, the others find it busy and leave)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--rebuild",
            action="store_true",
            help="Count every report again from scratch (waits for a fold in progress).",
        )

    def handle(self, *args, **options):
        started = time.perf_counter()
        try:
            if options["rebuild"]:
                counted = rollups.rebuild()
                self.stdout.write(self.style.SUCCESS(f"rebuilt from {counted:,} report(s)"))
                return
            result = rollups.fold_pending()
        except DatabaseError as error:
            raise CommandError(f"rollup_reports failed: {error}") from error
        elapsed = time.perf_counter() - started
        if result.busy:
            self.stdout.write("another rollup_reports is folding; nothing to do here")
            return
        if result.rebuilt is not None:
            self.stdout.write(f"built from {result.rebuilt:,} report(s)")
        self.stdout.write(self.style.SUCCESS(f"{result.folded:,} change(s) folded in {elapsed:.1f}s"))
