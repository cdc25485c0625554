"""The dashboard's daily rollups (moderation/rollups.py) against the old exact computation, on a
seeded database, on SQLite and PostgreSQL: the counts equal exactly (the actions by kind included),
the histograms a period's percentiles come from equal the reports' own bucket by bucket, and the
medians and 90th percentiles are within the stated bound. At every stage: changes still pending,
folded, changed again, rebuilt, and before the rollups are built at all. Then the triggers (every
way of writing a report or a sanction is counted), the bound itself (a property test), the command,
and two folds racing.
"""

from __future__ import annotations

import math
import random
import threading
import uuid
from datetime import date, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.db.models import Case, Count, F, Q, Value, When
from django.db.models.functions import TruncDate
from django.utils import timezone
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from moderation import metrics, oncall, rollups
from moderation.enforcement.actions import ActionKind
from moderation.enforcement.models import Sanction
from moderation.models import (
    ModeratorDayCount,
    ReportDayCount,
    ReportDurationsThrough,
    ReportRollupChange,
    RollupState,
    SanctionDayCount,
    SanctionRollupChange,
)
from reports.categories import Category, Severity, deadline_for, severity_for
from reports.models import CLOSED_STATUSES, OPEN_STATUSES, Report, ReportStatus
from tests.factories import ReportFactory, SanctionFactory, TargetFactory, UserFactory

BOUND = rollups.PERCENTILE_RELATIVE_ERROR


# --- the old exact computation: moderation/metrics.py before the rollups, kept here as the reference --


def old_per_day(period: metrics.Period) -> dict[date, dict[str, int]]:
    rows = (
        Report.objects.filter(created_at__gte=period.start_at, created_at__lt=period.end_at)
        .annotate(day=TruncDate("created_at"))
        .values("day", "category")
        .annotate(n=Count("*"))
        .order_by()
    )
    table: dict[date, dict[str, int]] = {day: {} for day in period.days}
    for row in rows:
        table.setdefault(row["day"], {})[row["category"]] = row["n"]
    return table


def _old_summary_pg(period: metrics.Period) -> dict[str, dict]:
    received = Report.objects.filter(created_at__gte=period.start_at, created_at__lt=period.end_at)
    clocks = {}
    for end in metrics.END_FIELDS:
        clocks[f"{end}_ended"] = Count(end)
        clocks[f"{end}_within"] = Count("pk", filter=Q(**{f"{end}__lte": F("due_at")}))
    summary: dict[str, dict] = {}
    for row in received.values("severity", "status").annotate(n=Count("pk"), **clocks).order_by():
        entry = summary.setdefault(
            row["severity"], {"received": 0, "resolved": 0, "dismissed": 0, "open": 0, **dict.fromkeys(clocks, 0)}
        )
        entry["received"] += row["n"]
        entry["open" if row["status"] in OPEN_STATUSES else row["status"]] += row["n"]
        for key in clocks:
            entry[key] += row[key]
    columns, params = [], []
    severities = sorted(summary)
    for severity in severities:
        for end in metrics.END_FIELDS:
            columns.append(
                f"percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY date_part('epoch', {end} - created_at)) "
                "FILTER (WHERE severity = %s)"
            )
            params.append(severity)
    if not columns:
        return summary
    query = f"SELECT {', '.join(columns)} FROM reports_report WHERE created_at >= %s AND created_at < %s"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(query, [*params, period.start_at, period.end_at])
        fractions = iter(cursor.fetchone())
    for severity in severities:
        for end in metrics.END_FIELDS:
            median, p90 = next(fractions) or (None, None)
            entry = summary[severity]
            entry[end] = (median, p90, entry.pop(f"{end}_ended"), entry.pop(f"{end}_within"))
    return summary


def _old_summary_python(period: metrics.Period) -> dict[str, dict]:
    rows = Report.objects.filter(created_at__gte=period.start_at, created_at__lt=period.end_at).values_list(
        "severity", "status", "created_at", *metrics.END_FIELDS, "due_at"
    )
    summary: dict[str, dict] = {}
    durations: dict[tuple[str, str], list[float]] = {}
    for severity, status, created, *ends, due in rows:
        row = summary.setdefault(severity, {"received": 0, "resolved": 0, "dismissed": 0, "open": 0})
        row["received"] += 1
        row["open" if status in OPEN_STATUSES else status] += 1
        for end, ended in zip(metrics.END_FIELDS, ends, strict=True):
            if ended is not None:
                durations.setdefault((severity, end), []).append((ended - created).total_seconds())
                row[f"{end}_within"] = row.get(f"{end}_within", 0) + (ended <= due)
    for severity, row in summary.items():
        for end in metrics.END_FIELDS:
            values = sorted(durations.get((severity, end), []))
            within = row.pop(f"{end}_within", 0)
            row[end] = (metrics._percentile(values, 0.5), metrics._percentile(values, 0.9), len(values), within)
    return summary


def old_summary(period: metrics.Period) -> dict[str, dict]:
    return _old_summary_pg(period) if connection.vendor == "postgresql" else _old_summary_python(period)


def old_throughput(period: metrics.Period) -> list[dict]:
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


def old_backlog(now) -> dict[str, dict[str, int]]:
    aggregates = {}
    for key, _label, low, high in metrics.AGE_BUCKETS:
        condition = Q(created_at__lte=now - timedelta(hours=low))
        if high is not None:
            condition &= Q(created_at__gt=now - timedelta(hours=high))
        aggregates[key] = Count("id", filter=condition)
    aggregates["overdue"] = Count("id", filter=Q(due_at__lt=now))
    rows = Report.objects.filter(status__in=OPEN_STATUSES).values("severity").annotate(**aggregates).order_by()
    keys = [*(bucket[0] for bucket in metrics.AGE_BUCKETS), "overdue"]
    result = {severity: dict.fromkeys(keys, 0) for severity in Severity.values}
    for row in rows:
        result[row.pop("severity")] = row
    return result


def old_actions_by_kind(period: metrics.Period) -> dict[str, int]:
    rows = Sanction.objects.filter(decided_at__gte=period.start_at, decided_at__lt=period.end_at).values_list("kind")
    return dict(rows.annotate(n=Count("id")).order_by())


def exact_histograms(period: metrics.Period) -> dict[tuple[str, str], dict[int, int]]:
    """The durations of the reports received in the period, bucket by bucket, from the reports."""
    histograms: dict[tuple[str, str], dict[int, int]] = {}
    received = Report.objects.filter(created_at__gte=period.start_at, created_at__lt=period.end_at)
    for severity, created, *ends in received.values_list("severity", "created_at", *metrics.END_FIELDS):
        for clock, ended in zip(rollups.CLOCKS, ends, strict=True):
            if ended is not None:
                histogram = histograms.setdefault((severity, clock), {})
                bucket = rollups.bucket_of((ended - created).total_seconds())
                histogram[bucket] = histogram.get(bucket, 0) + 1
    return histograms


def without_zeros(histograms) -> dict[tuple[str, str], dict[int, int]]:
    kept = {key: {bucket: n for bucket, n in histogram.items() if n} for key, histogram in histograms.items()}
    return {key: histogram for key, histogram in kept.items() if histogram}


def within_bound(estimate: float | None, exact: float | None) -> bool:
    if exact is None:
        return estimate is None
    return estimate is not None and abs(estimate - float(exact)) <= max(BOUND * abs(float(exact)), 1.0)


PERIODS = [
    metrics.Period.last(7),
    metrics.Period.last(30),
    metrics.Period.last(90),
    metrics.Period(timezone.localdate() - timedelta(days=20), timezone.localdate() - timedelta(days=10)),
    # One day, inside the seeded days: a cumulative row less the one the day before.
    metrics.Period(timezone.localdate() - timedelta(days=40), timezone.localdate() - timedelta(days=40)),
    # Before the first report (no row through its end), and longer than the seeded days.
    metrics.Period(timezone.localdate() - timedelta(days=300), timezone.localdate() - timedelta(days=200)),
    metrics.Period(timezone.localdate() - timedelta(days=300), timezone.localdate()),
]


def assert_as_exact(checked: list[str] | None = None) -> None:
    """The rollup-based figures equal the old computation for several periods, and so do the open
    backlog and the metrics' open and overdue counts (counted partly from the rollups); fails naming
    the first difference."""
    now = timezone.now()
    assert metrics.open_backlog(now) == old_backlog(now)
    open_now = oncall.open_reports()
    assert sum(open_now.values()) == Report.objects.filter(status__in=OPEN_STATUSES).count()
    overdue = oncall.past_deadline(now, open_reports=open_now)
    assert overdue == {severity: row["overdue"] for severity, row in old_backlog(now).items()}
    for period in PERIODS:
        figures = metrics.received_figures(period)
        assert figures.per_day == old_per_day(period), period
        assert figures.actions == metrics.actions_by_kind(period) == old_actions_by_kind(period), period
        # The percentiles' histograms (cumulative rows' differences plus pending changes) are the
        # reports' own, bucket by bucket: only the placement inside a bucket is approximate.
        totals, _actions = metrics._read_period(period)
        assert without_zeros(totals.histograms) == exact_histograms(period), period
        assert figures.throughput == old_throughput(period), period
        exact = old_summary(period)
        assert set(figures.summary) == set(exact), period
        for severity, entry in exact.items():
            ours = figures.summary[severity]
            for key in ("received", "resolved", "dismissed", "open"):
                assert ours[key] == entry[key], (period, severity, key)
            for end in metrics.END_FIELDS:
                median, p90, ended, within = entry[end]
                our_median, our_p90, our_ended, our_within = ours[end]
                assert (our_ended, our_within) == (ended, within), (period, severity, end)
                assert within_bound(our_median, median), (period, severity, end, our_median, median)
                assert within_bound(our_p90, p90), (period, severity, end, our_p90, p90)
                if checked is not None and median is not None:
                    checked.append(f"{severity}/{end}")


# --- a seeded database ------------------------------------------------------------------------------


def seed(rng: random.Random, *, reports: int = 360, days: int = 100) -> list[uuid.UUID]:
    """Reports over `days` days, every category and status, times to review from a fraction of a
    second to days (some past their deadline, some closed on another day than received), closed by
    three moderators or by nobody (the system)."""
    now = timezone.now()
    moderators = [UserFactory(username=f"rollup_mod{n}", role="moderator") for n in range(3)]
    reporters = [UserFactory(username=f"rollup_user{n}") for n in range(12)]
    targets = [TargetFactory() for _ in range(-(-reports // len(reporters)))]
    rows, created = [], {}
    for index in range(reports):
        category = rng.choice(Category.values)
        received = now - timedelta(seconds=rng.randint(0, days * 86400))
        status = rng.choice(ReportStatus.values)
        first = closed = reviewer = None
        if status != ReportStatus.PENDING:
            wait = rng.choice([rng.uniform(0, 0.9), rng.uniform(1, 3600), rng.uniform(3600, 10 * 86400)])
            first = min(received + timedelta(seconds=wait), now)
            if status in CLOSED_STATUSES:
                closed = min(first + timedelta(seconds=rng.uniform(0, 3 * 86400)), now)
            reviewer = rng.choice([*moderators, None]) if closed else rng.choice(moderators)
        report_id = uuid.uuid4()
        created[report_id] = received
        rows.append(
            Report(
                id=report_id,
                target=targets[index // len(reporters)],
                report_type=targets[index // len(reporters)].kind,
                reporter=reporters[index % len(reporters)],
                category=category,
                severity=severity_for(category),
                reason="Seeded for the rollup check.",
                status=status,
                due_at=deadline_for(category=category, received_at=received),
                first_reviewed_at=first,
                reviewed_at=closed or first,
                closed_at=closed,
                reviewed_by=reviewer,
            )
        )
    Report.objects.bulk_create(rows)
    # created_at is auto_now_add: set the receipt times afterwards, in one statement.
    Report.objects.filter(pk__in=created).update(
        created_at=Case(*(When(pk=pk, then=Value(at)) for pk, at in created.items()))
    )
    decided_by = moderators[0]
    for _ in range(reports // 6):
        SanctionFactory(
            kind=rng.choice(ActionKind.values),
            account=rng.choice(reporters),
            decided_by=decided_by,
            decided_at=now - timedelta(seconds=rng.randint(0, days * 86400)),
        )
    return list(created)


def change_some(rng: random.Random, ids: list[uuid.UUID]) -> None:
    """Work as moderators do, by every path: reviews and decisions saved one by one, a bulk update,
    reopenings, and a few reports deleted."""
    now = timezone.now()
    moderator = get_user_model().objects.get(username="rollup_mod0")
    for report in Report.objects.filter(pk__in=rng.sample(ids, 25), status__in=OPEN_STATUSES):
        report.status = rng.choice(CLOSED_STATUSES)
        report.first_reviewed_at = report.first_reviewed_at or now
        report.closed_at = now
        report.reviewed_by = moderator
        report.save()
    Report.objects.filter(pk__in=rng.sample(ids, 25), status=ReportStatus.PENDING).update(
        status=ReportStatus.REVIEWED, first_reviewed_at=now, reviewed_by=moderator
    )
    Report.objects.filter(pk__in=rng.sample(ids, 25), status__in=CLOSED_STATUSES).update(
        status=ReportStatus.PENDING, closed_at=None
    )
    Report.objects.filter(pk__in=rng.sample(ids, 5)).delete()
    # Sanctions: new ones, one re-dated and one of another kind (a bulk update), one deleted.
    sanctions = list(Sanction.objects.order_by("decided_at").values_list("pk", flat=True))
    SanctionFactory.create_batch(3, kind=ActionKind.SUSPENSION, account=moderator, decided_by=moderator)
    Sanction.objects.filter(pk=sanctions[0]).update(decided_at=now - timedelta(days=1))
    Sanction.objects.filter(pk=sanctions[1]).update(kind=ActionKind.TERMINATION)
    Sanction.objects.filter(pk=sanctions[2]).delete()


@pytest.mark.django_db
def test_the_rollups_equal_the_old_exact_computation_at_every_stage():
    rng = random.Random(19)
    ids = seed(rng)
    checked: list[str] = []

    # 1. Nothing folded yet: the figures come from the pending changes alone.
    assert ReportRollupChange.objects.count() >= len(ids) and SanctionRollupChange.objects.exists()
    assert_as_exact(checked)
    # 2. Folded: from the rollup tables alone.
    result = rollups.fold_pending(batch_size=100)  # several batches
    assert result.folded > len(ids) and ReportRollupChange.objects.count() == 0
    assert not SanctionRollupChange.objects.exists()
    assert ReportDayCount.objects.exists() and ReportDurationsThrough.objects.exists()
    assert ModeratorDayCount.objects.exists() and SanctionDayCount.objects.exists()
    assert_as_exact()
    # 3. Changed by every path: rollups plus the changes since.
    change_some(rng, ids)
    assert ReportRollupChange.objects.exists() and SanctionRollupChange.objects.exists()
    assert_as_exact()
    # 4. Folded again, 5. rebuilt from scratch.
    rollups.fold_pending()
    assert_as_exact()
    assert rollups.rebuild() == Report.objects.count()
    assert_as_exact()
    # 6. Not built (a database that had reports before the rollups): counted from the reports.
    RollupState.objects.all().delete()
    assert not rollups.is_built()
    assert_as_exact()
    # The comparison looked at real percentiles, not only empty ones.
    assert len(set(checked)) >= 6


@pytest.mark.django_db
def test_a_fold_that_finds_them_unbuilt_builds_them_first(settings):
    ids = seed(random.Random(7), reports=60)
    RollupState.objects.all().delete()
    assert rollups.fold_pending().rebuilt == len(ids)
    assert rollups.is_built() and ReportRollupChange.objects.count() == 0
    assert_as_exact()
    # Another TIME_ZONE counts days differently: the rollups are no longer built for it.
    settings.TIME_ZONE = "America/New_York"
    assert not rollups.is_built()
    assert rollups.fold_pending().rebuilt == len(ids)
    assert RollupState.objects.get().time_zone == "America/New_York"
    assert_as_exact()


@pytest.mark.django_db
def test_the_triggers_write_each_change_of_a_counted_column_and_nothing_else(moderator):
    ReportRollupChange.objects.all().delete()
    report = ReportFactory()
    assert list(ReportRollupChange.objects.values_list("sign", "status")) == [(1, "pending")]
    # An assignment changes no counted column: nothing written.
    Report.objects.filter(pk=report.pk).update(assignee=moderator, admin_notes="looked at it")
    assert ReportRollupChange.objects.count() == 1
    Report.objects.filter(pk=report.pk).update(status=ReportStatus.REVIEWED, reviewed_by=moderator)
    changes = list(ReportRollupChange.objects.order_by("id").values_list("sign", "status", "reviewed_by_id"))
    assert changes[1:] == [(-1, "pending", None), (1, "reviewed", moderator.pk)]
    report.delete()
    assert ReportRollupChange.objects.order_by("id").values_list("sign", "status").last() == (-1, "reviewed")
    # The pending changes of a report that came and went add up to nothing.
    assert sum(ReportRollupChange.objects.values_list("sign", flat=True)) == 0


@pytest.mark.django_db
def test_the_sanction_triggers_write_each_change_of_a_counted_column_and_nothing_else(moderator):
    SanctionRollupChange.objects.all().delete()
    sanction = SanctionFactory(kind=ActionKind.WARNING, decided_by=moderator)
    assert list(SanctionRollupChange.objects.values_list("sign", "kind")) == [(1, "warning")]
    # Lifting it changes no counted column: nothing written.
    Sanction.objects.filter(pk=sanction.pk).update(status="lifted", lift_reason="a mistake")
    assert SanctionRollupChange.objects.count() == 1
    Sanction.objects.filter(pk=sanction.pk).update(kind=ActionKind.TIMEOUT)
    changes = list(SanctionRollupChange.objects.order_by("id").values_list("sign", "kind"))
    assert changes[1:] == [(-1, "warning"), (1, "timeout")]
    sanction.delete()
    assert SanctionRollupChange.objects.order_by("id").values_list("sign", "kind").last() == (-1, "timeout")
    assert sum(SanctionRollupChange.objects.values_list("sign", flat=True)) == 0


@pytest.mark.django_db
def test_the_durations_are_kept_through_each_day_and_a_late_change_reaches_every_later_row():
    """The stored histograms are cumulative: each row holds every report received through its day,
    so a change to a report received long ago is added into its day's row and every later one."""
    seed(random.Random(23), reports=120, days=30)
    rollups.fold_pending()
    assert_as_exact()
    for severity, clock in {(r.severity, r.clock) for r in ReportDurationsThrough.objects.all()}:
        totals = [
            sum(counts)
            for counts in ReportDurationsThrough.objects.filter(severity=severity, clock=clock)
            .order_by("day")
            .values_list("counts", flat=True)
        ]
        assert totals == sorted(totals) and totals[-1] > 0
    oldest = Report.objects.filter(closed_at__isnull=False).order_by("created_at").first()

    def from_its_day() -> dict[date, int]:
        rows = ReportDurationsThrough.objects.filter(
            severity=oldest.severity, clock="decision", day__gte=rollups.local_day(oldest.created_at)
        )
        return {day: sum(counts) for day, counts in rows.values_list("day", "counts")}

    before = from_its_day()
    assert len(before) > 1  # the report's day and later days
    Report.objects.filter(pk=oldest.pk).update(status=ReportStatus.PENDING, closed_at=None)
    rollups.fold_pending()
    # (a row that comes to nothing, the report's day when it was the first, is deleted)
    assert from_its_day() == {day: n - 1 for day, n in before.items() if n > 1}
    assert_as_exact()


@hypothesis_settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(st.floats(0, 0.999), st.floats(1, 3600), st.floats(3600, 400 * 86400)), min_size=1, max_size=300
    ),
    st.sampled_from([0.5, 0.9, 0.0, 1.0, 0.25]),
)
def test_a_percentile_from_the_histogram_is_within_the_stated_bound(durations, fraction):
    histogram: dict[int, int] = {}
    for seconds in durations:
        histogram[rollups.bucket_of(seconds)] = histogram.get(rollups.bucket_of(seconds), 0) + 1
    exact = metrics._percentile(sorted(durations), fraction)
    assert within_bound(rollups.histogram_percentile(histogram, fraction), exact)


def test_the_buckets_hold_what_they_say():
    for seconds in (0.0, 0.5, 1.0, 1.5, 59.9, 3600.0, 86400.0 * 30, 86400.0 * 400):
        low, high = rollups.bucket_bounds(rollups.bucket_of(seconds))
        assert low <= seconds < high or math.isclose(seconds, low)
        assert high - low <= max(BOUND * seconds, 1.0) + 1e-9


@pytest.mark.django_db
def test_rollup_reports_command_folds_and_rebuilds(capsys):
    seed(random.Random(3), reports=30)
    call_command("rollup_reports")
    assert "change(s) folded" in capsys.readouterr().out
    assert ReportRollupChange.objects.count() == 0
    call_command("rollup_reports", "--rebuild")
    assert "rebuilt from 30 report(s)" in capsys.readouterr().out
    assert_as_exact()


@pytest.mark.django_db
def test_the_dashboard_costs_the_same_queries_with_pending_changes_and_rollups(
    client, moderator, django_assert_max_num_queries
):
    seed(random.Random(5), reports=120)
    client.force_login(moderator)
    for _ in range(2):  # pending only, then folded
        # On SQLite, its savepoints counted: fixed, whatever the reports, the changes and the period.
        with django_assert_max_num_queries(22):
            assert client.get("/moderation/dashboard/", {"period": "90"}).status_code == 200
        rollups.fold_pending()


@pytest.mark.django_db(transaction=True)
def test_two_folds_racing_with_writers_count_every_change_once():
    """Two schedulers fold at the same time while reports are being reviewed: no change is counted
    twice or lost (PostgreSQL's advisory lock; SQLite serialises writers itself)."""
    ids = seed(random.Random(11), reports=120)
    errors: list[BaseException] = []
    barrier = threading.Barrier(3)

    def fold() -> None:
        try:
            barrier.wait()
            for _ in range(5):
                rollups.fold_pending(batch_size=20)
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)
        finally:
            connections.close_all()

    def review() -> None:
        try:
            barrier.wait()
            now = timezone.now()
            for report_id in ids[:40]:
                with transaction.atomic():
                    Report.objects.filter(pk=report_id, status=ReportStatus.PENDING).update(
                        status=ReportStatus.REVIEWED, first_reviewed_at=now
                    )
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=fold), threading.Thread(target=fold), threading.Thread(target=review)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    rollups.fold_pending()
    assert ReportRollupChange.objects.count() == 0
    assert_as_exact()
