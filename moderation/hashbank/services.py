"""Every change of the hash bank, each in one transaction with its audit event.

Who may do what:
- a person with the moderation queue (moderators and up, who remove and quarantine content) adds
  the file they confirmed, naming the report or sanction it was confirmed on; never a system actor;
- compliance and admin (or an operator's command, acting as the system) import hash lists and
  retire entries.

Every write first locks the one BankState row and bumps its version (index.py reads it to stay in
step), so bank writes are serialised and commit in the order of their ids.
"""

from __future__ import annotations

import csv
import hashlib
import io
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from audit import services as audit
from moderation.enforcement.models import Sanction
from moderation.hashbank.hashing import hash_media, normalize_hex
from moderation.hashbank.models import BANK_CATEGORIES, BankEntry, BankState, EntrySource, ImportBatch, MediaKind
from moderation.hashbank.selectors import BankMatch, match_media
from reports.models import Report

# Moderators and up: they remove content and quarantine files, and confirm what enters the bank.
CONFIRM_PERMISSION = "reports.view_queue"
# Compliance and admin: lists from outside and retirements change what the whole bank matches.
MANAGE_PERMISSION = "reports.view_escalated"
IMPORT_COLUMNS = ("sha256", "pdq", "category", "media_kind", "quality")
IMPORT_ERRORS_SHOWN = 50
# Existing hashes are looked up this many at a time (under SQLite's 999 bound parameters).
_LOOKUP_CHUNK = 900
_INSERT_CHUNK = 5000
SOURCE_NAME_MAX = 200
RETIRE_REASON_MAX = 2000


def _who(actor: audit.Actor) -> tuple[AbstractBaseUser | None, str]:
    if isinstance(actor, audit.SystemActor):
        return None, actor.name
    return actor, actor.get_username()


def _require(actor: audit.Actor, permission: str, *, person: bool = False) -> None:
    if isinstance(actor, audit.SystemActor):
        if person:
            raise PermissionDenied("Only a person who confirmed the content may add it to the hash bank.")
        return
    if not actor.is_authenticated or not actor.has_perm(permission):
        raise PermissionDenied("You may not change the hash bank.")


def _lock_state() -> BankState:
    state = BankState.objects.select_for_update().filter(pk=1).first()
    if state is None:
        BankState.objects.bulk_create([BankState(pk=1)], ignore_conflicts=True)
        state = BankState.objects.select_for_update().get(pk=1)
    return state


def _bump(state: BankState, *, retired: bool = False) -> None:
    """Tell every process's index that the bank changed; a retirement makes them rebuild."""
    state.version += 1
    if retired:
        state.epoch = uuid.uuid4()
    state.save(update_fields=["version", "epoch"])


def _facts(entry: BankEntry) -> dict[str, object]:
    """What the audit log keeps of an entry: hashes and provenance, never the media."""
    return {
        "sha256": entry.sha256,
        "pdq": entry.pdq,
        "pdq_quality": entry.pdq_quality,
        "media_kind": entry.media_kind,
        "category": entry.category,
        "source": entry.source,
        "report_id": entry.report_id,
        "sanction_id": entry.sanction_id,
    }


# --- a person's confirmed decision --------------------------------------------------------------------


def entry_add_from_media(
    *,
    actor: AbstractBaseUser,
    content: bytes,
    category: str,
    media_kind: str = MediaKind.IMAGE,
    report: Report | None = None,
    sanction: Sanction | None = None,
) -> tuple[BankEntry, bool]:
    """Bank the hashes of a file a person confirmed as child-safety, non-consensual or trafficking
    material when removing or quarantining it. The file itself is not kept here.

    Returns (entry, created). The same file already in the bank as the same kind of media is
    returned as it is: nothing changes and no event is written.
    """
    _require(actor, CONFIRM_PERMISSION, person=True)
    errors: dict[str, list[str]] = {}
    if category not in BANK_CATEGORIES:
        errors["category"] = [f"The hash bank holds only these categories: {', '.join(BANK_CATEGORIES)}."]
    if media_kind not in MediaKind.values:
        errors["media_kind"] = [f"Must be one of: {', '.join(MediaKind.values)}."]
    if report is None and sanction is None:
        errors["__all__"] = ["Name the report or the sanction on which the content was confirmed."]
    if errors:
        raise ValidationError(errors)
    try:
        hashes = hash_media(content)
    except ValidationError as error:
        raise ValidationError({"content": error.messages}) from None
    user, label = _who(actor)
    with transaction.atomic():
        state = _lock_state()
        existing = BankEntry.objects.filter(sha256=hashes.sha256, media_kind=media_kind, active=True).first()
        if existing is not None:
            return existing, False
        entry = BankEntry.objects.create(
            sha256=hashes.sha256,
            pdq=hashes.pdq,
            pdq_quality=hashes.pdq_quality,
            media_kind=media_kind,
            category=category,
            source=EntrySource.DECISION,
            report=report,
            sanction=sanction,
            added_by=user,
            added_by_label=label,
        )
        _bump(state)
        audit.record(
            actor=actor,
            event_type="hashbank.entry_added",
            object_type="hashbank_entry",
            object_id=entry.pk,
            after=_facts(entry),
        )
    return entry, True


# --- importing a hash list ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Row:
    sha256: str | None
    pdq: str | None
    quality: int | None
    category: str
    media_kind: str

    @property
    def key(self) -> tuple[str, str | None, str]:
        # What makes two rows the same entry: the file's bytes, or for a PDQ-only row its PDQ.
        return ("sha256", self.sha256, self.media_kind) if self.sha256 else ("pdq", self.pdq, self.media_kind)


@dataclass(frozen=True)
class ImportResult:
    batch: ImportBatch
    imported: int
    duplicates: int


def hash_list_import(
    *,
    actor: audit.Actor,
    content: bytes,
    source_name: str,
    file_name: str,
    default_category: str | None = None,
    default_media_kind: str = MediaKind.IMAGE,
) -> ImportResult:
    """Import a hash list: CSV, UTF-8, a header line naming the columns.

    Columns: `sha256` and/or `pdq` (64 hex digits each, at least one per row), and optionally
    `category` (a bank category; `default_category` otherwise), `media_kind` (image or video_frame)
    and `quality` (PDQ's 0..100). Other columns are ignored.

    All or nothing: every row is checked first, and one bad row refuses the whole file, with a
    message per bad line (the first IMPORT_ERRORS_SHOWN, and how many more). A list is a unit from
    one source; half of it in the bank would be hard to tell from all of it, and the corrected file
    can simply be imported again. Rows already in the bank, or repeated in the file, are skipped and
    counted. One audit event for the file, naming its SHA-256; each entry points to its batch.
    """
    _require(actor, MANAGE_PERMISSION)
    source_name = source_name.strip()
    if not source_name or len(source_name) > SOURCE_NAME_MAX:
        raise ValidationError({"source_name": [f"Name the list's source in 1 to {SOURCE_NAME_MAX} characters."]})
    for name, value, allowed in (
        ("category", default_category, BANK_CATEGORIES),
        ("media_kind", default_media_kind, MediaKind.values),
    ):
        if value is not None and value not in allowed:
            raise ValidationError({name: [f"{value!r} is not one of: {', '.join(allowed)}."]})
    rows = _parse_rows(content, default_category=default_category, default_media_kind=default_media_kind)
    user, label = _who(actor)
    with transaction.atomic():
        state = _lock_state()
        fresh = _without_duplicates(rows)
        batch = ImportBatch.objects.create(
            source_name=source_name,
            file_name=file_name[:255],
            file_sha256=hashlib.sha256(content).hexdigest(),
            imported_count=len(fresh),
            duplicate_count=len(rows) - len(fresh),
            imported_by=user,
            imported_by_label=label,
        )
        now = timezone.now()
        # In slices: bulk_create makes a list of every object it is given, and a list of a million
        # rows would hold a million model instances at once.
        for start in range(0, len(fresh), _INSERT_CHUNK):
            BankEntry.objects.bulk_create(
                [
                    BankEntry(
                        sha256=row.sha256,
                        pdq=row.pdq,
                        pdq_quality=row.quality,
                        media_kind=row.media_kind,
                        category=row.category,
                        source=EntrySource.IMPORT,
                        import_batch=batch,
                        added_by=user,
                        added_by_label=label,
                        created_at=now,
                    )
                    for row in fresh[start : start + _INSERT_CHUNK]
                ]
            )
        _bump(state)
        audit.record(
            actor=actor,
            event_type="hashbank.list_imported",
            object_type="hashbank_import",
            object_id=batch.pk,
            after={
                "source_name": batch.source_name,
                "file_name": batch.file_name,
                "file_sha256": batch.file_sha256,
                "imported": batch.imported_count,
                "duplicates": batch.duplicate_count,
                "categories": dict(Counter(row.category for row in fresh)),
            },
        )
    return ImportResult(batch=batch, imported=batch.imported_count, duplicates=batch.duplicate_count)


def _parse_rows(content: bytes, *, default_category: str | None, default_media_kind: str) -> list[_Row]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError("The file is not UTF-8 text.") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [(name or "").strip().lower() for name in reader.fieldnames or []]
    if not {"sha256", "pdq"} & set(header):
        raise ValidationError(
            f"The first line must name the columns: sha256 and/or pdq (optional: {', '.join(IMPORT_COLUMNS[2:])})."
        )
    if "category" not in header and default_category is None:
        raise ValidationError("The file has no category column: give the list's category.")
    reader.fieldnames = header
    rows: list[_Row] = []
    errors: list[str] = []
    for record in reader:
        row, problems = _parse_row(record, default_category=default_category, default_media_kind=default_media_kind)
        if problems:
            errors.append(f"line {reader.line_num}: {'; '.join(problems)}")
        elif row is not None:
            rows.append(row)
    if errors:
        shown = errors[:IMPORT_ERRORS_SHOWN]
        if len(errors) > len(shown):
            shown.append(f"... and {len(errors) - len(shown)} more bad lines.")
        raise ValidationError([f"Nothing was imported: {len(errors)} bad lines.", *shown])
    if not rows:
        raise ValidationError("The file has no rows under its header.")
    return rows


def _parse_row(
    record: dict[str | None, str | list[str] | None], *, default_category: str | None, default_media_kind: str
) -> tuple[_Row | None, list[str]]:
    def cell(name: str) -> str:
        value = record.get(name)
        return value.strip() if isinstance(value, str) else ""

    problems = []
    hashes: dict[str, str | None] = {}
    for name in ("sha256", "pdq"):
        raw = cell(name)
        hashes[name] = normalize_hex(raw) if raw else None
        if raw and hashes[name] is None:
            problems.append(f"{name} is not 64 hex digits")
    if not cell("sha256") and not cell("pdq"):
        problems.append("no sha256 and no pdq")
    category = cell("category") or default_category or ""
    if category not in BANK_CATEGORIES:
        problems.append(f"category {category!r} is not one of: {', '.join(BANK_CATEGORIES)}")
    media_kind = cell("media_kind") or default_media_kind
    if media_kind not in MediaKind.values:
        problems.append(f"media_kind {media_kind!r} is not one of: {', '.join(MediaKind.values)}")
    quality = None
    if raw_quality := cell("quality"):
        if raw_quality.isascii() and raw_quality.isdigit() and int(raw_quality) <= 100:
            quality = int(raw_quality)
        else:
            problems.append(f"quality {raw_quality!r} is not a whole number 0..100")
    if problems:
        return None, problems
    return _Row(hashes["sha256"], hashes["pdq"], quality, category, media_kind), []


def _without_duplicates(rows: list[_Row]) -> list[_Row]:
    """The rows that are neither in the bank (active) nor earlier in the file."""
    seen: set[tuple[str, str | None, str]] = set()
    by_sha = sorted({row.sha256 for row in rows if row.sha256})
    for chunk in _chunks(by_sha):
        found = BankEntry.objects.filter(active=True, sha256__in=chunk).values_list("sha256", "media_kind")
        seen.update(("sha256", sha256, kind) for sha256, kind in found)
    by_pdq = sorted({row.pdq for row in rows if not row.sha256})
    for chunk in _chunks(by_pdq):
        found = BankEntry.objects.filter(active=True, sha256__isnull=True, pdq__in=chunk).values_list(
            "pdq", "media_kind"
        )
        seen.update(("pdq", pdq, kind) for pdq, kind in found)
    fresh = []
    for row in rows:
        if row.key not in seen:
            seen.add(row.key)
            fresh.append(row)
    return fresh


def _chunks(values: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(values), _LOOKUP_CHUNK):
        yield values[start : start + _LOOKUP_CHUNK]


# --- retiring an entry ------------------------------------------------------------------------------


def entry_retire(*, actor: audit.Actor, entry_id: int, reason: str) -> BankEntry:
    """Take an entry out of matching for good (a wrong entry, a list's withdrawal). It stays in the
    table, with who retired it, when and why; every process's index rebuilds at its next lookup."""
    _require(actor, MANAGE_PERMISSION)
    reason = reason.strip()
    if not reason or len(reason) > RETIRE_REASON_MAX:
        raise ValidationError({"reason": [f"Say why the entry is retired (1 to {RETIRE_REASON_MAX} characters)."]})
    user, label = _who(actor)
    with transaction.atomic():
        state = _lock_state()
        entry = BankEntry.objects.select_for_update().filter(pk=entry_id).first()
        if entry is None:
            raise ValidationError({"entry": [f"There is no hash bank entry {entry_id}."]})
        if not entry.active:
            raise ValidationError({"entry": [f"Entry {entry_id} was already retired on {entry.retired_at:%Y-%m-%d}."]})
        entry.active = False
        entry.retired_at = timezone.now()
        entry.retired_by = user
        entry.retired_by_label = label
        entry.retire_reason = reason
        entry.save(update_fields=["active", "retired_at", "retired_by", "retired_by_label", "retire_reason"])
        _bump(state, retired=True)
        audit.record(
            actor=actor,
            event_type="hashbank.entry_retired",
            object_type="hashbank_entry",
            object_id=entry.pk,
            before={"active": True},
            after={"active": False, "reason": reason},
        )
    return entry


# --- the platform's check before publishing -----------------------------------------------------------


def upload_check(
    *, actor: audit.Actor, sha256: str | None, pdq: str | None, pdq_quality: int | None = None
) -> list[BankMatch]:
    """Match an upload's hashes against the bank (selectors.match_media) and audit a match.

    Only matches are audited: checks that match nothing are the platform's routine traffic (every
    upload of every user), and writing each one down would fill the log with hashes of innocent
    people's private media. A match is a fact a decision may rest on: the event names the entries,
    the distances and the checked hashes.
    """
    matches = match_media(sha256=sha256, pdq=pdq, pdq_quality=pdq_quality)
    if matches:
        with transaction.atomic():
            audit.record(
                actor=actor,
                event_type="hashbank.matched",
                object_type="hashbank_entry",
                object_id=matches[0].entry.pk,
                data={
                    "checked": {"sha256": sha256, "pdq": pdq, "pdq_quality": pdq_quality},
                    "matches": [
                        {"entry_id": match.entry.pk, "match_type": match.match_type, "distance": match.distance}
                        for match in matches
                    ],
                },
            )
    return matches
