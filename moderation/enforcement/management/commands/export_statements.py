import json
import sys
import time
from datetime import date

from django.core.management.base import BaseCommand, CommandError

from moderation.enforcement.dsa import statements, validate_statement


class Command(BaseCommand):
    help = (
        "Export one statement of reasons per decision in the EU DSA Transparency Database API format "
        '({"statements": [...]}, as its multiple-statements endpoint takes them). Every statement is '
        "checked against the database's validation rules; an invalid one stops the export."
    )

    def add_arguments(self, parser):
        parser.add_argument("--since", required=True, type=date.fromisoformat, help="YYYY-MM-DD (inclusive)")
        parser.add_argument("--until", type=date.fromisoformat, help="YYYY-MM-DD (inclusive)")
        parser.add_argument("--output", help="File to write (default: standard output)")

    def handle(self, *args, **options):
        started = time.perf_counter()
        exported = []
        for statement in statements(since=options["since"], until=options["until"]):
            problems = validate_statement(statement)
            if problems:
                raise CommandError(f"statement {statement.get('puid')} breaks the database's rules: {problems}")
            exported.append(statement)
        payload = json.dumps({"statements": exported}, ensure_ascii=False, indent=2)
        if options["output"]:
            with open(options["output"], "w", encoding="utf-8") as handle:
                handle.write(payload)
            where = options["output"]
        else:
            sys.stdout.write(payload + "\n")
            where = "standard output"
        took = time.perf_counter() - started
        self.stderr.write(f"{len(exported)} statements of reasons written to {where} in {took:.2f}s.")
