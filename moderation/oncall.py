"""What the on-call person watches, read when /metrics is scraped: the open backlog, deadlines,
the rate of filings and decisions, and the lag of everything written now and finished later (the
webhook and mail outboxes, the audit chain's sealing, the dashboard's rollup).

Every read is a count or a min over an index that holds only the rows asked about (open reports,
undelivered webhooks, unsealed events, pending rollup changes) or a short time range, or a sum over
the dashboard's rollups, so a scrape costs about the same at a million reports as at a thousand
(measured in README.md, "Benchmarks").
Aggregates only: no id, name, address or text ever leaves this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Min, QuerySet

from audit.models import AuditEvent
from moderation import rollups
from moderation.enforcement.models import OutboxEvent
from moderation.models import ReportRollupChange, SanctionRollupChange
from reports.categories import Severity
from reports.models import OPEN_STATUSES, OutboxMail, Report

#: Filings and decisions per minute are averaged over this window.
RATE_WINDOW = timedelta(minutes=5)


@dataclass(frozen=True)
class Backlog:
    """Work written and waiting to be finished: how many, and since when the oldest waits."""

    waiting: int
    oldest: datetime | None

    def oldest_age_seconds(self, now: datetime) -> float:
        return max((now - self.oldest).total_seconds(), 0.0) if self.oldest else 0.0


def _backlog(rows: QuerySet, *, since: str = "created_at") -> Backlog:
    found = rows.aggregate(waiting=Count("pk"), oldest=Min(since))
    return Backlog(waiting=found["waiting"], oldest=found["oldest"])


def open_reports() -> dict[tuple[str, str], int]:
    """Open reports by (severity, status): from the dashboard's rollups (moderation/rollups.py),
    exact, a few thousand rows whatever the size of the backlog."""
    counts = {(severity, status): 0 for severity in Severity.values for status in OPEN_STATUSES}
    counts.update(rollups.open_counts())
    return counts


def oldest_open_received() -> dict[str, datetime | None]:
    """When the oldest open report of each severity came in: one seek each into the partial index
    report_open_sev_created_idx (a min() over all severities at once would read the whole backlog)."""
    return {
        severity: Report.objects.filter(status__in=OPEN_STATUSES, severity=severity)
        .order_by("created_at")
        .values_list("created_at", flat=True)
        .first()
        for severity in Severity.values
    }


def past_deadline(now: datetime, *, open_reports: dict[tuple[str, str], int]) -> dict[str, int]:
    """Open reports past their deadline, by severity: the open reports less those not yet due (a
    range of report_status_sev_due_idx per status and severity, index only). Counting the overdue
    ones themselves read most of the backlog."""
    totals = dict.fromkeys(Severity.values, 0)
    for (severity, _status), n in open_reports.items():
        totals[severity] += n
    not_due = dict(
        Report.objects.filter(status__in=OPEN_STATUSES, severity__in=Severity.values, due_at__gte=now)
        .values_list("severity")
        .annotate(n=Count("due_at"))  # a column of the index, so that it is read alone
        .order_by()
    )
    return {severity: total - not_due.get(severity, 0) for severity, total in totals.items()}


def per_minute(now: datetime) -> dict[str, float]:
    """Reports filed and reports decided (closed: action taken or dismissed) per minute, averaged
    over RATE_WINDOW; ranges of the created_at and closed_at indexes."""
    since = now - RATE_WINDOW
    minutes = RATE_WINDOW.total_seconds() / 60
    return {
        "filings": Report.objects.filter(created_at__gte=since).count() / minutes,
        "decisions": Report.objects.filter(closed_at__gte=since).count() / minutes,
    }


def webhook_outbox() -> Backlog:
    """Webhooks not yet accepted by the platform (outbox_due_idx leads with delivered_at)."""
    return _backlog(OutboxEvent.objects.filter(delivered_at__isnull=True))


def mail_outbox() -> Backlog:
    """Mail in the outbox not yet accepted by the relay (outboxmail_due_idx holds only those)."""
    return _backlog(OutboxMail.objects.filter(sent_at__isnull=True))


def audit_unsealed() -> Backlog:
    """Committed audit events not yet linked into the hash chain (the partial audit_unsealed_idx)."""
    return _backlog(AuditEvent.objects.filter(seq__isnull=True))


def rollup_pending() -> Backlog:
    """Report and sanction changes not yet folded into the dashboard's rollups by `rollup_reports`
    (both kinds feed the dashboard: a stalled fold leaves its actions stale as well as its counts)."""
    reports = _backlog(ReportRollupChange.objects.all(), since="recorded_at")
    sanctions = _backlog(SanctionRollupChange.objects.all(), since="recorded_at")
    oldest = min((when for when in (reports.oldest, sanctions.oldest) if when), default=None)
    return Backlog(waiting=reports.waiting + sanctions.waiting, oldest=oldest)


@dataclass(frozen=True)
class OnCall:
    """Every figure of a scrape, read from one snapshot (the differences above need it)."""

    open_reports: dict[tuple[str, str], int]
    oldest_open_received: dict[str, datetime | None]
    past_deadline: dict[str, int]
    per_minute: dict[str, float]
    webhook_outbox: Backlog
    mail_outbox: Backlog
    audit_unsealed: Backlog
    rollup_pending: Backlog


def read(now: datetime) -> OnCall:
    with rollups.one_snapshot():
        counts = open_reports()
        return OnCall(
            open_reports=counts,
            oldest_open_received=oldest_open_received(),
            past_deadline=past_deadline(now, open_reports=counts),
            per_minute=per_minute(now),
            webhook_outbox=webhook_outbox(),
            mail_outbox=mail_outbox(),
            audit_unsealed=audit_unsealed(),
            rollup_pending=rollup_pending(),
        )
