"""Compare every report's, sanction's and appeal's row with the state its audit log last recorded
(moderation/reconcile.py); exit 1 naming the rows that disagree."""

from django.core.management.base import BaseCommand, CommandError

from moderation.reconcile import reconcile_and_record

#: Disagreements printed at most (all are counted).
SHOWN = 50


class Command(BaseCommand):
    help = (
        "Compare every report's, sanction's and appeal's row with the state its last audit event recorded; "
        "exit 1 naming the rows that disagree (changed without an event: raw SQL, a shell)."
    )

    def handle(self, *args, **options):
        result = reconcile_and_record()
        checked = ", ".join(f"{count:,} {object_type}s" for object_type, count in result.checked.items())
        if not result.disagreements:
            self.stdout.write(self.style.SUCCESS(f"Rows as their audit log records them: {checked} checked."))
            return
        for disagreement in result.disagreements[:SHOWN]:
            if disagreement.event_id is None:
                what = "no event recorded its state"
            else:
                what = f"{', '.join(disagreement.fields)} not as event #{disagreement.event_id} recorded"
            self.stderr.write(f"{disagreement.object_type} {disagreement.object_id}: {what}")
        if len(result.disagreements) > SHOWN:
            self.stderr.write(f"... and {len(result.disagreements) - SHOWN:,} more")
        count = len(result.disagreements)
        rows = "1 row disagrees" if count == 1 else f"{count:,} rows disagree"
        raise CommandError(
            f"{rows} with the audit log ({checked} checked): changed without an event, or the event is missing."
        )
