"""The one way to write the audit log: `record(...)`, called inside the caller's transaction."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

from audit import correlation
from audit.events import is_registered
from audit.models import AuditEvent
from config.prepared import PreparedInsert

logger = logging.getLogger(__name__)

GENESIS_HASH = "0" * 64
# Key for PostgreSQL's transaction-level advisory lock that lets one sealer at a time extend the chain.
_CHAIN_LOCK_KEY = 0x61756469  # "audi"


@dataclass(frozen=True)
class SystemActor:
    """An explicit non-human actor: the sweeps, the public complaint form, the platform."""

    name: str


SYSTEM = SystemActor("system")
PUBLIC_FORM = SystemActor("public complaint form")

Actor = AbstractBaseUser | SystemActor


class UnknownEventType(ValueError):
    pass


def as_recorded(value: Any) -> Any:
    """JSON-safe form of before/after data (datetimes, UUIDs, decimals become strings): a state as
    an event keeps it, to compare a row with its record (moderation/reconcile.py)."""
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


# --- the signing key -------------------------------------------------------------------------------
# Each event's hash is HMAC-SHA256(AUDIT_SIGNING_KEY, event and previous hash). The key lives in the
# app's environment, never in the database: whoever can write the table (its owner, a DBA, a stolen
# backup restored) can change an event but cannot compute its hash, nor any later one, again.


@dataclass(frozen=True)
class SigningKey:
    id: str  # stored with each event it seals; names the key without revealing it
    secret: bytes


def _signing_key(secret: str) -> SigningKey:
    raw = secret.encode()
    return SigningKey(hmac.new(raw, b"report-desk audit key id", hashlib.sha256).hexdigest()[:16], raw)


def current_key() -> SigningKey:
    return _signing_key(settings.AUDIT_SIGNING_KEY)


def known_keys() -> dict[str, SigningKey]:
    """The current key and the retired ones (AUDIT_PREVIOUS_SIGNING_KEYS), by id."""
    keys = [_signing_key(secret) for secret in [settings.AUDIT_SIGNING_KEY, *settings.AUDIT_PREVIOUS_SIGNING_KEYS]]
    return {key.id: key for key in keys}


def _content(
    *,
    created_at,
    event_type: str,
    actor_id: int | None,
    actor_label: str,
    object_type: str,
    object_id: str,
    before: Any,
    after: Any,
    data: Any,
    correlation_id: uuid.UUID | None,
) -> dict[str, Any]:
    """What an event says: covered by its origin tag and, with the previous hash, by its link."""
    return {
        "at": created_at.isoformat(),
        "type": event_type,
        "actor": actor_id,
        "actor_label": actor_label,
        "object": [object_type, object_id],
        "before": before,
        "after": after,
        "data": data,
        "correlation": str(correlation_id) if correlation_id else None,
    }


def _encoded(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def compute_hash(
    *,
    prev_hash: str,
    key: SigningKey | None = None,
    origin: str | None = None,
    body: bytes | None = None,
    **content: Any,
) -> str:
    """The event's link: an HMAC with `key` (the current key unless given) over the previous hash and
    the event's content (`_content`'s arguments, or `body`, their encoding, when the caller has it).
    `key=LEGACY` is only for events sealed before the chain had a key (see LEGACY below): a plain
    SHA-256 anyone can recompute.

    A tagged event's link covers its origin tag too, so stripping a tag (to pass an inserted event off
    as one from before tags) breaks it; and it reads the content in the same encoding as the tag, so a
    walk of the chain encodes each event's JSON once (with a second encoding a verify of 20,000 events
    took 2.0 s, against 1.0-1.2 s before tags). An event written before tags keeps its first formula."""
    if origin is not None:
        body = body if body is not None else _encoded(_content(**content))
        encoded = b"link:" + prev_hash.encode() + b":" + origin.encode() + b":" + body
    else:
        encoded = _encoded({"prev": prev_hash, **_content(**content)})
    if key is LEGACY:
        return hashlib.sha256(encoded).hexdigest()
    return hmac.new((key or current_key()).secret, encoded, hashlib.sha256).hexdigest()


# --- the origin tag ---------------------------------------------------------------------------------
# The chain proves an event unchanged since it was sealed, but the sealer seals whatever it finds
# committed: an event inserted with the database's credentials alone (the runtime role may insert;
# the owner may do anything) would be sealed like the app's own. So the app tags each event as it
# writes it, with the key the database never holds; audit_verify names every event after the first
# tagged one whose tag is missing or does not verify. Only someone holding AUDIT_SIGNING_KEY can
# forge one. About 0.03 ms of CPU an event (its JSON and one HMAC), on record()'s 0.25-0.31 ms.
_ORIGIN = b"origin:"


def origin_tag(*, key: SigningKey | None = None, body: bytes | None = None, **content: Any) -> str:
    """'<key id>:<HMAC>' of the event's content (`_content`'s arguments, or `body`, their encoding)
    with `key` (the current one)."""
    key = key or current_key()
    body = body if body is not None else _encoded(_content(**content))
    return f"{key.id}:{hmac.new(key.secret, _ORIGIN + body, hashlib.sha256).hexdigest()}"


def origin_valid(event: AuditEvent, keys: dict[str, SigningKey], body: bytes | None = None) -> bool:
    """Whether the event carries a tag the app wrote, with one of `keys` (`body`: event_body(event))."""
    key = keys.get((event.origin or "").partition(":")[0])
    if key is None:
        return False
    tag = origin_tag(key=key, body=body if body is not None else event_body(event))
    return hmac.compare_digest(tag, event.origin)


def event_body(event: AuditEvent) -> bytes:
    """The event's content as its tag and its link read it: computed once per event by a walk."""
    return _encoded(_content(**_event_content(event)))


def _event_content(event: AuditEvent) -> dict[str, Any]:
    return {
        "created_at": event.created_at,
        "event_type": event.event_type,
        "actor_id": event.actor_id,
        "actor_label": event.actor_label,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "before": event.before,
        "after": event.after,
        "data": event.data,
        "correlation_id": event.correlation_id,
    }


# Events sealed before the chain was keyed (migration audit 0004) carry no key id and keep their
# plain SHA-256 hashes: the migration could not re-seal them without rewriting history. They can only
# be a prefix of the chain; the first keyed event's HMAC covers the last one's hash, and every
# checkpoint records where the prefix ends, so none of them can be changed (nor a keyed event turned
# into one) without audit_verify noticing once a keyed event or a checkpoint follows them.
LEGACY = SigningKey("", b"")


def event_hash(event: AuditEvent, key: SigningKey | None = None, body: bytes | None = None) -> str:
    if event.origin is not None:
        body = body if body is not None else event_body(event)
        return compute_hash(key=key, prev_hash=event.prev_hash, origin=event.origin, body=body)
    return compute_hash(key=key, prev_hash=event.prev_hash, **_event_content(event))


# Compiled once per thread (config/prepared.py): every change of the system writes one, and through
# AuditEvent.objects.create() one cost 0.33-0.38 ms of CPU, through this 0.25-0.31 (record() whole,
# PostgreSQL, in one process, 2026-11-30).
_EVENT_INSERT = PreparedInsert(AuditEvent)


def record(
    *,
    actor: Actor | AnonymousUser | None,
    event_type: str,
    object_type: str,
    object_id: object,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    data: dict[str, Any] | None = None,
    correlation_id: uuid.UUID | None = None,
) -> AuditEvent:
    """Append one event. Must run inside the transaction of the change it describes. Without a
    correlation_id, the event takes the one bound by the surrounding request (audit/correlation.py)."""
    event = _EVENT_INSERT.create(
        **_fields(
            actor=actor,
            event_type=event_type,
            object_type=object_type,
            object_id=object_id,
            before=before,
            after=after,
            data=data,
            correlation_id=correlation_id,
        )
    )
    _seal_after_commit()
    return event


@dataclass(frozen=True)
class Entry:
    """One event for record_many: the arguments record() takes, but the actor."""

    event_type: str
    object_type: str
    object_id: object
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    data: dict[str, Any] | None = None
    correlation_id: uuid.UUID | None = None


def record_many(*, actor: Actor | AnonymousUser | None, entries: list[Entry]) -> None:
    """Append several events by one actor in one INSERT, inside the caller's transaction: for a batch
    whose every item is a change of its own (a hundred machine signals), checked like record()."""
    if not entries:
        return
    rows = [
        AuditEvent(
            **_fields(
                actor=actor,
                event_type=entry.event_type,
                object_type=entry.object_type,
                object_id=entry.object_id,
                before=entry.before,
                after=entry.after,
                data=entry.data,
                correlation_id=entry.correlation_id,
            )
        )
        for entry in entries
    ]
    AuditEvent.objects.bulk_create(rows)
    _seal_after_commit()


def _fields(
    *,
    actor: Actor | AnonymousUser | None,
    event_type: str,
    object_type: str,
    object_id: object,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    data: dict[str, Any] | None,
    correlation_id: uuid.UUID | None,
) -> dict[str, Any]:
    if not is_registered(event_type):
        raise UnknownEventType(f"unregistered audit event type {event_type!r}")
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit.record() must be called inside the service's transaction.atomic()")
    if isinstance(actor, SystemActor):
        actor_user, actor_label = None, actor.name
    elif actor is None or not actor.is_authenticated:
        actor_user, actor_label = None, "anonymous"
    else:
        actor_user, actor_label = actor, actor.get_username()
    content = {
        "created_at": timezone.now(),
        "event_type": event_type,
        "actor_id": actor_user.pk if actor_user else None,
        "actor_label": actor_label,
        "object_type": object_type,
        "object_id": str(object_id),
        "before": as_recorded(before),
        "after": as_recorded(after),
        "data": as_recorded(data or {}),
        "correlation_id": correlation_id or correlation.current(),
    }
    return {**content, "origin": origin_tag(**content)}


# --- the chain ------------------------------------------------------------------------------------
# Events are linked into the hash chain after their transaction commits, in the order the sealer
# finds them committed. Linking inside each transaction (the previous design) needed one lock held
# from the first audit write to the commit's disk flush, so every write of the system queued behind
# every other. Sealing is like a transparency log's merge delay: the event is durable and append-only
# from its commit, and sealed within AUDIT_SEAL_INTERVAL seconds by the next transaction that writes
# one (or by `manage.py audit_seal` from cron when the system is idle).

_last_seal_attempt = 0.0
_last_seal_lock = threading.Lock()


def _seal_after_commit() -> None:
    # Once per transaction, however many events it records.
    connection = transaction.get_connection()
    if not any(hook is _seal_if_due for _, hook, _ in connection.run_on_commit):
        transaction.on_commit(_seal_if_due, robust=True)


def _seal_if_due() -> None:
    """After commit: seal, unless this process sealed less than AUDIT_SEAL_INTERVAL seconds ago."""
    global _last_seal_attempt
    with _last_seal_lock:
        now = time.monotonic()
        if now - _last_seal_attempt < settings.AUDIT_SEAL_INTERVAL:
            return
        _last_seal_attempt = now
    seal_pending(wait=False)


def _locked_for_sealing(*, wait: bool) -> bool:
    """One sealer at a time. SQLite already serialises writers (IMMEDIATE transactions)."""
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        if wait:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK_KEY])
            return True
        # After a commit, a sealer that is already running will find this event too; don't queue.
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [_CHAIN_LOCK_KEY])
        return bool(cursor.fetchone()[0])


def chain_tip() -> tuple[int, str]:
    """The last sealed event's position and hash, or (0, GENESIS_HASH) for an empty chain."""
    tip = AuditEvent.objects.filter(seq__isnull=False).order_by("-seq").values_list("seq", "hash").first()
    return tip or (0, GENESIS_HASH)


def _seal_batch(*, batch_size: int, wait: bool) -> int | None:
    """Link up to batch_size committed, unsealed events. None when another sealer holds the chain."""
    with transaction.atomic():
        if not _locked_for_sealing(wait=wait):
            return None
        pending = list(AuditEvent.objects.filter(seq__isnull=True).order_by("id")[:batch_size])
        if not pending:
            return 0
        seq, prev_hash = chain_tip()
        key, keys = current_key(), known_keys()
        links, foreign = [], []
        for event in pending:
            body = event_body(event) if event.origin is not None else None
            if body is None or not origin_valid(event, keys, body):
                # Sealed all the same (the chain takes every committed event, in order); audit_verify
                # names it for good. Logged now for whoever is on call, and recorded below.
                logger.error(
                    "audit: event %s (%s on %s) has no valid origin tag: written around the app",
                    event.pk,
                    event.event_type,
                    event.object_type,
                )
                foreign.append(event)
            seq += 1
            event.seq, event.prev_hash, event.key_id = seq, prev_hash, key.id
            event.hash = prev_hash = event_hash(event, key, body)
            links.append((event.seq, event.prev_hash, event.hash, event.key_id, event.pk))
        table = connection.ops.quote_name(AuditEvent._meta.db_table)
        with connection.cursor() as cursor:
            # The one UPDATE the triggers allow (and the model refuses): filling the chain columns once.
            # The runtime database role may update these columns only (manage.py db_roles).
            # bandit B608: only the model's own table name is formatted in; the values are parameters
            cursor.executemany(
                f"UPDATE {table} SET seq = %s, prev_hash = %s, hash = %s, key_id = %s WHERE id = %s AND seq IS NULL",  # noqa: S608  # nosec B608
                links,
            )
        for event in foreign:
            # In the log itself, where the compliance officer looks (the audit page counts these), with
            # this sealing: the next batch seals this record, which carries the app's own tag.
            record(
                actor=SystemActor("audit sealer"),
                event_type="audit.foreign_event",
                object_type="audit_log",
                object_id=event.pk,
                data={
                    "seq": event.seq,
                    "event_type": event.event_type,
                    "object": f"{event.object_type}:{event.object_id}",
                    "tag": "invalid" if event.origin else "missing",
                },
            )
    return len(pending)


def seal_pending(*, batch_size: int = 1000, wait: bool = True) -> int:
    """Link every committed, unsealed event into the chain, oldest first. Returns how many it linked.

    Safe on several hosts at once: sealers take turns on one advisory lock. With wait=False a sealer
    that finds the lock taken leaves: the one holding it looks again after it lets go, and finds
    anything committed in the meantime.
    """
    sealed = 0
    while True:
        linked = _seal_batch(batch_size=batch_size, wait=wait)
        if linked is None:
            return sealed
        sealed += linked
        if linked == 0 and not AuditEvent.objects.filter(seq__isnull=True).exists():
            return sealed
