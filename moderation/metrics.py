"""Reads for the dashboard and the transparency report.

The figures about the reports received in a period (per day and category, per severity and status,
the two clocks' medians and 90th percentiles, the moderators' closures) and the actions taken in it
come from the rollups of moderation/rollups.py plus the changes not yet folded into them, read from
one snapshot: a few thousand rows whatever the number of reports, the percentiles' histograms two
rows each whatever the period's length; exact counts, percentiles within the bound stated there.
The open backlog is counted from the rollups and its small end live; appeals in the period are one
grouped query.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy

from moderation import rollups
from moderation.enforcement.models import Appeal, AppealStatus, Sanction
from moderation.models import (
    ModeratorDayCount,
    ReportDayCount,
    ReportRollupChange,
    SanctionDayCount,
    SanctionRollupChange,
)
from moderation.stories.models import StoryReview, StoryStatus
from reports.categories import SEVERITY_RANK, Category, Severity
from reports.models import OPEN_STATUSES, Report, ReportStatus

# (aggregate alias, label, from hours, to hours)
AGE_BUCKETS = [
    ("age_0_24h", gettext_lazy("under 24 h"), 0, 24),
    ("age_1_3d", gettext_lazy("1–3 days"), 24, 72),
    ("age_3_7d", gettext_lazy("3–7 days"), 72, 168),
    ("age_over_7d", gettext_lazy("over 7 days"), 168, None),
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


def open_backlog(now: datetime | None = None) -> dict[str, dict[str, int]]:
    """Open reports by severity and by age bucket, and those past their deadline. Counted from the
    small end: the open reports of each severity (rollups.open_counts), the ones received within the
    last bucket's bound counted by age (a range of the partial index of open reports by severity and
    receipt), and those not yet due (a range of the status-severity-deadline index); the older and
    the overdue, most of a backlog, are the differences. Counting every open report read the whole
    backlog (200 ms at 3,000,000 reports). All from one snapshot, so the differences are exact."""
    now = now or timezone.now()
    oldest_bound = max(high for *_, high in AGE_BUCKETS if high is not None)
    # Counting created_at and due_at, columns of the indexes read, keeps both scans index-only.
    aggregates = {"recent": Count("created_at")}
    for key, _label, low, high in AGE_BUCKETS:
        if high is not None:
            aggregates[key] = Count(
                "created_at",
                filter=Q(created_at__lte=now - timedelta(hours=low), created_at__gt=now - timedelta(hours=high)),
            )
    # Both lists given, PostgreSQL reads one index range per (status, severity) instead of the backlog.
    open_in = Report.objects.filter(status__in=OPEN_STATUSES, severity__in=Severity.values)
    with rollups.one_snapshot():
        totals: dict[str, int] = {}
        for (severity, _status), n in rollups.open_counts().items():
            totals[severity] = totals.get(severity, 0) + n
        recent = {
            row.pop("severity"): row
            for row in open_in.filter(created_at__gt=now - timedelta(hours=oldest_bound))
            .values("severity")
            .annotate(**aggregates)
            .order_by()
        }
        not_due = dict(open_in.filter(due_at__gte=now).values_list("severity").annotate(n=Count("due_at")).order_by())
    result = {}
    for severity in sorted(Severity.values, key=lambda s: SEVERITY_RANK[s]):
        total, row = totals.get(severity, 0), recent.get(severity, {"recent": 0})
        result[severity] = {key: row.get(key, 0) for key, *_ in AGE_BUCKETS}
        old_key = next(key for key, *_, high in AGE_BUCKETS if high is None)
        result[severity][old_key] = total - row["recent"]
        result[severity]["overdue"] = total - not_due.get(severity, 0)
    return result


#: The two clocks of a report: receipt to first review, and receipt to decision.
END_FIELDS = ("first_reviewed_at", "closed_at")
_CLOCK_OF = {end: clock for clock, end in rollups.CLOCKS.items()}
_ENTRY_KEYS = (
    "received",
    *(status for status in ReportStatus.values if status not in OPEN_STATUSES),
    "open",
    *(f"{end}_{part}" for end in END_FIELDS for part in ("ended", "within")),
)


@dataclass(frozen=True)
class ReceivedFigures:
    """What the dashboard shows about the reports received in a period, and the closures and
    actions in it."""

    per_day: dict[date, dict[str, int]]  # day -> category -> reports received
    summary: dict[str, dict]  # severity -> see received_summary
    throughput: list[dict]  # see moderator_throughput
    actions: dict[str, int]  # sanction kind -> decided in the period; see actions_by_kind


Histograms = dict[tuple[str, str], Counter]  # (severity, clock) -> bucket -> reports


@dataclass
class PeriodTotals:
    """A period's figures summed over its days, as the dashboard shows them: so that a longer period
    costs more rows summed in SQL, not more rows in Python (a 90-day page read 3,800 count rows and
    3,600 closure rows here)."""

    per_day: dict[date, Counter] = field(default_factory=lambda: defaultdict(Counter))  # day -> category
    # (severity, status) -> rollups.COUNT_FIELDS of the reports received in the period
    counters: dict[tuple[str, str], list[int]] = field(
        default_factory=lambda: defaultdict(lambda: [0] * len(rollups.COUNT_FIELDS))
    )
    closed: dict[tuple[int, str], int] = field(default_factory=lambda: defaultdict(int))  # (moderator, status)
    histograms: Histograms = field(default_factory=dict)

    def add_counter_rows(self, rows: Iterable[Sequence]) -> None:
        """(severity, status, *COUNT_FIELDS) rows."""
        for severity, status, *values in rows:
            counters = self.counters[(severity, status)]
            for index, value in enumerate(values):
                counters[index] += value

    def add_tally(self, tally: rollups.Tally, *, days: set[date]) -> None:
        """A tally's rows of `days` (reports received on them, closures made on them)."""
        for (day, category, severity, status), counters in tally.counts.items():
            if day in days:
                self.per_day[day][category] += counters[0]
                self.add_counter_rows([(severity, status, *counters)])
        for (day, moderator_id, status), reports in tally.moderators.items():
            if day in days:
                self.closed[(moderator_id, status)] += reports
        for (day, severity, clock), histogram in tally.durations.items():
            if day in days:
                self.histograms.setdefault((severity, clock), Counter()).update(histogram)


def _read_period(period: Period) -> tuple[PeriodTotals, dict[str, int]]:
    """The period's rollups and pending changes, from one snapshot: its totals, and the actions by
    kind. Until the rollups are first built (`rollup_reports`, right after the migration on a
    database that had reports), the same is counted from the reports themselves: exact, as slow as
    a scan of the period."""
    in_period = Q(created_at__gte=period.start_at, created_at__lt=period.end_at) | Q(
        closed_at__gte=period.start_at, closed_at__lt=period.end_at
    )
    totals, pending, days = PeriodTotals(), rollups.Tally(), set(period.days)
    with rollups.one_snapshot():
        if not rollups.is_built():
            for row in Report.objects.filter(in_period).values_list(*rollups.ROW_FIELDS).order_by().iterator():
                pending.add_report(row)
            totals.add_tally(pending, days=days)
            return totals, _actions(period, built=False)
        counts = ReportDayCount.objects.filter(day__range=(period.start, period.end)).order_by()
        for day, category, reports in counts.values_list("day", "category").annotate(n=Sum("reports")):
            totals.per_day[day][category] += reports
        totals.add_counter_rows(
            counts.values_list("severity", "status").annotate(*(Sum(name) for name in rollups.COUNT_FIELDS))
        )
        closed = ModeratorDayCount.objects.filter(day__range=(period.start, period.end)).order_by()
        for moderator_id, status, reports in closed.values_list("moderator_id", "status").annotate(n=Sum("reports")):
            totals.closed[(moderator_id, status)] += reports
        totals.histograms = rollups.histograms_between(period.start, period.end)
        actions = _actions(period, built=True)
        for sign, *row in ReportRollupChange.objects.filter(in_period).values_list("sign", *rollups.ROW_FIELDS):
            pending.add_report(row, sign)
    totals.add_tally(pending, days=days)
    return totals, actions


def received_figures(period: Period) -> ReceivedFigures:
    totals, actions = _read_period(period)
    return ReceivedFigures(
        per_day=_per_day_by_category(totals, period),
        summary=received_summary(totals),
        throughput=moderator_throughput(totals),
        actions=actions,
    )


def _per_day_by_category(totals: PeriodTotals, period: Period) -> dict[date, dict[str, int]]:
    return {day: {category: n for category, n in totals.per_day.get(day, {}).items() if n} for day in period.days}


def received_summary(totals: PeriodTotals) -> dict[str, dict]:
    """For the reports received in the period, per severity: how many, how they stand (resolved,
    dismissed, open), and for each clock in END_FIELDS (median seconds, p90 seconds, ended, ended
    by the deadline), the percentiles from the period's histograms. Severities without a report are
    left out."""
    summary: dict[str, dict] = {}
    for (severity, status), counters in totals.counters.items():
        if not counters[0]:
            continue
        entry = summary.setdefault(severity, dict.fromkeys(_ENTRY_KEYS, 0))
        entry["received"] += counters[0]
        entry["open" if status in OPEN_STATUSES else status] += counters[0]
        for index, end in enumerate(END_FIELDS):
            entry[f"{end}_ended"] += counters[1 + 2 * index]
            entry[f"{end}_within"] += counters[2 + 2 * index]
    for severity, entry in summary.items():
        for end in END_FIELDS:
            histogram = totals.histograms.get((severity, _CLOCK_OF[end]), Counter())
            entry[end] = (
                rollups.histogram_percentile(histogram, 0.5),
                rollups.histogram_percentile(histogram, 0.9),
                entry.pop(f"{end}_ended"),
                entry.pop(f"{end}_within"),
            )
    return summary


def _percentile(sorted_values: list[float], fraction: float) -> float | None:
    """Linear interpolation between closest ranks, as PostgreSQL's percentile_cont."""
    if not sorted_values:
        return None
    position = (len(sorted_values) - 1) * fraction
    low, high = math.floor(position), math.ceil(position)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


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
    """Sanctions decided in the period by kind (the dashboard reads them with the rest of
    received_figures, from the same snapshot)."""
    with rollups.one_snapshot():
        return _actions(period, built=rollups.is_built())


def _actions(period: Period, *, built: bool) -> dict[str, int]:
    """The rollups' per-day counts of sanctions by kind plus the changes not yet folded (counting
    the sanctions' index range took 82 ms for a month at 3,000,000 reports, and grew with the
    period); until the rollups are built, the sanctions themselves. Inside the caller's snapshot."""
    decided_in = Q(decided_at__gte=period.start_at, decided_at__lt=period.end_at)
    if not built:
        # Count("kind"), not the id: sanction_decided_kind_idx then answers alone (index-only).
        return dict(Sanction.objects.filter(decided_in).values_list("kind").annotate(n=Count("kind")).order_by())
    folded = (
        SanctionDayCount.objects.filter(day__range=(period.start, period.end))
        .values_list("kind")
        .annotate(n=Sum("sanctions"))
        .order_by()
    )
    pending = SanctionRollupChange.objects.filter(decided_in).values_list("kind").annotate(n=Sum("sign")).order_by()
    counts: dict[str, int] = Counter()
    for kind, n in folded.union(pending, all=True):  # one query
        counts[kind] += n
    return {kind: n for kind, n in counts.items() if n}


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


def moderator_throughput(totals: PeriodTotals) -> list[dict]:
    """Reports closed in the period per moderator, most first; the few names fetched at the end."""
    per_moderator: dict[int, dict[str, int]] = {}
    for (moderator_id, status), reports in totals.closed.items():
        if reports:
            row = per_moderator.setdefault(moderator_id, {"closed": 0, "resolved": 0, "dismissed": 0})
            row["closed"] += reports
            if status in (ReportStatus.RESOLVED, ReportStatus.DISMISSED):
                row[status] += reports
    names = dict(get_user_model().objects.filter(pk__in=list(per_moderator)).values_list("pk", "username"))
    ordered = sorted(per_moderator.items(), key=lambda item: (-item[1]["closed"], names.get(item[0], "")))
    return [{"moderator": names.get(moderator_id, ""), **counts} for moderator_id, counts in ordered]


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
    # Video stories decided before publication (moderation/stories): own-initiative decisions on content.
    stories = StoryReview.objects.filter(decided_at__gte=period.start_at, decided_at__lt=period.end_at).aggregate(
        decided=Count("id"),
        rejected=Count("id", filter=Q(status=StoryStatus.REJECTED)),
        rejected_automatically=Count("id", filter=Q(status=StoryStatus.REJECTED, automated=True)),
    )
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
        "stories_reviewed_before_publication": stories["decided"],
        "stories_refused_publication": stories["rejected"],
        "stories_refused_automatically": stories["rejected_automatically"],
    }
