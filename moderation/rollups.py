"""The dashboard's daily rollups: what each report and sanction counts for, kept per day so that the
dashboard reads a few thousand rows whatever the number of reports (it read every report of its
period: 522 ms at 1,000,000 reports, 1,855 ms at 3,000,000).

How they stay exact: database triggers (moderation/rollup_triggers.py) write each report's and each
sanction's counted columns before (-1) and after (+1) every insert, change and delete into
ReportRollupChange and SanctionRollupChange, in the change's own transaction, whatever wrote it (a
service, a bulk update, the admin, a COPY). `fold_pending` (the `rollup_reports` command, every
minute) adds those changes into the rollup tables and deletes them, in one transaction; the dashboard
reads the rollups and the changes not yet folded in from one snapshot. Counts are therefore exact at
every moment, today's included, and a fold that falls behind only makes the dashboard read more
pending changes (/metrics shows how many).

Percentiles come from histograms with fixed bucket edges growing by BUCKET_RATIO: a time in bucket k
lies in [BUCKET_RATIO**(k-1), BUCKET_RATIO**k) seconds (bucket 0 holds times under one second). Each
order statistic is placed inside its bucket, so it is off by less than the bucket's width, which is
less than PERCENTILE_RELATIVE_ERROR times the value; percentile_cont's interpolation between two
ranks keeps that bound. The dashboard states it. The histograms are kept cumulative (every report
received through a day: ReportDurationsThrough), so a period's histogram is the difference of two
rows whatever its length (`histograms_between`); the fold adds a change into its day's row and every
later one.

One rollup writer at a time: `fold_pending` and `rebuild` hold a PostgreSQL advisory lock (SQLite's
IMMEDIATE transactions already serialise writers), so two schedulers on two hosts never fold twice.
"""

from __future__ import annotations

import math
import operator
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import reduce

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Max, Q, Sum
from django.utils import timezone

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
from reports.models import OPEN_STATUSES, Report

BUCKET_RATIO = 1.02
#: The bound stated on the dashboard: a percentile is within this fraction of the exact value
#: (or within one second, for times under a second).
PERCENTILE_RELATIVE_ERROR = BUCKET_RATIO - 1
_LOG_RATIO = math.log(BUCKET_RATIO)

#: The two clocks of a report and the column that stops each.
CLOCKS = {"first_review": "first_reviewed_at", "decision": "closed_at"}
#: A report's columns that the rollups count, in this order everywhere (the triggers copy the same).
ROW_FIELDS = (
    "created_at",
    "category",
    "severity",
    "status",
    "due_at",
    "first_reviewed_at",
    "closed_at",
    "reviewed_by_id",
)
#: A sanction's columns that the rollups count (the triggers copy the same).
SANCTION_FIELDS = ("decided_at", "kind")
#: ReportDayCount's counters, in the order Tally keeps them.
COUNT_FIELDS = ("reports", "first_review_ended", "first_review_in_time", "decision_ended", "decision_in_time")

# Key of the PostgreSQL advisory lock held by whoever writes the rollups.
_ROLLUP_LOCK_KEY = 0x726F6C6C  # "roll"


def bucket_of(seconds: float) -> int:
    """The histogram bucket of a duration: 0 under a second, else k with ratio**(k-1) <= s < ratio**k."""
    if seconds < 1:
        return 0
    return 1 + int(math.log(seconds) / _LOG_RATIO)


def bucket_bounds(bucket: int) -> tuple[float, float]:
    if bucket == 0:
        return 0.0, 1.0
    return BUCKET_RATIO ** (bucket - 1), BUCKET_RATIO**bucket


def histogram_percentile(histogram: dict[int, int], fraction: float) -> float | None:
    """percentile_cont over a histogram: the two ranks around (n - 1) * fraction, each placed evenly
    inside its bucket (the i-th of c values at (i + 0.5) / c of the bucket's width), interpolated."""
    buckets = sorted((bucket, count) for bucket, count in histogram.items() if count > 0)
    total = sum(count for _, count in buckets)
    if not total:
        return None
    position = (total - 1) * fraction
    low, high = math.floor(position), math.ceil(position)

    def value_at(rank: int) -> float:
        seen = 0
        for bucket, count in buckets:
            if rank < seen + count:
                lo, hi = bucket_bounds(bucket)
                return lo + (rank - seen + 0.5) / count * (hi - lo)
            seen += count
        raise AssertionError("rank beyond the histogram")  # unreachable: rank < total

    below = value_at(low)
    return below + (value_at(high) - below) * (position - low)


def histogram_of(first_bucket: int, counts: Sequence[int]) -> dict[int, int]:
    """A stored histogram (ReportDurationsThrough's `first_bucket` and `counts`) as bucket -> count."""
    return {first_bucket + offset: count for offset, count in enumerate(counts) if count}


def local_day(moment: datetime) -> date:
    """The day a moment falls on in TIME_ZONE, as the dashboard's periods count days."""
    return timezone.localtime(moment, timezone.get_default_timezone()).date()


@dataclass
class Tally:
    """What a set of reports and sanctions counts for, per day, keyed as the rollup tables are. The
    one place that says how a report is counted: the fold, the rebuild and the dashboard's reading of
    pending changes all add them here."""

    counts: dict[tuple[date, str, str, str], list[int]] = field(default_factory=lambda: defaultdict(lambda: [0] * 5))
    durations: dict[tuple[date, str, str], Counter] = field(default_factory=lambda: defaultdict(Counter))
    moderators: dict[tuple[date, int, str], int] = field(default_factory=lambda: defaultdict(int))
    sanctions: dict[tuple[date, str], int] = field(default_factory=lambda: defaultdict(int))

    def add_report(self, row: Sequence, sign: int = 1) -> None:
        """One report (its ROW_FIELDS), counted in (+1) or out (-1)."""
        created_at, category, severity, status, due_at, first_reviewed_at, closed_at, reviewed_by_id = row
        day = local_day(created_at)
        counters = self.counts[(day, category, severity, status)]
        counters[0] += sign
        for index, (clock, ended) in enumerate((("first_review", first_reviewed_at), ("decision", closed_at))):
            if ended is None:
                continue
            counters[1 + 2 * index] += sign
            if ended <= due_at:
                counters[2 + 2 * index] += sign
            self.durations[(day, severity, clock)][bucket_of((ended - created_at).total_seconds())] += sign
        if closed_at is not None and reviewed_by_id is not None:
            self.moderators[(local_day(closed_at), reviewed_by_id, status)] += sign

    def add_sanction(self, row: Sequence, sign: int = 1) -> None:
        """One sanction (its SANCTION_FIELDS), counted in (+1) or out (-1) on the day it was decided."""
        decided_at, kind = row
        self.sanctions[(local_day(decided_at), kind)] += sign


def open_counts() -> dict[tuple[str, str], int]:
    """Open reports by (severity, status), exactly: the rollups' rows of the open statuses plus the
    pending changes, a few thousand rows where counting the open reports themselves reads the whole
    open backlog (242,000 reports at 3,000,000: 1.9 s, PostgreSQL choosing a bitmap scan). Run it
    inside the caller's `one_snapshot` when it is combined with other reads. Until the rollups are
    built, the reports are counted."""
    counts: dict[tuple[str, str], int] = defaultdict(int)
    if not is_built():
        rows = Report.objects.filter(status__in=OPEN_STATUSES).values_list("severity", "status").annotate(n=Count("pk"))
        counts.update({(severity, status): n for severity, status, n in rows.order_by()})
        return counts
    for source, column in ((ReportDayCount, "reports"), (ReportRollupChange, "sign")):
        rows = source.objects.filter(status__in=OPEN_STATUSES).values_list("severity", "status")
        for severity, status, n in rows.annotate(n=Sum(column)).order_by():
            counts[(severity, status)] += n
    return counts


def histograms_between(start: date, end: date) -> dict[tuple[str, str], Counter]:
    """The durations of the reports received from `start` to `end` (days, inclusive) as folded, per
    (severity, clock): for each, the latest cumulative row through `end` less the latest before
    `start`. Two queries and at most two rows per (severity, clock), whatever the period's length
    (the first finds them among ReportDurationsThrough's 8 small rows per day of history, a scan of
    a few thousand rows after years). Run it inside the caller's `one_snapshot`, with the pending
    changes added by the caller."""
    latest = (
        ReportDurationsThrough.objects.values_list("severity", "clock")
        .annotate(through_end=Max("day", filter=Q(day__lte=end)), before_start=Max("day", filter=Q(day__lt=start)))
        .order_by()
    )
    wanted = []
    for severity, clock, through_end, before_start in latest:
        if through_end is None or through_end == before_start:
            continue  # no row in the period: nothing folded was received in it
        wanted.append(Q(severity=severity, clock=clock, day=through_end))
        if before_start is not None:
            wanted.append(Q(severity=severity, clock=clock, day=before_start))
    histograms: dict[tuple[str, str], Counter] = {}
    if not wanted:
        return histograms
    rows = ReportDurationsThrough.objects.filter(reduce(operator.or_, wanted)).values_list(
        "severity", "clock", "day", "first_bucket", "counts"
    )
    for severity, clock, day, first_bucket, counts in rows:
        histogram = histograms.setdefault((severity, clock), Counter())
        sign = 1 if day >= start else -1  # the row through the end, or the one before the start
        for bucket, count in histogram_of(first_bucket, counts).items():
            histogram[bucket] += sign * count
    return histograms


# --- writing the rollups ------------------------------------------------------------------------------


def is_built() -> bool:
    return RollupState.objects.filter(pk=1, time_zone=settings.TIME_ZONE).exists()


@contextmanager
def _one_writer(*, wait: bool) -> Iterator[bool]:
    """Hold the rollup lock (PostgreSQL; a session lock, taken before the transaction so that a
    rebuild's snapshot starts after the writer before it committed). Yields False when `wait` is
    off and another writer holds it."""
    if connection.vendor != "postgresql":
        yield True
        return
    with connection.cursor() as cursor:
        if wait:
            cursor.execute("SELECT pg_advisory_lock(%s)", [_ROLLUP_LOCK_KEY])
            held = True
        else:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [_ROLLUP_LOCK_KEY])
            held = bool(cursor.fetchone()[0])
    try:
        yield held
    finally:
        if held:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [_ROLLUP_LOCK_KEY])


@contextmanager
def one_snapshot() -> Iterator[None]:
    """Read as of one moment: the rollups and the pending changes (a fold committing between two
    reads would otherwise have its changes counted twice or not at all), or rows and their audit
    events (moderation/reconcile.py)."""
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost:  # inside a caller's transaction (a test's) its snapshot rules
            _repeatable_read()
        yield


def _repeatable_read() -> None:
    """PostgreSQL: the transaction reads from one snapshot (this must be its first statement).
    SQLite's transactions are serializable already."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")


def _state_now(now: datetime, *, built: bool) -> None:
    state = RollupState.objects.filter(pk=1).first()
    if built or state is None:
        RollupState.objects.update_or_create(
            pk=1, defaults={"time_zone": settings.TIME_ZONE, "built_at": now, "folded_at": now}
        )
    else:
        RollupState.objects.filter(pk=1).update(folded_at=now)


@dataclass
class FoldResult:
    folded: int = 0
    rebuilt: int | None = None  # reports counted by a rebuild, when one was needed
    busy: bool = False  # another writer held the lock: nothing done


def fold_pending(*, batch_size: int = 5000) -> FoldResult:
    """Add the pending changes (of reports and of sanctions, up to `batch_size` of each at a time)
    into the rollups and delete them, batch by batch, each batch in one transaction. Builds the
    rollups first when they are not built (a database that had reports before them, an upgrade
    that added a rollup, or another TIME_ZONE). Another fold running elsewhere: returns at once
    (busy)."""
    result = FoldResult()
    with _one_writer(wait=False) as held:
        if not held:
            result.busy = True
            return result
        if not is_built():
            result.rebuilt = _rebuild()
        while True:
            with transaction.atomic():
                changes = list(
                    ReportRollupChange.objects.order_by("id").values_list("id", "sign", *ROW_FIELDS)[:batch_size]
                )
                sanction_changes = list(
                    SanctionRollupChange.objects.order_by("id").values_list("id", "sign", *SANCTION_FIELDS)[:batch_size]
                )
                tally = Tally()
                for _id, sign, *row in changes:
                    tally.add_report(row, sign)
                for _id, sign, *row in sanction_changes:
                    tally.add_sanction(row, sign)
                _add_into_tables(tally)
                # By id, the rows read above: a change committed meanwhile stays for the next batch.
                ReportRollupChange.objects.filter(id__in=[change[0] for change in changes]).delete()
                SanctionRollupChange.objects.filter(id__in=[change[0] for change in sanction_changes]).delete()
                _state_now(timezone.now(), built=False)
            result.folded += len(changes) + len(sanction_changes)
            if len(changes) < batch_size and len(sanction_changes) < batch_size:
                return result


def rebuild() -> int:
    """Count every report and sanction again from scratch (after a TIME_ZONE change, an upgrade that
    added a rollup, or to repair). Returns how many reports it counted. Waits for a fold in progress."""
    with _one_writer(wait=True):
        return _rebuild()


def _rebuild() -> int:
    """The reports and the pending changes are read from one snapshot: the changes it deletes are
    those its reports already show, and a change committed after it stays pending."""
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost:
            _repeatable_read()
        tally = Tally()
        counted = 0
        for row in Report.objects.values_list(*ROW_FIELDS).order_by().iterator(chunk_size=20_000):
            tally.add_report(row)
            counted += 1
        for row in Sanction.objects.values_list(*SANCTION_FIELDS).order_by().iterator(chunk_size=20_000):
            tally.add_sanction(row)
        for model in (ReportDayCount, ReportDurationsThrough, ModeratorDayCount, SanctionDayCount):
            model.objects.all().delete()
        ReportRollupChange.objects.all().delete()
        SanctionRollupChange.objects.all().delete()
        _add_into_tables(tally)
        _state_now(timezone.now(), built=True)
    return counted


def _add_into_tables(tally: Tally) -> None:
    """Add a tally into the rollup tables: read the rows of the days it touches, add, write back
    (rows that come to nothing are deleted). Runs under the rollup lock, inside a transaction."""
    _add_day_counts(ReportDayCount, ("day", "category", "severity", "status"), COUNT_FIELDS, tally.counts)
    _add_durations(tally)
    _add_day_counts(
        ModeratorDayCount,
        ("day", "moderator_id", "status"),
        ("reports",),
        {k: (n,) for k, n in tally.moderators.items()},
    )
    _add_day_counts(SanctionDayCount, ("day", "kind"), ("sanctions",), {k: (n,) for k, n in tally.sanctions.items()})


def _add_day_counts(model, keys: Sequence[str], counters: Sequence[str], deltas: dict[tuple, Sequence[int]]) -> None:
    """Add `deltas` (key, the `keys` columns starting with the day -> one delta per counter) into a
    table of per-day counters (ReportDayCount, ModeratorDayCount, SanctionDayCount): rows of the
    touched days read once, new keys created, and rows that come to nothing deleted (`_write`)."""
    days = {key[0] for key in deltas}
    rows = {tuple(getattr(row, name) for name in keys): row for row in model.objects.filter(day__in=days)}
    for key, values in deltas.items():
        row = rows.get(key)
        if row is None:
            row = rows[key] = model(**dict(zip(keys, key, strict=True)), **dict.fromkeys(counters, 0))
        for name, delta in zip(counters, values, strict=True):
            setattr(row, name, getattr(row, name) + delta)
    _write(model, rows.values(), counters, empty=lambda row: not any(getattr(row, name) for name in counters))


def _add_durations(tally: Tally) -> None:
    """The histograms are cumulative: a change on day d is added into d's row and every later row
    of its severity and clock. A day that had no row gets one: the latest row before it (as it was
    before this fold) plus every change up to that day. Costs a row per later day that has one: a
    change to a report received long ago rewrites a row per day since (8 keys, one row a day each)."""
    by_key: dict[tuple[str, str], dict[date, Counter]] = defaultdict(dict)
    for (day, severity, clock), deltas in tally.durations.items():
        by_key[(severity, clock)][day] = deltas
    rows = []
    for (severity, clock), deltas in by_key.items():
        first_day = min(deltas)
        same_key = ReportDurationsThrough.objects.filter(severity=severity, clock=clock)
        before = same_key.filter(day__lt=first_day).order_by("-day").first()
        through_before = histogram_of(before.first_bucket, before.counts) if before else {}
        existing = {row.day: row for row in same_key.filter(day__gte=first_day)}
        added: Counter = Counter()  # every change of this fold up to the day reached
        for day in sorted(existing.keys() | deltas.keys()):
            added.update(deltas.get(day, {}))
            row = existing.get(day)
            if row is None:
                row = ReportDurationsThrough(day=day, severity=severity, clock=clock, first_bucket=0, counts=[])
            else:
                through_before = histogram_of(row.first_bucket, row.counts)
            histogram = Counter(through_before)
            histogram.update(added)
            used = [bucket for bucket, count in histogram.items() if count]
            row.first_bucket = min(used, default=0)
            row.counts = [histogram[bucket] for bucket in range(row.first_bucket, max(used, default=-1) + 1)]
            rows.append(row)
    _write(ReportDurationsThrough, rows, ["first_bucket", "counts"], empty=lambda row: not row.counts)


def _write(model, rows: Iterable, fields: Sequence[str], *, empty) -> None:
    """New rows are inserted, changed ones updated, and rows that came to nothing deleted (rows of
    the touched days that did not change are written back as they were: a few dozen a day)."""
    rows = list(rows)
    model.objects.bulk_create([row for row in rows if row.pk is None and not empty(row)])
    model.objects.bulk_update([row for row in rows if row.pk is not None and not empty(row)], fields, batch_size=1000)
    model.objects.filter(pk__in=[row.pk for row in rows if row.pk is not None and empty(row)]).delete()
