"""The hash bank: SHA-256 and PDQ hashes of media known to be child-sexual-abuse material,
non-consensual intimate content or trafficking material, and where each hash came from.

The bank never stores the media itself, and its entries are never shown as images: staff see
metadata (category, source, when, who) only. Entries are never deleted; a wrong one is retired
(`active` off, with who, when and why), and stops matching.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from reports.categories import Category

# The categories whose media a bank may hold (the issue's "child safety, non-consensual content or
# trafficking"); the keys are reports.categories', so a match files a report in the same category.
BANK_CATEGORIES: tuple[str, ...] = (
    Category.CHILD_SAFETY,
    Category.NON_CONSENSUAL,
    Category.HUMAN_TRAFFICKING,
    Category.SEX_TRAFFICKING,
)
BANK_CATEGORY_CHOICES = [(key, label) for key, label in Category.choices if key in BANK_CATEGORIES]


class MediaKind(models.TextChoices):
    IMAGE = "image", _("Image")
    # A frame of a video or of a live session, sent by the platform as an image.
    VIDEO_FRAME = "video_frame", _("Video frame")


class EntrySource(models.TextChoices):
    DECISION = "decision", _("A person's confirmed decision")
    IMPORT = "import", _("An imported hash list")


class ImportBatch(models.Model):
    """One imported hash list file (manage.py hashbank_import)."""

    source_name = models.CharField(max_length=200, help_text="Whose list it is, e.g. 'NCMEC hash list 2025-06'")
    file_name = models.CharField(max_length=255)
    file_sha256 = models.CharField(max_length=64, help_text="SHA-256 of the imported file, for provenance")
    imported_count = models.PositiveIntegerField()
    duplicate_count = models.PositiveIntegerField(help_text="Rows already in the bank, or repeated in the file")
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    imported_by_label = models.CharField(max_length=150, help_text="Username, or the system actor's name")
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"hash list {self.source_name!r} ({self.imported_count} entries)"


class BankEntry(models.Model):
    """One known-bad file, as hashes: lowercase hex, NULL when a list gives only the other one."""

    sha256 = models.CharField(max_length=64, null=True, blank=True, help_text="Exact hash of the file's bytes (hex)")
    pdq = models.CharField(max_length=64, null=True, blank=True, help_text="PDQ perceptual hash, 256 bits (hex)")
    pdq_quality = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="PDQ's own quality score 0..100 (unknown for lists that do not give it)"
    )
    media_kind = models.CharField(max_length=20, choices=MediaKind.choices, default=MediaKind.IMAGE)
    category = models.CharField(max_length=32, choices=BANK_CATEGORY_CHOICES)

    source = models.CharField(max_length=10, choices=EntrySource.choices)
    # A decision: the report it was confirmed on and/or the sanction that removed or quarantined it.
    report = models.ForeignKey("reports.Report", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # PROTECT, not SET_NULL: the sanction is why the file was banked (who confirmed what, on which
    # ground), and an entry must never silently lose that. A sanction an entry names cannot be
    # deleted (sanctions are never deleted anyway: they are lifted, reversed or expire).
    sanction = models.ForeignKey(
        "enforcement.Sanction", null=True, blank=True, on_delete=models.PROTECT, related_name="bank_entries"
    )
    # An import: the list file it came in.
    import_batch = models.ForeignKey(
        ImportBatch, null=True, blank=True, on_delete=models.PROTECT, related_name="entries"
    )
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    added_by_label = models.CharField(max_length=150)
    created_at = models.DateTimeField(default=timezone.now)

    active = models.BooleanField(default=True)
    retired_at = models.DateTimeField(null=True, blank=True)
    retired_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    retired_by_label = models.CharField(max_length=150, blank=True)
    retire_reason = models.TextField(blank=True)

    class Meta:
        constraints = [
            # Also the exact lookup's index: WHERE sha256 = %s AND active implies the index's condition
            # whatever the value, so both databases use it (a condition on the value, such as
            # sha256 <> '', would not be implied by a bound parameter, and SQLite scanned the table).
            # A retired entry's hash may be banked again; NULLs (no SHA-256 given) never collide.
            models.UniqueConstraint(
                fields=["sha256", "media_kind"], condition=Q(active=True), name="hashbank_active_sha256_unique"
            ),
            models.CheckConstraint(
                condition=Q(sha256__isnull=False) | Q(pdq__isnull=False), name="hashbank_entry_has_a_hash"
            ),
            models.CheckConstraint(
                condition=(Q(source=EntrySource.IMPORT) & Q(import_batch__isnull=False))
                | (Q(source=EntrySource.DECISION) & Q(import_batch__isnull=True)),
                name="hashbank_entry_source_matches_batch",
            ),
            models.CheckConstraint(
                condition=Q(active=True) | Q(retired_at__isnull=False), name="hashbank_retired_entry_has_a_time"
            ),
        ]

    def __str__(self) -> str:
        return f"hash bank entry {self.pk} ({self.category}, {self.source})"

    @property
    def source_name(self) -> str:
        """What the platform and staff are told about where the entry came from (never who decided)."""
        if self.import_batch_id:
            return self.import_batch.source_name
        return "Report Desk moderation decision"


class BankState(models.Model):
    """One row (pk=1) that lets every process keep its in-memory PDQ index in step with the table.

    `version` goes up with every change of the bank; `epoch` is new whenever an entry is retired
    (and whenever the row itself is created), which tells an index to rebuild rather than to read
    only the entries added since it last looked. Every write service locks this row first, so bank
    writes commit in the order of their ids and "entries with an id above the last one read" never
    skips an entry that committed late (see index.py).
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    version = models.BigIntegerField(default=0)
    epoch = models.UUIDField(default=uuid.uuid4)

    def __str__(self) -> str:
        return f"hash bank version {self.version}"
