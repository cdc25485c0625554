import csv
import io
import json
from datetime import date

from django.core.management.base import BaseCommand, CommandError

from audit.checkpoints import latest_summary
from moderation.metrics import Period, transparency_counts


def _flatten(prefix: str, value) -> list[tuple[str, object]]:
    if isinstance(value, dict):
        rows = []
        for key, inner in value.items():
            rows += _flatten(f"{prefix}.{key}" if prefix else key, inner)
        return rows
    return [(prefix, "" if value is None else value)]


class Command(BaseCommand):
    help = "The counts the DSA transparency report template asks for, for a period, as JSON or CSV."

    def add_arguments(self, parser):
        parser.add_argument("--start", required=True, type=date.fromisoformat, help="YYYY-MM-DD")
        parser.add_argument("--end", required=True, type=date.fromisoformat, help="YYYY-MM-DD (inclusive)")
        parser.add_argument("--format", choices=["json", "csv"], default="json")

    def handle(self, *args, **options):
        if options["start"] > options["end"]:
            raise CommandError("--start must not be after --end")
        counts = transparency_counts(Period(options["start"], options["end"]))
        # Where the figures' record stood: the newest signed checkpoint of the audit chain.
        checkpoint = latest_summary()
        counts["audit_checkpoint"] = (
            {key: value.isoformat() if key == "created_at" else value for key, value in checkpoint.items()}
            if checkpoint
            else None
        )
        if options["format"] == "json":
            self.stdout.write(json.dumps(counts, indent=2))
        else:
            buffer = io.StringIO()
            writer = csv.writer(buffer)
            writer.writerow(["metric", "value"])
            writer.writerows(_flatten("", counts))
            self.stdout.write(buffer.getvalue(), ending="")
