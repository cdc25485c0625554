"""Is the record the record? The chain, checked link by link with the key, against every checkpoint.

What each check catches, for someone who can write the audit table (its owner lifting the triggers)
but does not hold AUDIT_SIGNING_KEY:

- an event changed, or its hashes recomputed: its origin tag or its HMAC no longer matches (or its
  successor's link);
- an event removed from the middle: its successor's prev_hash, and the gap in seq;
- events cut off the end, or the chain rebuilt: a checkpoint names an event that is gone or differs;
- a keyed event passed off as one sealed before the key: it is not in the legacy prefix every
  checkpoint records;
- an event inserted back-dated (by anyone who may insert, even through the app): it was sealed after
  a checkpoint yet claims a time well before it (AUDIT_BACKDATE_TOLERANCE_SECONDS);
- an event inserted around the app (the runtime role may insert; the sealer seals what it finds):
  its origin tag, which audit.record writes with the key, is missing or does not verify;
- the append-only triggers dropped, disabled or altered (audit.triggers.problems).

What it cannot catch: events cut off the end after the last checkpoint (take one every minute), and
anything done by someone who holds the key and can also write the checkpoint storage.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from audit import checkpoints, triggers
from audit.checkpoints import Checkpoint, UnreadableCheckpoint
from audit.models import AuditEvent
from audit.services import (
    GENESIS_HASH,
    LEGACY,
    chain_tip,
    current_key,
    event_body,
    event_hash,
    known_keys,
    origin_valid,
    seal_pending,
)

_CHECKPOINT_LOCK_KEY = 0x63687074  # "chpt": one checkpoint writer at a time on PostgreSQL


@dataclass
class Verification:
    checked: int = 0
    legacy: int = 0  # events sealed before the chain was keyed (plain SHA-256)
    untagged: int = 0  # events written before origin tags (a prefix of the chain, like the legacy ones)
    unsealed: int = 0
    checkpoints: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems


def _describe(event: AuditEvent) -> str:
    return (
        f"event #{event.pk} (seq {event.seq}, {event.event_type} on {event.object_type}:{event.object_id}, "
        f"{event.created_at:%Y-%m-%d %H:%M:%S})"
    )


def verify(
    *,
    after: Checkpoint | None = None,
    with_checkpoints: bool = True,
    with_triggers: bool = True,
    with_origins: bool = True,
    max_problems: int = 20,
    batch_size: int = 5000,
) -> Verification:
    """Walk the sealed chain in seq order (from `after` when given) and check every checkpoint.
    `with_origins`: each event's origin tag too (a walk from the start: the untagged prefix is known
    only from there)."""
    result = Verification()
    keys = known_keys()
    found: list[Checkpoint | UnreadableCheckpoint] = checkpoints.read_all() if with_checkpoints else []
    marks: list[Checkpoint] = []
    for item in found:
        if isinstance(item, UnreadableCheckpoint):
            result.problems.append(f"checkpoint {item.name} {item.problem}")
        elif not item.signature_valid(keys):
            result.problems.append(f"checkpoint {item.name} is not signed with a known key (forged or damaged)")
        else:
            marks.append(item)
    marks.sort(key=lambda mark: (mark.seq, mark.created_at))
    result.checkpoints = len(marks)
    if with_triggers:
        result.problems.extend(
            f"append-only triggers: {problem} (manage.py migrate puts them back)"
            for problem in triggers.problems(connection)
        )

    events = AuditEvent.objects.filter(seq__isnull=False).order_by("seq")
    expected_prev, position, legacy_until, legacy_open = GENESIS_HASH, 0, 0, True
    if after is not None:
        events = events.filter(seq__gt=after.seq)
        expected_prev, position, legacy_until = after.hash, after.seq, after.legacy_until
        legacy_open = after.legacy_until == after.seq
    tolerance = timedelta(seconds=settings.AUDIT_BACKDATE_TOLERANCE_SECONDS)
    tagged = False
    next_mark, newest_mark_before = 0, None

    for event in events.iterator(chunk_size=batch_size):
        position += 1
        found = result.problems
        if event.seq != position:
            found.append(f"{_describe(event)}: expected seq {position}; events before it were removed")
            position = event.seq
        if event.key_id is None:
            if not legacy_open:
                found.append(f"{_describe(event)} claims to be sealed before the chain was keyed, after keyed events")
            key, legacy_until = LEGACY, event.seq
            result.legacy += 1
        else:
            legacy_open = False
            key = keys.get(event.key_id)
        body = event_body(event) if event.origin is not None else None  # encoded once, for tag and link
        if event.prev_hash != expected_prev:
            found.append(f"{_describe(event)}: its prev_hash does not match the event before it")
        if key is None:
            found.append(f"{_describe(event)} is sealed with an unknown key ({event.key_id})")
        elif not hmac.compare_digest(event_hash(event, key, body), event.hash or ""):
            found.append(f"{_describe(event)}: its content does not match its hash")
        if with_origins:
            if event.origin is None and not tagged:
                result.untagged += 1
            elif event.origin is None:
                found.append(
                    f"{_describe(event)} carries no origin tag, after tagged events: "
                    "inserted around the app (the database's credentials, not the app's key)"
                )
            elif not origin_valid(event, keys, body):
                found.append(
                    f"{_describe(event)}: its content does not match its origin tag "
                    "(changed, or not written by the app)"
                )
            tagged = tagged or event.origin is not None
        # Checkpoints written before this event was sealed: it may not claim a time well before them.
        while next_mark < len(marks) and marks[next_mark].seq < event.seq:
            if newest_mark_before is None or marks[next_mark].created_at > newest_mark_before.created_at:
                newest_mark_before = marks[next_mark]
            next_mark += 1
        if newest_mark_before is not None and event.created_at < newest_mark_before.created_at - tolerance:
            found.append(
                f"{_describe(event)} is dated before checkpoint {newest_mark_before.name} "
                f"({newest_mark_before.created_at:%Y-%m-%d %H:%M:%S}) but was sealed after it: inserted back-dated"
            )
        for mark in marks[next_mark:]:
            if mark.seq != event.seq:
                break
            if mark.hash != event.hash or mark.count != position or mark.legacy_until != legacy_until:
                found.append(f"checkpoint {mark.name} no longer matches the chain at seq {mark.seq}: rewritten")
        expected_prev = event.hash
        result.checked += 1
        if len(found) >= max_problems:
            break
    else:
        cut = next((mark for mark in marks if mark.seq > position), None)
        if cut is not None:
            result.problems.append(
                f"checkpoint {cut.name} names seq {cut.seq} but the chain ends at seq {position}: "
                "events were cut off its end"
            )
    result.unsealed = AuditEvent.objects.filter(seq__isnull=True).count()
    return result


class CheckpointRefused(Exception):
    """The chain since the last checkpoint does not verify: signing it would bless the damage."""


@dataclass(frozen=True)
class CheckpointTaken:
    checkpoint: Checkpoint | None  # None: the chain is empty
    written: bool


def checkpoint_take() -> CheckpointTaken:
    """Seal what is pending, check the chain since the latest checkpoint, and write a signed checkpoint
    of its tip. Safe from cron on several hosts: one writer at a time, and a second writer of the same
    tip finds the file there."""
    seal_pending()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHECKPOINT_LOCK_KEY])
        seq, tip_hash = chain_tip()
        if seq == 0:
            return CheckpointTaken(None, written=False)
        previous = checkpoints.latest()
        if isinstance(previous, Checkpoint) and not previous.signature_valid(known_keys()):
            previous = None
        if isinstance(previous, Checkpoint) and previous.seq > seq:
            raise CheckpointRefused(
                f"the chain ends at seq {seq}, before the latest checkpoint {previous.name} (seq {previous.seq}); "
                "run manage.py audit_verify"
            )
        start = previous if isinstance(previous, Checkpoint) else None
        # Not the origin tags: an event inserted around the app is not damage to the chain (it is sealed
        # in order), and refusing every later checkpoint for it would leave the tail unanchored;
        # audit_verify and the sealer name it.
        check = verify(after=start, with_checkpoints=False, with_triggers=False, with_origins=False, max_problems=1)
        if start is not None:
            at_mark = AuditEvent.objects.filter(seq=start.seq).values_list("hash", flat=True).first()
            if at_mark != start.hash:
                check.problems.append(f"checkpoint {start.name} no longer matches the chain at seq {start.seq}")
        if check.problems:
            raise CheckpointRefused(check.problems[0] + "; run manage.py audit_verify")
        sealed = AuditEvent.objects.filter(seq__isnull=False, seq__lte=seq)
        legacy_until = sealed.filter(key_id__isnull=True).aggregate(last=Max("seq"))["last"] or 0
        checkpoint = Checkpoint(
            seq=seq,
            hash=tip_hash,
            count=sealed.count(),
            created_at=timezone.now(),
            key_id="",
            legacy_until=legacy_until,
        ).signed(current_key())
        written = checkpoints.store(checkpoint)
        return CheckpointTaken(checkpoint, written)
