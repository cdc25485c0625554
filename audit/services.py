"""The one way to write the audit log: `record(...)`, called inside the caller's transaction."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

from audit.events import is_registered
from audit.models import AuditEvent

GENESIS_HASH = "0" * 64
# Key for PostgreSQL's transaction-level advisory lock that serialises appends to the chain.
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


def _canonical(value: Any) -> Any:
    """JSON-safe form of before/after data (datetimes, UUIDs, decimals become strings)."""
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def compute_hash(
    *,
    prev_hash: str,
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
) -> str:
    payload = {
        "prev": prev_hash,
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
    encoded = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(encoded.encode()).hexdigest()


def event_hash(event: AuditEvent) -> str:
    return compute_hash(
        prev_hash=event.prev_hash,
        created_at=event.created_at,
        event_type=event.event_type,
        actor_id=event.actor_id,
        actor_label=event.actor_label,
        object_type=event.object_type,
        object_id=event.object_id,
        before=event.before,
        after=event.after,
        data=event.data,
        correlation_id=event.correlation_id,
    )


def _lock_chain() -> None:
    # Appends are serialised so that each event's prev_hash is the hash of the event committed just
    # before it. SQLite already serialises writers (IMMEDIATE transactions); PostgreSQL needs a lock
    # held to the end of the transaction.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK_KEY])


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
    """Append one event. Must run inside the transaction of the change it describes."""
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

    _lock_chain()
    last_hash = AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first()
    fields = {
        "created_at": timezone.now(),
        "event_type": event_type,
        "actor_id": actor_user.pk if actor_user else None,
        "actor_label": actor_label,
        "object_type": object_type,
        "object_id": str(object_id),
        "before": _canonical(before),
        "after": _canonical(after),
        "data": _canonical(data or {}),
        "correlation_id": correlation_id,
    }
    prev_hash = last_hash or GENESIS_HASH
    digest = compute_hash(prev_hash=prev_hash, **fields)
    return AuditEvent.objects.create(prev_hash=prev_hash, hash=digest, **fields)


@dataclass
class ChainCheck:
    checked: int
    first_bad: AuditEvent | None
    problem: str = ""


def verify_chain(*, batch_size: int = 5000) -> ChainCheck:
    """Walk the chain in id order; stop at the first event whose links or hash do not match."""
    expected_prev = GENESIS_HASH
    checked = 0
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=batch_size):
        if event.prev_hash != expected_prev:
            return ChainCheck(checked, event, "its prev_hash does not match the event before it")
        if event_hash(event) != event.hash:
            return ChainCheck(checked, event, "its content does not match its hash")
        expected_prev = event.hash
        checked += 1
    return ChainCheck(checked, None)
