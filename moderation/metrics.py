"""Reads for the dashboard and the transparency report. Every figure is aggregated in the database
(one grouped query each); percentiles use PostgreSQL's percentile_cont, and on SQLite, which has
none, the durations of the period are fetched as one column and ranked in Python."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import connection
from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from moderation.models import Appeal, AppealStatus, Sanction
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
        .annotate(n=Count("id"))
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


def _percentiles_pg(queryset: QuerySet[Report], start_field: str, end_field: str) -> dict[str, tuple]:
    sql, params = queryset.values("id").query.sql_with_params()
    # bandit B608: field names are ours, values are bound parameters
    query = f"""
        SELECT r.severity,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM r.{end_field} - r.{start_field})),
               percentile_cont(0.9) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM r.{end_field} - r.{start_field})),
               COUNT(*),
               COUNT(*) FILTER (WHERE r.{end_field} <= r.due_at)
        FROM reports_report r WHERE r.id IN ({sql}) AND r.{end_field} IS NOT NULL
        GROUP BY r.severity
    """  # noqa: S608  # nosec B608
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return {row[0]: (row[1], row[2], row[3], row[4]) for row in cursor.fetchall()}


def _percentile(sorted_values: list[float], fraction: float) -> float | None:
    """Linear interpolation between closest ranks, as PostgreSQL's percentile_cont."""
    if not sorted_values:
        return None
    position = (len(sorted_values) - 1) * fraction
    low, high = math.floor(position), math.ceil(position)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


def _percentiles_python(queryset: QuerySet[Report], start_field: str, end_field: str) -> dict[str, tuple]:
    rows = (
        queryset.filter(**{f"{end_field}__isnull": False})
        .annotate(took=ExpressionWrapper(F(end_field) - F(start_field), output_field=DurationField()))
        .values_list("severity", "took", end_field, "due_at")
    )
    by_severity: dict[str, list[float]] = {}
    in_time: dict[str, int] = {}
    for severity, took, ended, due in rows:
        by_severity.setdefault(severity, []).append(took.total_seconds())
        in_time[severity] = in_time.get(severity, 0) + (ended <= due)
    result = {}
    for severity, values in by_severity.items():
        values.sort()
        result[severity] = (_percentile(values, 0.5), _percentile(values, 0.9), len(values), in_time[severity])
    return result


def time_to_action(period: Period, *, end_field: str) -> dict[str, dict]:
    """Median and 90th percentile hours from receipt to `end_field` (first_reviewed_at or closed_at)
    per severity, for reports received in the period, with the share done within the deadline."""
    queryset = _received(period)
    compute = _percentiles_pg if connection.vendor == "postgresql" else _percentiles_python
    raw = compute(queryset, "created_at", end_field)
    result = {}
    for severity in sorted(Severity.values, key=lambda s: SEVERITY_RANK[s]):
        median, p90, count, within = raw.get(severity, (None, None, 0, 0))
        result[severity] = {
            "median_hours": None if median is None else float(median) / 3600,
            "p90_hours": None if p90 is None else float(p90) / 3600,
            "count": count,
            "within_deadline": within,
            "share_within_deadline": (within / count) if count else None,
        }
    return result


def decisions(period: Period) -> dict[str, int]:
    counts = _received(period).aggregate(
        received=Count("id"),
        resolved=Count("id", filter=Q(status=ReportStatus.RESOLVED)),
        dismissed=Count("id", filter=Q(status=ReportStatus.DISMISSED)),
        open=Count("id", filter=Q(status__in=OPEN_STATUSES)),
    )
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
    rows = (
        Report.objects.filter(closed_at__gte=period.start_at, closed_at__lt=period.end_at, reviewed_by__isnull=False)
        .values("reviewed_by__username")
        .annotate(
            closed=Count("id"),
            resolved=Count("id", filter=Q(status=ReportStatus.RESOLVED)),
            dismissed=Count("id", filter=Q(status=ReportStatus.DISMISSED)),
        )
        .order_by("-closed")
    )
    return [
        {"moderator": row["reviewed_by__username"], **{k: row[k] for k in ("closed", "resolved", "dismissed")}}
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
