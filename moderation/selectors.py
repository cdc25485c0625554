"""Reads for the queue and the report page. Each page costs a fixed number of queries whatever its
size: rows come with their relations joined (select_related) or computed in the same statement
(window functions, aggregates), never one query per row.

Visibility: the moderator's pages show reports to staff with reports.view_queue; anyone else gets
a 404 for a report or a file, exactly as if it did not exist.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache
from django.core.paginator import Page, Paginator
from django.db import connections
from django.db.models import Case, Count, F, IntegerField, Q, QuerySet, Value, When, Window
from django.db.models.functions import DenseRank, RowNumber
from django.http import Http404
from django.utils import dateformat, timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext, gettext_lazy
from django.utils.translation import gettext as _

from audit.events import EVENT_TYPES
from audit.models import AuditEvent
from moderation.enforcement.actions import ActionKind
from moderation.enforcement.models import AppealStatus, GroundType, NoticeKind, Sanction, SanctionStatus
from moderation.models import ReportNote
from moderation.roles import ROLES
from moderation.signals.models import BankHit, Signal
from reports.categories import SEVERITY_RANK, Category, Severity
from reports.models import (
    CLOSED_STATUSES,
    OPEN_STATUSES,
    Evidence,
    InfoRequest,
    Report,
    ReportChannel,
    ReportStatus,
    Target,
    TargetKind,
    TargetState,
)

HISTORY_LIMIT = 500
RELATED_LIMIT = 25
ACCOUNT_LIMIT = 10


def _not_found() -> Http404:
    return Http404("No such report")


def can_see_reports(user: AbstractBaseUser) -> bool:
    return user.is_authenticated and user.has_perm("reports.view_queue")


# --- the queue ----------------------------------------------------------------------------------


def queue_priority_order() -> list:
    """The queue's default order: earliest deadline first, then the most severe."""
    severity_rank = Case(
        *[When(severity=s, then=Value(rank)) for s, rank in SEVERITY_RANK.items()], output_field=IntegerField()
    )
    return [F("due_at").asc(), severity_rank.asc(), F("created_at").asc()]


def sort_order(sort: str) -> list:
    """The queue's order for its "sort" choice (moderation/filters.py), the default by priority."""
    if sort == "newest":
        return ["-created_at", "-pk"]
    if sort == "oldest":
        return ["created_at", "pk"]
    return [*queue_priority_order(), "pk"]


STAFF_CACHE_KEY = "moderation:staff-members"
STAFF_CACHE_SECONDS = 60


def staff_members() -> list[AbstractBaseUser]:
    """Accounts that can be assigned reports (moderation roles), for the filters and assign forms.

    Every queue and report page shows them, so the list is cached for a minute. A change of an
    account or of its groups clears it at once (moderation.apps); another server's copy may lag up to a
    minute, which can offer a name but never misassign: report_assign checks the assignee's rights."""
    members = cache.get(STAFF_CACHE_KEY)
    if members is None:
        members = _staff_members_now()
        cache.set(STAFF_CACHE_KEY, members, STAFF_CACHE_SECONDS)
    return members


def forget_staff_members(**_signal) -> None:
    cache.delete(STAFF_CACHE_KEY)


def _staff_members_now() -> list[AbstractBaseUser]:
    """A UNION of the role members and the superusers rather than one OR across the groups join: each
    side then uses its own index instead of reading every account (12 ms at 25,000 accounts)."""
    # Only what the choices show: the account rows of a UNION are read whole otherwise.
    accounts = get_user_model().objects.filter(is_active=True).only("id", "username")
    in_roles = accounts.filter(groups__name__in=ROLES)
    return list(in_roles.union(accounts.filter(is_superuser=True)).order_by("username"))


def queue_reports() -> QuerySet[Report]:
    """Every report with what a queue row shows, joined in the same query."""
    # An automated report's row shows its strongest source and score (moderation/signals AutomatedCase).
    return Report.objects.select_related("target__owner", "reporter", "assignee", "automated_case")


#: What deadline_of reads of a report.
DEADLINE_FIELDS = ("status", "created_at", "due_at", "closed_at", "reviewed_at")
#: The columns a queue row shows (templates/jinja2/moderation/_queue_results.html) and its deadline
#: needs, so that a page reads these rather than every column of five tables.
QUEUE_ROW_FIELDS = (
    "id",
    *DEADLINE_FIELDS,
    "category",
    "severity",
    "report_type",
    "reason",
    "reporter_name",
    "escalated",
    "escalation_reason",
    "from_trusted_flagger",
    "channel",
    "automated_case__top_source",
    "automated_case__top_score",
    "automated_case__signal_count",
    "automated_case__quarantined_at",
    "target__title",
    "target__owner__username",
    "reporter__username",
    "assignee__username",
)


def _queue_row_reports() -> QuerySet[Report]:
    return queue_reports().only(*QUEUE_ROW_FIELDS)


def group_by_target(reports: QuerySet[Report], *, sort: str) -> QuerySet:
    """One row per target: its most urgent report among `reports`, with the group's size.

    Window functions do it in one statement: the rank picks the lead report, a windowed count gives
    the number of reports, and two dense ranks over reporter ids give the number of distinct
    reporters (COUNT(DISTINCT ...) is not allowed as a window function). Complaints without an
    account count as one reporter together.

    Returns (pk, size, rank up, rank down) tuples, for the paginator: the windows run over the
    report table alone, and only the page's rows are then fetched with their relations
    (`grouped_rows`), which keeps a grouped page fast on a large open queue.
    """
    target = [F("target_id")]
    return (
        reports.order_by()
        .annotate(
            group_rank=Window(RowNumber(), partition_by=target, order_by=queue_priority_order()),
            group_size=Window(Count("id"), partition_by=target),
            reporter_rank_up=Window(DenseRank(), partition_by=target, order_by=F("reporter_id").asc()),
            reporter_rank_down=Window(DenseRank(), partition_by=target, order_by=F("reporter_id").desc()),
        )
        .filter(group_rank=1)
        .order_by(*sort_order(sort))
        .values_list("pk", "group_size", "reporter_rank_up", "reporter_rank_down")
    )


def grouped_rows(leads: Iterable[tuple[uuid.UUID, int, int, int]]) -> list[Report]:
    """The page's lead reports with what a row shows, in the page's order, carrying group counts."""
    leads = list(leads)
    found = _queue_row_reports().in_bulk([pk for pk, *_ in leads])
    rows = []
    for pk, size, up, down in leads:
        report = found.get(pk)
        if report is not None:
            report.group_size, report.group_reporters = size, up + down - 1
            rows.append(report)
    return rows


def open_reports_on_target(report: Report) -> list[uuid.UUID]:
    """The other open reports on the same target (a decision on one usually settles them all)."""
    return list(
        Report.objects.filter(target_id=report.target_id, status__in=OPEN_STATUSES)
        .exclude(pk=report.pk)
        .values_list("pk", flat=True)
    )


def group_members(reports: QuerySet[Report], *, lead_ids: Iterable[uuid.UUID | str]) -> list[uuid.UUID]:
    """Acting on a group acts on every report of it: the filtered reports on the leads' targets."""
    target_ids = Report.objects.filter(pk__in=list(lead_ids)).values_list("target_id", flat=True)
    return list(reports.order_by().filter(target_id__in=target_ids).values_list("pk", flat=True))


#: The status tabs count at most this many reports each, then say "1,000+". An exact count would
#: read every closed report (a million of them) on every queue page; a capped one stops early.
TAB_COUNT_CAP = 1_000
#: The page summary counts at least this many reports (400 pages of 25), and as deep as the page
#: asked for: counting the whole open backlog (80,000 reports) on every page cost more than the page.
PAGE_COUNT_CAP = 10_000


@dataclass(frozen=True)
class Tally:
    """A count that may have stopped at its cap."""

    count: int
    more: bool = False  # counting stopped at the cap: there are more

    def __str__(self) -> str:
        return f"{self.count:,}+" if self.more else f"{self.count:,}"

    def __add__(self, other: Tally) -> Tally:
        return Tally(self.count + other.count, self.more or other.more)

    @classmethod
    def capped(cls, counted: int, cap: int) -> Tally:
        """From a count taken up to cap + 1 rows: the extra row says there are more."""
        return cls(min(counted, cap), counted > cap)


def status_counts(reports: QuerySet[Report], *, statuses: Iterable[str] = ReportStatus.values) -> dict[str, Tally]:
    """Reports per status under the other filters, each counted up to TAB_COUNT_CAP, in one query
    of capped subqueries (COUNT over a LIMIT, so an index scan stops at the cap).

    Only `statuses` are counted; a group ("open", "closed", "all") has a count when all its
    statuses have one."""
    statuses = list(statuses)
    parts, params = [], []
    for status in statuses:
        capped = reports.filter(status=status).order_by().values("pk")[: TAB_COUNT_CAP + 1]
        sql, sql_params = capped.query.sql_with_params()
        # bandit B608: the SQL is Django's own compilation of the queryset; values are bound parameters
        parts.append(f"(SELECT COUNT(*) FROM ({sql}) capped)")  # noqa: S608  # nosec B608
        params.extend(sql_params)
    with connections[reports.db].cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), params)  # nosec B608  # the parts above
        row = cursor.fetchone()
    counts = {status: Tally.capped(n, TAB_COUNT_CAP) for status, n in zip(statuses, row, strict=True)}
    groups = {"open": OPEN_STATUSES, "closed": CLOSED_STATUSES, "all": ReportStatus.values}
    for group, members in groups.items():
        if all(status in counts for status in members):
            counts[group] = sum((counts[status] for status in members), Tally(0))
    return counts


#: The live notice says "99+ new" past this: it only has to tell that there is something to show.
NEW_REPORTS_CAP = 99


def arrived_since(reports: QuerySet[Report], *, since: datetime) -> Tally:
    """How many of `reports` (a queue view) arrived after `since` (when the page was rendered), up to
    NEW_REPORTS_CAP: one capped count on the created_at index, for the queue's live notice.

    A report whose filing transaction began before `since` and committed after the page read the
    rows (milliseconds) is not announced; it shows at the next load."""
    counted = reports.filter(created_at__gt=since).order_by().values("pk")[: NEW_REPORTS_CAP + 1].count()
    return Tally.capped(counted, NEW_REPORTS_CAP)


class QueuePaginator(Paginator):
    """Pages of the queue at a fixed cost however deep the page and however large the queue.

    - The count stops at PAGE_COUNT_CAP, or at the page asked for if that is deeper, so the page
      always validates (`more` tells the template to say "10,000+" and keep a Next link).
    - A page is read in two steps: the page's keys first (report ids, from an index alone even a
      thousand pages deep), then `fetch` turns those keys into rows with their relations. An OFFSET
      over the joined rows would join every skipped row as well.
    """

    def __init__(self, keys: QuerySet, per_page: int, *, fetch: Callable[[list], list]) -> None:
        super().__init__(keys, per_page)
        self.fetch = fetch
        self.count_cap = PAGE_COUNT_CAP

    def get_page(self, number) -> Page:
        try:
            asked = int(number)
        except (TypeError, ValueError):
            asked = 1
        # Bounded, so a page number in the billions cannot make the count read the whole table.
        self.count_cap = max(PAGE_COUNT_CAP, min(asked, PAGE_NUMBER_MAX) * self.per_page)
        return super().get_page(number)

    @cached_property
    def tally(self) -> Tally:
        cap = self.count_cap
        return Tally.capped(self.object_list.order_by()[: cap + 1].count(), cap)

    @property
    def count(self) -> int:
        return self.tally.count

    @property
    def more(self) -> bool:
        return self.tally.more

    def page(self, number) -> Page:
        # Django's page() cuts the last page at the count, which may have stopped at the cap.
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        return self._get_page(self.object_list[bottom : bottom + self.per_page], number, self)

    def _get_page(self, keys, number, paginator) -> Page:
        return QueuePage(self.fetch(list(keys)), number, paginator)


#: The deepest page the queue counts to (100,000 reports at 25 a page).
PAGE_NUMBER_MAX = 4_000


class QueuePage(Page):
    def end_index(self) -> int:
        # The rows shown, not the (capped) count.
        return self.start_index() + len(self) - 1 if len(self) else 0

    def has_next(self) -> bool:
        # The count stopped at its cap: a full page there may well have more after it.
        return super().has_next() or (self.paginator.more and len(self) == self.paginator.per_page)

    def next_page_number(self) -> int:
        return self.number + 1


def queue_rows(report_ids: Iterable[uuid.UUID]) -> list[Report]:
    """The page's reports with what a row shows, in the page's order."""
    report_ids = list(report_ids)
    found = _queue_row_reports().in_bulk(report_ids)
    return [found[pk] for pk in report_ids if pk in found]


# --- deadlines ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Deadline:
    label: str
    # ok | soon (under a quarter of the window left) | overdue | met | missed
    state: str
    due_at: datetime
    # For the countdown script: the start of the window, so it can recompute "soon" on its own.
    window_start: datetime

    @property
    def running(self) -> bool:
        """Still counting down (the report is open), so the page's script keeps it current."""
        return self.state in ("ok", "soon", "overdue")


def _span(delta: timedelta) -> str:
    minutes = int(abs(delta).total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days}d {hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h {minutes}m" if minutes else f"{hours}h"
    return f"{minutes}m"


def deadline_of(report: Report, *, now: datetime | None = None) -> Deadline:
    now = now or timezone.now()
    closed = None if report.status in OPEN_STATUSES else (report.closed_at or report.reviewed_at or now)
    return deadline_for_window(start=report.created_at or now, due_at=report.due_at, closed_at=closed, now=now)


def deadline_for_window(*, start: datetime, due_at: datetime, closed_at: datetime | None, now: datetime) -> Deadline:
    """The deadline's state and words for anything with a window: reports, and stories waiting for
    review before publication (moderation/stories). `closed_at` None: still open."""
    if closed_at is not None:
        if closed_at <= due_at:
            return Deadline(_("Closed in time"), "met", due_at, start)
        return Deadline(_("Closed %(span)s late") % {"span": _span(closed_at - due_at)}, "missed", due_at, start)
    left = due_at - now
    if left <= timedelta(0):
        return Deadline(_("Overdue by %(span)s") % {"span": _span(left)}, "overdue", due_at, start)
    window = due_at - start
    state = "soon" if left * 4 < window else "ok"
    return Deadline(_("%(span)s left") % {"span": _span(left)}, state, due_at, start)


def with_deadlines(reports: Iterable[Report], *, now: datetime | None = None) -> list[Report]:
    now = now or timezone.now()
    rows = list(reports)
    for report in rows:
        report.deadline = deadline_of(report, now=now)
    return rows


# --- one report ---------------------------------------------------------------------------------


def report_for_staff(*, user: AbstractBaseUser, report_id: uuid.UUID | str) -> Report:
    """The report with everything its header shows, or 404 for anyone who may not see it."""
    if not can_see_reports(user):
        raise _not_found()
    try:
        report_id = uuid.UUID(str(report_id))
    except ValueError:
        raise _not_found() from None
    report = (
        Report.objects.select_related(
            "target__owner__standing",
            "reporter__standing",
            "assignee",
            "reviewed_by",
            "automated_case__bank_entry__import_batch",
        )
        .filter(pk=report_id)
        .first()
    )
    if report is None:
        raise _not_found()
    return report


def report_exists_for_staff(*, user: AbstractBaseUser, report_id: uuid.UUID) -> bool:
    """Whether a report page's side requests (the heartbeat) may answer: a report staff can see."""
    return can_see_reports(user) and Report.objects.filter(pk=report_id).exists()


def may_see_snapshot(*, user: AbstractBaseUser, target: Target) -> bool:
    """Removed content and quarantined files are for compliance (enforcement.view_removed_content)."""
    if target.snapshot_purged_at:
        return False
    return target.state == TargetState.VISIBLE or user.has_perm("enforcement.view_removed_content")


@dataclass
class TimelineItem:
    at: datetime
    kind: str  # note | question
    note: ReportNote | None = None
    question: InfoRequest | None = None


@dataclass
class HistoryEntry:
    event: AuditEvent
    label: str
    changes: list[tuple[str, str, str]] = field(default_factory=list)
    details: list[tuple[str, str]] = field(default_factory=list)


_RELATED_FIELD_LABELS = {
    "kind": gettext_lazy("Action"),
    "status": gettext_lazy("Status"),
    "state": gettext_lazy("Content"),
    "ends_at": gettext_lazy("Until"),
    "ground": gettext_lazy("Ground"),
    # An account's own events (account.flag_changed, staff.created)
    "trusted_flagger": gettext_lazy("Trusted flagger"),
    "legal_hold": gettext_lazy("Legal hold"),
    "misuse_warned_at": gettext_lazy("Warned for misuse"),
    "reports_paused_until": gettext_lazy("Reports paused until"),
    "role": gettext_lazy("Role"),
}
_DATE_KEYS = {"due_at", "ends_at", "misuse_warned_at", "reports_paused_until"}
_FIELD_LABELS = {
    "status": gettext_lazy("Status"),
    "assignee": gettext_lazy("Assignee"),
    "escalated": gettext_lazy("Escalated"),
    "category": gettext_lazy("Category"),
    "severity": gettext_lazy("Severity"),
    "report_type": gettext_lazy("Type"),
    "due_at": gettext_lazy("Deadline"),
}
_DETAIL_LABELS = {
    "admin_notes": gettext_lazy("Admin notes"),
    "reason": gettext_lazy("Reason"),
    "body": gettext_lazy("Note"),
    "question": gettext_lazy("Question"),
    "answer": gettext_lazy("Answer"),
    "via": gettext_lazy("Via"),
    "past_deadline": gettext_lazy("Past the deadline"),
    "channel": gettext_lazy("Channel"),
    "evidence_sha256": gettext_lazy("Evidence SHA-256"),
    # The machines' side (signals, the hash bank, stories) and the rest of what services record.
    "source": gettext_lazy("Source"),
    "score": gettext_lazy("Score"),
    "signal_key": gettext_lazy("Signal key"),
    "why": gettext_lazy("Why"),
    "rule": gettext_lazy("Rule"),
    "automated": gettext_lazy("Automated"),
    "provisional": gettext_lazy("Provisional"),
    "released": gettext_lazy("Released"),
    "origin": gettext_lazy("Origin"),
    "bank_entry": gettext_lazy("Hash bank entry"),
    "report": gettext_lazy("Report"),
    "story": gettext_lazy("Story"),
    "snapshot": gettext_lazy("Snapshot"),
    "reference": gettext_lazy("Reference"),
    "notice": gettext_lazy("Notice"),
    "explanation": gettext_lazy("Explanation"),
    "evidence_files": gettext_lazy("Evidence files"),
    "unfounded_reports": gettext_lazy("Unfounded reports"),
    "reported_location": gettext_lazy("Reported location"),
    "usable": gettext_lazy("Usable"),
    "created": gettext_lazy("Created"),
    "deleted": gettext_lazy("Deleted"),
    "duration_seconds": gettext_lazy("Duration (seconds)"),
    "attempts": gettext_lazy("Attempts"),
    "older_than_days": gettext_lazy("Older than (days)"),
    "event_type": gettext_lazy("Event type"),
}
_HIDDEN_DETAILS = {"note_id", "info_request_id", "assignee", "target", "due_at", "reports", "decision_id", "account"}


# The labels of stored choice values, from the models' own choice tables: a history line reads
# "Category: — → Non-consensual intimate content", never the stored "non_consensual".
_CHOICE_LABELS: dict[str, dict[str, str]] = {
    "category": dict(Category.choices),
    "severity": dict(Severity.choices),
    "report_type": dict(TargetKind.choices),
    "state": dict(TargetState.choices),
    "channel": dict(ReportChannel.choices),
    "ground_type": dict(GroundType.choices),
}
# Keys whose table depends on what the event is about (a report's status is not a sanction's).
_CHOICE_LABELS_BY_OBJECT: dict[str, dict[str, dict[str, str]]] = {
    "report": {"status": dict(ReportStatus.choices)},
    "sanction": {"status": dict(SanctionStatus.choices), "kind": dict(ActionKind.choices)},
    "appeal": {"status": dict(AppealStatus.choices)},
    "notice": {"kind": dict(NoticeKind.choices)},
}


def _show(key: str, value: Any, usernames: dict[int, str], object_type: str = "") -> str:
    if value is None or value == "":
        return "—"
    if key == "assignee":
        return usernames.get(value, f"#{value}") if isinstance(value, int) else str(value)
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    if key in _DATE_KEYS:
        try:
            # Django's date format, whose month names are the page's language's (strftime's are English).
            return dateformat.format(timezone.localtime(datetime.fromisoformat(str(value))), "d M Y, H:i")
        except ValueError:
            return str(value)
    if isinstance(value, list):
        return ", ".join(str(item) for item in value) or "—"
    labels = _CHOICE_LABELS_BY_OBJECT.get(object_type, {}).get(key) or _CHOICE_LABELS.get(key)
    if labels is not None:
        # A value no table knows (an older event's) is shown as it was stored, readably.
        return labels.get(str(value), str(value).replace("_", " "))
    return str(value)


def history_entries(events: list[AuditEvent]) -> list[HistoryEntry]:
    """The audit events of a report, readable: what changed from what to what, and the words given."""
    user_ids = {
        state.get("assignee")
        for event in events
        for state in (event.before or {}, event.after or {})
        if isinstance(state.get("assignee"), int)
    }
    usernames = dict(get_user_model().objects.filter(pk__in=user_ids).values_list("pk", "username")) if user_ids else {}
    entries = []
    for event in events:
        entry = HistoryEntry(event=event, label=EVENT_TYPES.get(event.event_type, event.event_type))
        before, after = event.before or {}, event.after or {}
        labels = _FIELD_LABELS if event.object_type == "report" else _RELATED_FIELD_LABELS
        if event.object_type == "notice":  # a notice's kind is what it says, not an action taken
            labels = {**labels, "kind": gettext_lazy("Notice")}
        for key, label in labels.items():
            changed = before.get(key) != after.get(key) if before else after.get(key) not in (None, False, "")
            if key in after and changed:
                entry.changes.append(
                    (
                        label,
                        _show(key, before.get(key), usernames, event.object_type),
                        _show(key, after[key], usernames, event.object_type),
                    )
                )
        for key, value in (event.data or {}).items():
            if key in _HIDDEN_DETAILS or value in (None, "", [], {}):
                continue
            entry.details.append(
                (_DETAIL_LABELS.get(key, key.replace("_", " ").capitalize()), _show(key, value, {}, event.object_type))
            )
        entries.append(entry)
    return entries


def counts_together(groups: dict[str, tuple[QuerySet, dict[str, Q | None]]], *, using: str = "default") -> dict:
    """Several `aggregate(name=Count(...))` calls, over different querysets, in one query.

    `groups` maps a name to (queryset, {count name: filter or None}); the answer maps the same
    names to {count name: number}. Each group is an aggregate subquery (one row, even when empty),
    joined side by side, so every group still scans only its own index."""
    parts, params, columns = [], [], []
    for number, (group, (queryset, counts)) in enumerate(groups.items()):
        aggregated = (
            queryset.order_by()
            .annotate(_one=Value(1))
            .values("_one")
            .annotate(**{f"{group}__{name}": Count("pk", filter=condition) for name, condition in counts.items()})
        )
        sql, sql_params = aggregated.query.sql_with_params()
        # bandit B608: the SQL is Django's own compilation of the querysets; values are bound parameters
        parts.append(f"LEFT JOIN ({sql}) g{number} ON TRUE")  # noqa: S608  # nosec B608
        params.extend(sql_params)
        columns.extend((group, name, f'g{number}."{group}__{name}"') for name in counts)
    select = ", ".join(column for *_, column in columns)
    with connections[using].cursor() as cursor:
        sql = f"SELECT {select} FROM (SELECT 1) one " + " ".join(parts)  # noqa: S608  # nosec B608  # the parts above
        cursor.execute(sql, params)
        row = cursor.fetchone()
    found: dict[str, dict[str, int]] = {group: {} for group in groups}
    for (group, name, _column), value in zip(columns, row, strict=True):
        found[group][name] = value or 0
    return found


#: The columns the report page's side lists show (templates/jinja2/moderation/_report_side_lists.html),
#: and what deadline_of needs: reading whole rows of three tables for them cost more than the queries.
OTHER_REPORT_FIELDS = ("id", "category", *DEADLINE_FIELDS, "reporter_id", "reporter__username")
ACCOUNT_REPORT_FIELDS = ("id", "status", "category", "created_at", "target__title")
ACCOUNT_SANCTION_FIELDS = ("id", "kind", "status", "decided_at", "ends_at", "decided_by__username")


def report_page(*, report: Report, user: AbstractBaseUser) -> dict[str, Any]:
    """Everything around one report, in a fixed number of queries (about a dozen), whatever the
    number of notes, evidence files, other reports or events."""
    owner, reporter = report.target.owner, report.reporter
    on_target = Report.objects.filter(target_id=report.target_id).exclude(pk=report.pk)
    others = list(
        on_target.select_related("reporter").only(*OTHER_REPORT_FIELDS).order_by("-created_at")[:RELATED_LIMIT]
    )
    is_open = Q(status__in=OPEN_STATUSES)
    # The counts of the three panels (this target, the reported account, the reporter) in one query.
    groups: dict[str, tuple[QuerySet, dict[str, Q | None]]] = {"target": (on_target, {"total": None, "open": is_open})}
    about_owner = Report.objects.filter(target__owner=owner).exclude(target_id=report.target_id)
    if owner is not None:
        groups["owner"] = (
            about_owner,
            {
                "total": None,
                "open": is_open,
                "resolved": Q(status=ReportStatus.RESOLVED),
                "dismissed": Q(status=ReportStatus.DISMISSED),
            },
        )
    if reporter is not None:
        groups["reporter"] = (
            Report.objects.filter(reporter=reporter).exclude(pk=report.pk),
            {
                "total": None,
                "open": is_open,
                "acted": Q(status=ReportStatus.RESOLVED),
                "dismissed": Q(status=ReportStatus.DISMISSED),
                "unfounded": Q(manifestly_unfounded=True),
            },
        )
    counts = counts_together(groups, using=report._state.db or "default")
    on_target_counts = counts["target"]

    account: dict[str, Any] = {}
    if owner is not None:
        account = {
            "user": owner,
            "standing": getattr(owner, "standing", None),
            "reports": list(
                about_owner.select_related("target")
                .only(*ACCOUNT_REPORT_FIELDS)
                .order_by("-created_at")[:ACCOUNT_LIMIT]
            ),
            "counts": counts["owner"],
            "sanctions": list(
                Sanction.objects.filter(account=owner)
                .select_related("decided_by")
                .only(*ACCOUNT_SANCTION_FIELDS)
                .order_by("-decided_at")[: ACCOUNT_LIMIT + 1]
            ),
        }

    reporter_stats: dict[str, Any] = {}
    if reporter is not None:
        reporter_stats = counts["reporter"]
        decided = reporter_stats["acted"] + reporter_stats["dismissed"]
        reporter_stats["acted_share"] = round(100 * reporter_stats["acted"] / decided) if decided else None
        reporter_stats["standing"] = getattr(reporter, "standing", None)

    notes = list(ReportNote.objects.filter(report=report).select_related("author"))
    questions = list(InfoRequest.objects.filter(report=report).select_related("asked_by"))
    timeline = sorted(
        [TimelineItem(at=n.created_at, kind="note", note=n) for n in notes]
        + [TimelineItem(at=q.asked_at, kind="question", question=q) for q in questions],
        key=lambda item: item.at,
    )
    events = list(AuditEvent.objects.for_object("report", report.pk).order_by("id")[:HISTORY_LIMIT])
    # A decision's other events (the sanctions, the content's removal) share its correlation id.
    batches = {event.correlation_id for event in events if event.correlation_id}
    if batches:
        related = AuditEvent.objects.filter(correlation_id__in=batches).exclude(object_type="report")
        events = sorted([*events, *related[:HISTORY_LIMIT]], key=lambda event: event.pk)
    now = timezone.now()
    for other in others:
        other.deadline = deadline_of(other, now=now)
    machines = machine_signals(report) if report.channel == ReportChannel.AUTOMATED else {}
    return {
        "machines": machines,
        "deadline": deadline_of(report, now=now),
        "evidence": list(Evidence.objects.filter(report=report).order_by("created_at")),
        "snapshot_visible": may_see_snapshot(user=user, target=report.target),
        "others": others,
        "others_count": on_target_counts["total"],
        "others_open_count": on_target_counts["open"],
        "account": account,
        "reporter_stats": reporter_stats,
        # The actions of the decision are shown on a closed report only (an open one's review card
        # has the review form instead), so an open report does not ask for them.
        "decision": []
        if report.status in OPEN_STATUSES
        else list(Sanction.objects.filter(reports=report).select_related("decided_by")),
        "timeline": timeline,
        "history": history_entries(events),
        "history_truncated": len(events) >= HISTORY_LIMIT,
    }


#: The signals an automated report's page lists, newest first (the case keeps the count of all).
SIGNALS_SHOWN = 50


def machine_signals(report: Report) -> dict[str, Any]:
    """What the machines said about an automated report: its case (strongest source and score,
    quarantine), its signals and its hash bank matches, in two queries (the case came with the report).
    Bank entries are metadata only: the bank holds no media, and the page shows none."""
    case = getattr(report, "automated_case", None)
    return {
        "case": case,
        "signals": list(
            Signal.objects.filter(report=report).select_related("detector").order_by("-created_at")[:SIGNALS_SHOWN]
        ),
        "bank_hits": list(BankHit.objects.filter(report=report).select_related("entry__import_batch")),
    }


# --- files --------------------------------------------------------------------------------------


def evidence_for_staff(*, user: AbstractBaseUser, evidence_id: uuid.UUID) -> Evidence:
    if not can_see_reports(user):
        raise Http404("No such file")
    evidence = Evidence.objects.filter(pk=evidence_id, purged_at__isnull=True).exclude(file="").first()
    if evidence is None:
        raise Http404("No such file")
    return evidence


def snapshot_for_staff(*, user: AbstractBaseUser, public_id: uuid.UUID) -> Target:
    if not can_see_reports(user):
        raise Http404("No such file")
    target = Target.objects.filter(public_id=public_id).exclude(snapshot_file="").first()
    # Only a reported target's snapshot is evidence for moderators; unreported content stays out.
    if target is None or not may_see_snapshot(user=user, target=target) or not target.reports.exists():
        raise Http404("No such file")
    return target
