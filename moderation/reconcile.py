"""Rows against their audit log: does each report's, sanction's and appeal's row hold the state
that the last event recording its state says it has?

Why: every service writes a row and its event in one transaction, and the chain (audit/verify.py)
proves the events were not changed. But whoever has the app's database credentials (a shell on an
app host, raw SQL) can change a row without an event; the record and the row then disagree, and
until now nothing looked. This looks: `manage.py audit_reconcile`, and daily on the schedule
(moderation/tasks.py, which logs each disagreement as an error).

Each batch of rows and the events it is compared with are read in one snapshot (REPEATABLE READ on
PostgreSQL; a read transaction on SQLite is one snapshot already), so a change committing between
the two reads is not taken for a disagreement. Two queries a batch, whatever the batch holds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.db.models import QuerySet

from audit import services as audit
from audit.models import AuditEvent
from moderation.enforcement.models import Appeal, Sanction
from moderation.enforcement.services import appeal_audit_state, sanction_audit_state
from reports.models import Report
from reports.services import report_audit_state

#: Rows read at once.
BATCH = 1000
#: Disagreements named in a run's event (all are counted).
NAMED = 20


@dataclass(frozen=True)
class Kind:
    object_type: str
    rows: Callable[[], QuerySet]
    state: Callable[[Any], dict[str, Any]]


#: What is reconciled: the rows whose every change a service records with the row's whole state.
KINDS = (
    Kind("report", lambda: Report.objects.all(), report_audit_state),
    Kind("sanction", lambda: Sanction.objects.select_related("target"), sanction_audit_state),
    Kind("appeal", lambda: Appeal.objects.all(), appeal_audit_state),
)


@dataclass(frozen=True)
class Disagreement:
    object_type: str
    object_id: str
    #: The fields whose row value is not the recorded one; empty when no event recorded a state.
    fields: tuple[str, ...]
    #: The event whose recorded state the row was compared with; None when there is none.
    event_id: int | None


@dataclass
class Result:
    checked: dict[str, int] = field(default_factory=dict)
    disagreements: list[Disagreement] = field(default_factory=list)


def reconcile(*, batch: int = BATCH) -> Result:
    result = Result()
    for kind in KINDS:
        result.checked[kind.object_type] = 0
        # The keys of a whole state, from the function the services record it with (on an empty row).
        keys = list(kind.state(kind.rows().model()))
        for rows, recorded in _batches(kind, keys, batch):
            result.checked[kind.object_type] += len(rows)
            for row in rows:
                disagreement = _compare(kind, row, recorded.get(str(row.pk)))
                if disagreement:
                    result.disagreements.append(disagreement)
    return result


def reconcile_and_record(*, batch: int = BATCH) -> Result:
    """reconcile(), then its `audit.reconciled` event: that the check ran, what it read and what it
    found (the first NAMED disagreements), kept in the chain; the audit page shows the latest."""
    result = reconcile(batch=batch)
    with transaction.atomic():
        audit.record(
            actor=audit.SystemActor("audit_reconcile"),
            event_type="audit.reconciled",
            object_type="audit_log",
            object_id="reconcile",
            data={
                "checked": result.checked,
                "disagreements": len(result.disagreements),
                "named": [
                    [d.object_type, d.object_id, list(d.fields), d.event_id] for d in result.disagreements[:NAMED]
                ],
            },
        )
    return result


def _batches(kind: Kind, keys: list[str], size: int) -> Iterator[tuple[list, dict[str, tuple[int, dict]]]]:
    after = None
    while True:
        # Inside a caller's transaction (a test's), its snapshot is the one read.
        outermost = not connection.in_atomic_block
        with transaction.atomic():
            if outermost and connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            rows = kind.rows().order_by("pk")
            rows = list((rows.filter(pk__gt=after) if after is not None else rows)[:size])
            if not rows:
                return
            recorded = _last_recorded(kind, keys, [str(row.pk) for row in rows])
        after = rows[-1].pk
        yield rows, recorded


def _last_recorded(kind: Kind, keys: list[str], object_ids: list[str]) -> dict[str, tuple[int, dict]]:
    """Each object's last event that recorded its whole state (all of `keys`): {object_id: (event
    id, state)}. Events recording a part of it (a note, a flag) hold fewer keys and are passed over.
    Served by the index on (object_type, object_id, id)."""
    events = (
        AuditEvent.objects.filter(object_type=kind.object_type, object_id__in=object_ids, after__has_keys=keys)
        .order_by("object_id", "-id")
        .values_list("object_id", "id", "after")
    )
    last: dict[str, tuple[int, dict]] = {}
    for object_id, event_id, after in events:
        last.setdefault(object_id, (event_id, after))
    return last


def _compare(kind: Kind, row: Any, recorded: tuple[int, dict] | None) -> Disagreement | None:
    if recorded is None:
        return Disagreement(kind.object_type, str(row.pk), (), None)
    event_id, state = recorded
    now = audit.as_recorded(kind.state(row))
    differing = tuple(name for name, value in now.items() if state.get(name) != value)
    return Disagreement(kind.object_type, str(row.pk), differing, event_id) if differing else None
