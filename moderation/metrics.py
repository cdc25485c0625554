"""Reads for the dashboard and the transparency report. Every figure is aggregated in the database
(one grouped query each); percentiles use PostgreSQL's percentile_cont, and on SQLite, which has
none, the durations of the period are fetched as one column and ranked in Python."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from moderation.enforcement.models import Appeal, AppealStatus, Sanction
from reports.categories import SEVERITY_RANK, Category, Severity
from reports.models import OPEN_STATUSES, Report, ReportStatus

# (aggregate alias, label, from hours, to hours)
AGE_BUCKETS = [
    ("age_0_24h", "under 24 h", 0, 24),
    ("age_1_3d", "1–3 days", 24, 72),
    ("age_3_7d", "3–7 days", 72, 168),
    ("age_over_7d", "over 7 days", 168, None),
]


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive

    @property
    def start_at(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.start, time.min))

    @property
    def end_at(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.end + timedelta(days=1), time.min))

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range((self.end - self.start).days + 1)]

    @classmethod
    def last(cls, days: int) -> Period:
        today = timezone.localdate()
        return cls(today - timedelta(days=days - 1), today)


def _received(period: Period) -> QuerySet[Report]:
    return Report.objects.filter(created_at__gte=period.start_at, created_at__lt=period.end_at)


def reports_per_day_by_category(period: Period) -> dict[date, dict[str, int]]:
    rows = (
        _received(period)
        .annotate(day=TruncDate("created_at"))
        .values("day", "category")
        .annotate(n=Count("*"))
        .order_by()
    )
    table: dict[date, dict[str, int]] = {day: {} for day in period.days}
    for row in rows:
        table.setdefault(row["day"], {})[row["category"]] = row["n"]
    return table


def open_backlog(now: datetime | None = None) -> dict[str, dict[str, int]]:
    """Open reports by severity and by age bucket (one query with conditional counts)."""
    now = now or timezone.now()
    aggregates = {}
    for key, _label, low, high in AGE_BUCKETS:
        condition = Q(created_at__lte=now - timedelta(hours=low))
        if high is not None:
            condition &= Q(created_at__gt=now - timedelta(hours=high))
        aggregates[key] = Count("id", filter=condition)
    aggregates["overdue"] = Count("id", filter=Q(due_at__lt=now))
    rows = Report.objects.filter(status__in=OPEN_STATUSES).values("severity").annotate(**aggregates).order_by()
    result = {severity: dict.fromkeys([*(b[0] for b in AGE_BUCKETS), "overdue"], 0) for severity in Severity.values}
    result = dict(sorted(result.items(), key=lambda item: SEVERITY_RANK[item[0]]))
    for row in rows:
        result[row.pop("severity")] = row
    return result


#: The two clocks of a report: receipt to first review, and receipt to decision.
END_FIELDS = ("first_reviewed_at", "closed_at")


def _add_received(entry: dict, *, status: str, count: int) -> None:
    """Count reports of one status into a severity's summary: received, and resolved, dismissed or open."""
    entry["received"] += count
    entry["open" if status in OPEN_STATUSES else status] += count


def _empty_entry(**extra: int) -> dict:
    return {"received": 0, "resolved": 0, "dismissed": 0, "open": 0, **extra}


def _summary_pg(period: Period) -> dict[str, dict]:
    """Two passes over the period's reports (a month of a million-report database is 320,000 rows;
    the covering index on created_at holds every column used, so both are index-only scans):

    1. the counts per severity and status, and how many of each clock ended, and by the deadline:
       plain aggregates, hashed, which PostgreSQL can split across its workers;
    2. the percentiles: for each severity and clock, percentile_cont with an array of fractions (one
       sort gives the median and the 90th percentile), in one aggregate row with a FILTER per
       severity (GROUP BY severity sorted the whole period by a collated string first), over
       date_part, a float (EXTRACT returns numeric, slower to sort), with work_mem raised for this
       statement alone so that the sorts stay in memory.
    """
    received = _received(period)
    clocks = {}
    for end in END_FIELDS:
        clocks[f"{end}_ended"] = Count(end)
        clocks[f"{end}_within"] = Count("pk", filter=Q(**{f"{end}__lte": F("due_at")}))
    summary: dict[str, dict] = {}
    for row in received.values("severity", "status").annotate(n=Count("pk"), **clocks).order_by():
        entry = summary.setdefault(row["severity"], _empty_entry(**dict.fromkeys(clocks, 0)))
        _add_received(entry, status=row["status"], count=row["n"])
        for key in clocks:
            entry[key] += row[key]

    columns, params = [], []
    for severity in Severity.values:
        for end in END_FIELDS:
            columns.append(
                f"percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY date_part('epoch', {end} - created_at)) "
                "FILTER (WHERE severity = %s)"
            )
            params.append(severity)
    # bandit B608: column names are ours (END_FIELDS); values are bound parameters
    query = f"SELECT {', '.join(columns)} FROM reports_report WHERE created_at >= %s AND created_at < %s"  # noqa: S608  # nosec B608
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL work_mem = '64MB'")
        cursor.execute(query, [*params, period.start_at, period.end_at])
        fractions = iter(cursor.fetchone())
    for severity in Severity.values:
        for end in END_FIELDS:
            median, p90 = next(fractions) or (None, None)
            if severity in summary:
                entry = summary[severity]
                entry[end] = (median, p90, entry.pop(f"{end}_ended"), entry.pop(f"{end}_within"))
    return summary


def _percentile(sorted_values: list[float], fraction: float) -> float | None:
    """Linear interpolation between closest ranks, as PostgreSQL's percentile_cont."""
    if not sorted_values:
        return None
    position = (len(sorted_values) - 1) * fraction
    low, high = math.floor(position), math.ceil(position)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


def _summary_python(period: Period) -> dict[str, dict]:
    """The same figures as _summary_pg for SQLite, which has no percentile_cont: the period's rows
    as a few columns, ranked in Python."""
    rows = _received(period).values_list("severity", "status", "created_at", *END_FIELDS, "due_at")
    summary: dict[str, dict] = {}
    durations: dict[tuple[str, str], list[float]] = {}
    for severity, status, created, *ends, due in rows:
        row = summary.setdefault(severity, _empty_entry())
        _add_received(row, status=status, count=1)
        for end, ended in zip(END_FIELDS, ends, strict=True):
            if ended is not None:
                durations.setdefault((severity, end), []).append((ended - created).total_seconds())
                row[f"{end}_within"] = row.get(f"{end}_within", 0) + (ended <= due)
    for severity, row in summary.items():
        for end in END_FIELDS:
            values = sorted(durations.get((severity, end), []))
            within = row.pop(f"{end}_within", 0)
            row[end] = (_percentile(values, 0.5), _percentile(values, 0.9), len(values), within)
    return summary


def received_summary(period: Period) -> dict[str, dict]:
    """For the reports received in the period, per severity: how many, how they stand, and the
    (median seconds, p90 seconds, ended, ended by the deadline) of each clock in END_FIELDS."""
    return _summary_pg(period) if connection.vendor == "postgresql" else _summary_python(period)


def timing_table(summary: dict[str, dict], *, end_field: str) -> dict[str, dict]:
    """Median and 90th percentile hours from receipt to `end_field` per severity, with the share
    done within the deadline, most severe first."""
    result = {}
    for severity in sorted(Severity.values, key=lambda s: SEVERITY_RANK[s]):
        median, p90, count, within = summary.get(severity, {}).get(end_field, (None, None, 0, 0))
        result[severity] = {
            "median_hours": None if median is None else float(median) / 3600,
            "p90_hours": None if p90 is None else float(p90) / 3600,
            "count": count,
            "within_deadline": within,
            "share_within_deadline": (within / count) if count else None,
        }
    return result


def decision_totals(summary: dict[str, dict]) -> dict[str, int | float | None]:
    counts = {key: sum(row[key] for row in summary.values()) for key in ("resolved", "dismissed", "open")}
    counts["received"] = sum(row["received"] for row in summary.values())
    closed = counts["resolved"] + counts["dismissed"]
    counts["dismissal_rate"] = counts["dismissed"] / closed if closed else None
    return counts


def actions_by_kind(period: Period) -> dict[str, int]:
    rows = (
        Sanction.objects.filter(decided_at__gte=period.start_at, decided_at__lt=period.end_at)
        .values("kind")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {row["kind"]: row["n"] for row in rows}


def appeals(period: Period) -> dict[str, float | int | None]:
    counts = Appeal.objects.filter(created_at__gte=period.start_at, created_at__lt=period.end_at).aggregate(
        received=Count("id"),
        decided=Count("id", filter=~Q(status=AppealStatus.PENDING)),
        upheld=Count("id", filter=Q(status=AppealStatus.UPHELD)),
        partially_reversed=Count("id", filter=Q(status=AppealStatus.PARTIALLY_REVERSED)),
        reversed=Count("id", filter=Q(status=AppealStatus.REVERSED)),
    )
    changed = counts["reversed"] + counts["partially_reversed"]
    counts["share_reversed"] = changed / counts["decided"] if counts["decided"] else None
    return counts


def moderator_throughput(period: Period) -> list[dict]:
    """Reports closed in the period per moderator. Grouped on the id alone (an index-only scan of
    the closed_at covering index), then the few names fetched: joining the accounts first hashed
    every account for every closed report."""
    rows = list(
        Report.objects.filter(closed_at__gte=period.start_at, closed_at__lt=period.end_at, reviewed_by__isnull=False)
        .values("reviewed_by_id")
        .annotate(
            closed=Count("pk"),
            resolved=Count("pk", filter=Q(status=ReportStatus.RESOLVED)),
            dismissed=Count("pk", filter=Q(status=ReportStatus.DISMISSED)),
        )
        .order_by()
    )
    names = dict(
        get_user_model().objects.filter(pk__in=[row["reviewed_by_id"] for row in rows]).values_list("pk", "username")
    )
    rows.sort(key=lambda row: (-row["closed"], names.get(row["reviewed_by_id"], "")))
    return [
        {"moderator": names.get(row["reviewed_by_id"], ""), **{k: row[k] for k in ("closed", "resolved", "dismissed")}}
        for row in rows
    ]


def category_labels() -> dict[str, str]:
    return dict(Category.choices)


def _median_hours(values: list[float]) -> float | None:
    value = _percentile(sorted(values), 0.5)
    return None if value is None else value / 3600


def transparency_counts(period: Period) -> dict:
    """The figures the DSA transparency report template asks for, for one period."""
    from audit.models import AuditEvent  # the audit log is read, never written, here

    received = _received(period)
    by_category = dict(received.values_list("category").annotate(n=Count("id")).order_by())
    by_channel = dict(received.values_list("channel").annotate(n=Count("id")).order_by())
    acted = received.filter(status=ReportStatus.RESOLVED, closed_at__isnull=False)
    action_hours = [
        (closed - created).total_seconds() for created, closed in acted.values_list("created_at", "closed_at")
    ]
    sanctions = Sanction.objects.filter(decided_at__gte=period.start_at, decided_at__lt=period.end_at)
    by_ground = dict(sanctions.values_list("ground_type").annotate(n=Count("id")).order_by())
    appeals_in = Appeal.objects.filter(created_at__gte=period.start_at, created_at__lt=period.end_at)
    appeal_hours = [
        (decided - created).total_seconds()
        for created, decided in appeals_in.filter(decided_at__isnull=False).values_list("created_at", "decided_at")
    ]
    misuse_pauses = AuditEvent.objects.filter(
        event_type="account.flag_changed",
        data__rule="misuse",
        after__reports_paused_until__isnull=False,
        created_at__gte=period.start_at,
        created_at__lt=period.end_at,
    ).count()
    return {
        "period": {"start": period.start.isoformat(), "end": period.end.isoformat()},
        "notices_received": received.count(),
        "notices_by_category": {c: by_category.get(c, 0) for c in Category.values},
        "notices_by_channel": by_channel,
        "notices_from_trusted_flaggers": received.filter(from_trusted_flagger=True).count(),
        "notices_acted_on": acted.count(),
        "median_hours_to_action": _median_hours(action_hours),
        "actions_total": sanctions.count(),
        "actions_on_law": by_ground.get("law", 0),
        "actions_on_terms_and_conditions": by_ground.get("terms", 0),
        "actions_by_kind": {row["kind"]: row["n"] for row in sanctions.values("kind").annotate(n=Count("id"))},
        "actions_with_automation": sanctions.filter(automated=True).count(),
        "complaints_received": appeals_in.count(),
        "complaints_upheld": appeals_in.filter(status=AppealStatus.UPHELD).count(),
        "complaints_reversed": appeals_in.filter(status=AppealStatus.REVERSED).count(),
        "complaints_partially_reversed": appeals_in.filter(status=AppealStatus.PARTIALLY_REVERSED).count(),
        "complaints_pending": appeals_in.filter(status=AppealStatus.PENDING).count(),
        "median_hours_to_complaint_decision": _median_hours(appeal_hours),
        "suspensions_for_misuse": misuse_pauses,
    }
