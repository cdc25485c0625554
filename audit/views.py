"""The audit log viewer and its CSV export, for admins and compliance (audit.view_auditevent)."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator

from django.contrib.auth.decorators import login_required, permission_required
from django.db.models import Count, Max
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from audit import checkpoints, triggers
from audit.filters import AuditEventFilterSet
from audit.models import AuditEvent

PAGE_SIZE = 50
# The stored row as it is: every content column, then the chain (key_id names the key that sealed it,
# so that an exported chain verifies across a rotation).
CSV_COLUMNS = [*triggers.CONTENT_COLUMNS, *triggers.CHAIN_COLUMNS]


def _filtered(request: HttpRequest) -> AuditEventFilterSet:
    return AuditEventFilterSet(request.GET, queryset=AuditEvent.objects.all())


@login_required
@permission_required("audit.view_auditevent", raise_exception=True)
def log(request: HttpRequest) -> HttpResponse:
    """Newest first, paged by id (keyset), so page 1,000 costs what page 1 costs."""
    filterset = _filtered(request)
    events = filterset.qs.order_by("-id")
    before = request.GET.get("before", "")
    if before.isdigit():
        events = events.filter(id__lt=int(before))
    is_first_page = not before
    rows = list(events[: PAGE_SIZE + 1])
    has_older = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    for event in rows:
        event.link = _object_link(event)
    query = request.GET.copy()
    query.pop("before", None)
    return render(
        request,
        "audit/log.html",
        {
            "filterset": filterset,
            "events": rows,
            "has_older": has_older,
            "older_cursor": rows[-1].id if rows else None,
            "is_first_page": is_first_page,
            "querystring": query.urlencode(),
            "checkpoint": checkpoints.latest_summary() if is_first_page else None,
            "reconciled": _last_reconciled() if is_first_page else None,
            "foreign": _foreign_events() if is_first_page else None,
        },
    )


def _foreign_events() -> dict | None:
    """Events the sealer found without the app's origin tag (audit.services `_seal_batch` records each
    as `audit.foreign_event`): how many, and the latest record. One query, on (event_type, created_at)."""
    found = AuditEvent.objects.filter(event_type="audit.foreign_event").aggregate(count=Count("id"), latest=Max("id"))
    return found if found["count"] else None


def _last_reconciled() -> dict | None:
    """The latest check of the rows against the log (moderation/reconcile.py records it as an
    event): when, what it read, how many rows disagreed. One query, on (event_type, created_at)."""
    event = (
        AuditEvent.objects.filter(event_type="audit.reconciled")
        .order_by("-created_at")
        .only("id", "created_at", "data")
        .first()
    )
    if event is None:
        return None
    return {
        "id": event.id,
        "created_at": event.created_at,
        "checked": event.data.get("checked", {}),
        "disagreements": event.data.get("disagreements", 0),
    }


# Where an object's own page is. Names, not imports: the audit app depends on no other app.
OBJECT_PAGES = {
    "report": "moderation:report",
    "sanction": "enforcement:sanction",
    "appeal": "enforcement:appeal",
    "user": "enforcement:account",
    "story": "stories:story",
}


def _object_link(event: AuditEvent) -> str | None:
    name = OBJECT_PAGES.get(event.object_type)
    if name is None:
        return None
    try:
        return reverse(name, args=[event.object_id])
    except NoReverseMatch:
        return None


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_rows(events) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_COLUMNS)
    for event in events.iterator(chunk_size=2000):
        yield writer.writerow(
            [
                event.id,
                event.created_at.isoformat(),
                event.event_type,
                event.actor_id or "",
                _safe_cell(event.actor_label),
                event.object_type,
                _safe_cell(event.object_id),
                _safe_cell(json.dumps(event.before, ensure_ascii=False) if event.before is not None else ""),
                _safe_cell(json.dumps(event.after, ensure_ascii=False) if event.after is not None else ""),
                _safe_cell(json.dumps(event.data, ensure_ascii=False)),
                event.correlation_id or "",
                # Empty for an event not yet sealed into the chain (at most a second or so).
                event.seq or "",
                event.prev_hash or "",
                event.hash or "",
                event.key_id or "",
            ]
        )


def _safe_cell(value: str) -> str:
    # A cell starting with = + - @ is run as a formula by spreadsheets (CSV injection).
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


@login_required
@permission_required("audit.view_auditevent", raise_exception=True)
def export_csv(request: HttpRequest) -> StreamingHttpResponse:
    """The filtered events as CSV, streamed row by row: a million rows without holding them in memory."""
    events = _filtered(request).qs.order_by("id")
    response = StreamingHttpResponse(_csv_rows(events), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="audit-{timezone.now():%Y%m%d-%H%M%S}.csv"'
    return response
