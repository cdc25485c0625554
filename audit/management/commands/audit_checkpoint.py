from django.core.management.base import BaseCommand, CommandError

from audit.verify import CheckpointRefused, checkpoint_take


class Command(BaseCommand):
    help = (
        "Write a signed checkpoint of the audit chain (last seq, its hash, count, time) to the "
        "audit_checkpoints storage, after checking the chain since the previous one. Safe every minute "
        "from cron on several hosts."
    )

    def handle(self, *args, **options):
        try:
            taken = checkpoint_take()
        except CheckpointRefused as error:
            raise CommandError(f"No checkpoint written: {error}") from error
        checkpoint = taken.checkpoint
        if checkpoint is None:
            self.stdout.write("The audit chain is empty: nothing to checkpoint.")
            return
        verb = "Wrote" if taken.written else "Already there:"
        self.stdout.write(
            self.style.SUCCESS(
                f"{verb} checkpoint {checkpoint.file_name()}: seq {checkpoint.seq}, {checkpoint.count} events, "
                f"hash {checkpoint.hash}."
            )
        )
