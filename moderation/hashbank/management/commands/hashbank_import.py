"""manage.py hashbank_import FILE --source NAME [--category KEY] [--media-kind KIND]"""

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from audit import services as audit
from moderation.hashbank.models import BANK_CATEGORIES, MediaKind
from moderation.hashbank.services import hash_list_import


class Command(BaseCommand):
    help = (
        "Import a hash list (CSV with a header: sha256 and/or pdq, optional category, media_kind, quality) "
        "into the hash bank. All or nothing: one bad line refuses the file, and every bad line is named."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="The CSV file.")
        parser.add_argument("--source", required=True, help="Whose list it is, e.g. 'NCMEC hash list 2025-06'.")
        parser.add_argument(
            "--category", choices=BANK_CATEGORIES, help="The category of rows without a category column."
        )
        parser.add_argument("--media-kind", choices=MediaKind.values, default=MediaKind.IMAGE)

    def handle(self, *args, **options):
        path: Path = options["file"]
        try:
            content = path.read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error.strerror}") from error
        try:
            result = hash_list_import(
                actor=audit.SystemActor("hashbank_import command"),
                content=content,
                source_name=options["source"],
                file_name=path.name,
                default_category=options["category"],
                default_media_kind=options["media_kind"],
            )
        except ValidationError as error:
            raise CommandError("\n".join(error.messages)) from error
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {result.imported} hashes from {path.name} ({result.batch.source_name!r}, batch "
                f"{result.batch.pk}); {result.duplicates} already in the bank or repeated were skipped."
            )
        )
