from django.core.management.base import BaseCommand, CommandError

from audit.services import seal_pending
from audit.verify import verify


class Command(BaseCommand):
    help = (
        "Seal pending audit events, then check the chain with the signing key and against every signed "
        "checkpoint, each event's origin tag, and the append-only triggers; exit 1 naming the first event or "
        "checkpoint that does not match."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--no-seal", action="store_true", help="Only check; leave events not yet sealed out of the walk."
        )

    def handle(self, *args, **options):
        sealed = 0 if options["no_seal"] else seal_pending()
        result = verify()
        if not result.intact:
            for problem in result.problems[1:]:
                self.stderr.write(f"also: {problem}")
            raise CommandError(
                f"Audit record broken: {result.problems[0]}. {result.checked} events checked"
                f" against {result.checkpoints} checkpoint(s)."
            )
        message = f"Audit chain intact: {result.checked} events checked against {result.checkpoints} checkpoint(s)"
        if sealed:
            message += f" ({sealed} sealed first)"
        if result.unsealed:
            message += f"; {result.unsealed} not yet sealed"
        self.stdout.write(self.style.SUCCESS(message + "."))
        if result.legacy:
            self.stdout.write(
                f"{result.legacy} of them were sealed before the chain was keyed (plain SHA-256): they are anchored "
                "by the first keyed event after them and by the checkpoints, not by their own hashes."
            )
        if result.untagged:
            self.stdout.write(
                f"{result.untagged} of them were written before events carried their origin tag: an event inserted "
                "around the app among them cannot be told from the app's own."
            )
        if not result.checkpoints and result.checked:
            self.stdout.write(
                "No checkpoint yet: events cut off the end of the chain cannot be detected until "
                "manage.py audit_checkpoint runs (every minute from cron)."
            )
