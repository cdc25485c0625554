"""Compare every report's, sanction's, appeal's and story's row with the state its audit log last
recorded, and every account's rights with its events (moderation/reconcile.py); exit 1 naming the
rows that disagree."""

from django.core.management.base import BaseCommand, CommandError

from moderation.reconcile import reconcile_and_record

#: Disagreements printed at most (all are counted).
SHOWN = 50


class Command(BaseCommand):
    help = (
        "Compare every report's, sanction's, appeal's and story's row with the state its last audit event "
        "recorded, every account's rights with its events and the role groups with the roles table; exit 1 "
        "naming the rows that disagree (changed without an event: raw SQL, a shell)."
    )

    def handle(self, *args, **options):
        result = reconcile_and_record()
        checked = ", ".join(f"{count:,} {_plural(object_type)}" for object_type, count in result.checked.items())
        if not result.disagreements:
            self.stdout.write(self.style.SUCCESS(f"Rows as their audit log records them: {checked} checked."))
            return
        for disagreement in result.disagreements[:SHOWN]:
            self.stderr.write(f"{disagreement.object_type} {disagreement.object_id}: {disagreement.describe()}")
        if len(result.disagreements) > SHOWN:
            self.stderr.write(f"... and {len(result.disagreements) - SHOWN:,} more")
        count = len(result.disagreements)
        rows = "1 row disagrees" if count == 1 else f"{count:,} rows disagree"
        raise CommandError(
            f"{rows} with the audit log ({checked} checked): changed without an event, or the event is missing."
        )


def _plural(object_type: str) -> str:
    return object_type[:-1] + "ies" if object_type.endswith("y") else object_type + "s"
