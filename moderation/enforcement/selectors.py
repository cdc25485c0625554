"""Every read of enforcement: what is in force on an account (and whether it keeps the account out),
strikes and the repeat-offender ladder's proposal, appeal windows, and the pages' reads. Who may
see what is decided here; what you may not see is 404. Reads only: nothing here writes or imports
a service."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, Now
from django.http import Http404
from django.utils import timezone

from audit.models import AuditEvent
from moderation.enforcement import wording
from moderation.enforcement.actions import ACTION_RULES, ActionKind, LadderStep, may_take, strike_ladder
from moderation.enforcement.models import (
    UNCOUNTED_STATUSES,
    AccountStanding,
    Appeal,
    AppealStatus,
    Notice,
    NoticeKind,
    Sanction,
    SanctionStatus,
)
from moderation.roles import ROLE_LABELS, role_of
from moderation.selectors import HistoryEntry, history_entries
from reports.categories import rule_for as category_rule
from reports.models import OPEN_STATUSES, Evidence, Report, ReportStatus, Target

# --- what is in force on an account, strikes and the ladder ------------------------------------


def _in_force(at: datetime | Now) -> Q:
    """Active and not past its end (Sanction.is_in_force, as a query): expiry is checked on access."""
    return Q(status=SanctionStatus.ACTIVE) & (Q(ends_at__isnull=True) | Q(ends_at__gt=at))


def sanctions_in_force(*, account: AbstractBaseUser | OuterRef, at: datetime | Now | None = None) -> QuerySet[Sanction]:
    return Sanction.objects.filter(_in_force(timezone.now() if at is None else at), account=account)


_SIGN_IN_BLOCKING = [kind for kind, rule in ACTION_RULES.items() if rule.blocks_sign_in]
#: What restricts an account itself while it lasts (a timeout, a suspension, withheld payments...).
_ACCOUNT_RESTRICTIONS = [k for k, rule in ACTION_RULES.items() if rule.lasting and not rule.on_content]


def _blocking_sign_in(account: AbstractBaseUser | OuterRef, at: datetime | Now | None = None) -> QuerySet[Sanction]:
    return sanctions_in_force(account=account, at=at).filter(kind__in=_SIGN_IN_BLOCKING)


#: Permanent first, then the one that ends last: what keeps an account out longest is what it is told.
#: NULL's place is explicit, since databases differ: PostgreSQL puts NULL first in a descending order,
#: SQLite last (there, a suspension was named while a termination was also in force).
LONGEST_FIRST = (F("ends_at").desc(nulls_first=True), "-decided_at")


def sign_in_block(*, account: AbstractBaseUser) -> Sanction | None:
    """The suspension or termination that keeps this account out, if any (checked on access): a
    permanent one before any with an end, else the one that ends last."""
    return _blocking_sign_in(account).order_by(*LONGEST_FIRST).first()


def sign_in_blocked(account: AbstractBaseUser | OuterRef, *, at: datetime | Now | None = None) -> Exists:
    """Whether a sanction in force keeps the account out, as an expression: the query that loads
    the account (a session's user, an API token's owner) answers it too, with no query of its own.
    `at`: now by default; the database's Now() for a query compiled once and run many times."""
    return Exists(_blocking_sign_in(account, at))


def strikes(*, account: AbstractBaseUser, at: datetime | None = None) -> QuerySet[Sanction]:
    at = at or timezone.now()
    window_start = at - timedelta(days=settings.STRIKE_WINDOW_DAYS)
    kinds = [k for k, rule in ACTION_RULES.items() if rule.strike]
    return Sanction.objects.filter(account=account, kind__in=kinds, decided_at__gte=window_start).exclude(
        status__in=UNCOUNTED_STATUSES
    )


def ladder_proposal(*, account: AbstractBaseUser | None) -> LadderStep | None:
    """The next step of the repeat-offender ladder for this account."""
    if account is None:
        return None
    ladder = strike_ladder()
    return ladder[min(strikes(account=account).count(), len(ladder) - 1)] if ladder else None


@dataclass(frozen=True)
class Proposal:
    """What the decision form proposes to one person: what the ladder (or a zero-tolerance category)
    asks for, cut to what their role may apply, never an action they cannot take."""

    kinds: tuple[str, ...]  # pre-selected; the person's role may take each
    duration: timedelta | None  # the ladder step's length, when it has one
    beyond_role: tuple[str, ...]  # asked for, but for another role: "ask compliance for ..."
    zero_tolerance: bool
    # The strike action the decision is held to: choosing none of it needs a reason.
    ladder_kind: str | None


def _highest_step_for(user: AbstractBaseUser, ladder: list[LadderStep], up_to: int) -> LadderStep | None:
    """The highest step of the ladder, at `up_to` or below, that this person's role may apply."""
    for step in reversed(ladder[: up_to + 1]):
        if may_take(user, step.kind):
            return step
    return None


def decision_proposal(*, report: Report, user: AbstractBaseUser) -> Proposal:
    """The ladder's next step for the reported account, or for zero-tolerance content removal,
    termination and referral; where the role cannot apply a step (termination for a moderator),
    the highest step it may apply instead, and the rest named for compliance."""
    account = report.target.owner
    ladder = strike_ladder()
    if category_rule(report.category).zero_tolerance:
        # Without a known account only the content can be acted on.
        wanted = [ActionKind.REMOVE_CONTENT]
        if account is not None:
            wanted += [ActionKind.TERMINATION, ActionKind.REFER_AUTHORITIES]
        kinds = [kind for kind in wanted if may_take(user, kind)]
        beyond = tuple(kind for kind in wanted if kind not in kinds)
        step = LadderStep(ActionKind.TERMINATION, None) if account else None
        if ActionKind.TERMINATION in beyond and ladder:
            step = _highest_step_for(user, ladder, len(ladder) - 1)
            if step is not None:
                kinds.append(step.kind)
        return Proposal(
            kinds=tuple(kinds),
            duration=step.duration if step else None,
            beyond_role=beyond,
            zero_tolerance=True,
            ladder_kind=step.kind if step else None,
        )
    if account is None or not ladder:
        return Proposal(kinds=(), duration=None, beyond_role=(), zero_tolerance=False, ladder_kind=None)
    index = min(strikes(account=account).count(), len(ladder) - 1)
    step = _highest_step_for(user, ladder, index)
    return Proposal(
        kinds=(step.kind,) if step else (),
        duration=step.duration if step else None,
        beyond_role=() if step == ladder[index] else (ladder[index].kind,),
        zero_tolerance=False,
        ladder_kind=step.kind if step else None,
    )


_CONTENT_KINDS = [kind for kind, rule in ACTION_RULES.items() if rule.on_content]


def in_force_on(*, account_id: int | None, target_id: int | None, at: datetime) -> QuerySet[Sanction]:
    """What is in force on a reported account (its account actions) and on one piece of content
    (the actions on that content): what a new decision about them adds to."""
    about = Q(target_id=target_id, kind__in=_CONTENT_KINDS) if target_id is not None else Q(pk__in=[])
    if account_id is not None:
        about |= Q(account_id=account_id) & ~Q(kind__in=_CONTENT_KINDS)
    return Sanction.objects.filter(about, _in_force(at))


@dataclass(frozen=True)
class AlreadyInForce:
    """An action asked for that changes nothing: `in_force` already does as much, at least as long."""

    kind: str
    ends_at: datetime | None
    in_force: Sanction

    @property
    def kind_label(self) -> str:
        return ActionKind(self.kind).label


def already_in_force(
    *, report: Report, requested: Sequence[tuple[str, datetime | None]], at: datetime | None = None
) -> list[AlreadyInForce]:
    """The requested (kind, end) actions that a sanction in force already covers (ACTION_RULES'
    covered_by): on the reported account for account actions, on the reported content for content
    actions. One query."""
    at = at or timezone.now()
    in_force = list(in_force_on(account_id=report.target.owner_id, target_id=report.target_id, at=at))
    found = []
    for kind, ends_at in requested:
        rule = ACTION_RULES.get(kind)
        if rule is None:
            continue
        covering = [
            sanction
            for sanction in in_force
            if sanction.kind in rule.covered_by
            and (sanction.ends_at is None or (ends_at is not None and sanction.ends_at >= ends_at))
        ]
        if covering:
            # The longest-lasting one is the one to name.
            longest = max(covering, key=lambda sanction: (sanction.ends_at is None, sanction.ends_at or at))
            found.append(AlreadyInForce(kind=kind, ends_at=ends_at, in_force=longest))
    return found


def appeal_window_open(*, decided_at: datetime, now: datetime | None = None) -> bool:
    return (now or timezone.now()) <= decided_at + timedelta(days=settings.APPEAL_WINDOW_DAYS)


def dismissal_decided_at(report: Report) -> datetime:
    """When a report was dismissed: its appeal window runs from here."""
    return report.closed_at or report.reviewed_at or report.created_at


def complaint_from(*, report_id: uuid.UUID | str, email: str) -> Report | None:
    """The complaint sent without an account from this address (the one its signed link names)."""
    if not email:
        return None
    return Report.objects.filter(pk=report_id, reporter__isnull=True, reporter_email__iexact=email).first()


def misuse_count(*, reporter, now: datetime | None = None) -> int:
    window_start = (now or timezone.now()) - timedelta(days=settings.MISUSE_WINDOW_DAYS)
    return Report.objects.filter(reporter=reporter, manifestly_unfounded=True, closed_at__gte=window_start).count()


def proposal_in_force(*, report: Report, proposal: Proposal, at: datetime | None = None) -> list[AlreadyInForce]:
    """The proposed actions that something in force already covers, for the ladder step's length: the
    decision form does not pre-select them (and says why), and a moot ladder step needs no reason
    to choose otherwise."""
    at = at or timezone.now()
    requested = [
        (kind, at + proposal.duration if proposal.duration and ACTION_RULES[kind].duration != "none" else None)
        for kind in proposal.kinds
    ]
    return already_in_force(report=report, requested=requested, at=at)


# --- pages ---------------------------------------------------------------------------------------


def _get_or_404(queryset: QuerySet, pk: uuid.UUID | str):
    obj = queryset.filter(pk=pk).first()
    if obj is None:
        raise Http404("Not found")
    return obj


def report_for_decision(*, report_id: uuid.UUID) -> Report:
    return _get_or_404(Report.objects.select_related("target__owner", "reporter", "assignee"), report_id)


def open_reports_on_target_count(*, report: Report) -> int:
    """The open reports on the report's target, itself included (a decision can resolve them all)."""
    return Report.objects.filter(target_id=report.target_id, status__in=OPEN_STATUSES).count()


def account_record(*, account: AbstractBaseUser | None, target: Target | None = None) -> dict:
    """For the decision form: what is in force now on the reported account and content (each with
    its end), the account's strikes in the window, and its sanctions."""
    now = timezone.now()
    in_force = sorted(
        in_force_on(account_id=account.pk if account else None, target_id=target.pk if target else None, at=now),
        # No end first, then the one lasting longest: what a new decision must not undercut.
        key=lambda sanction: (sanction.ends_at is not None, -(sanction.ends_at or now).timestamp()),
    )
    if account is None:
        return {"in_force": in_force, "strikes": [], "sanctions": []}
    return {
        "in_force": in_force,
        "strikes": list(strikes(account=account).order_by("-decided_at")),
        "sanctions": list(Sanction.objects.filter(account=account).select_related("decided_by")[:20]),
    }


def sanction_detail(*, sanction_id: uuid.UUID) -> Sanction:
    return _get_or_404(
        Sanction.objects.select_related("account", "target", "decided_by", "approved_by", "lifted_by").prefetch_related(
            "reports", "appeals", "bank_entries"
        ),
        sanction_id,
    )


def appeals_queue() -> QuerySet[Appeal]:
    return Appeal.objects.select_related("appellant", "sanction", "report", "decided_by").order_by("-status", "due_at")


def appeal_detail(*, appeal_id: uuid.UUID) -> Appeal:
    return _get_or_404(
        Appeal.objects.select_related(
            "appellant",
            "sanction__decided_by",
            "sanction__target",
            "report__target",
            "report__reviewed_by",
            "decided_by",
        ),
        appeal_id,
    )


#: What the appeal page shows of each report the appealed decision settled.
APPEAL_REPORT_FIELDS = ("id", "category", "status", "created_at", "target__title")


def appeal_subject(*, appeal: Appeal) -> dict:
    """What an appeal's page links to: the reports the appealed decision settled (the dismissed report,
    or every report of the sanction) and their evidence, in two queries whatever their number."""
    if appeal.report_id:
        reports = [appeal.report]
    else:
        reports = list(
            appeal.sanction.reports.select_related("target").only(*APPEAL_REPORT_FIELDS).order_by("created_at")
        )
    evidence = list(
        Evidence.objects.filter(report__in=[report.pk for report in reports])
        .only("id", "report_id", "original_name", "content_type", "size", "purged_at", "file")
        .order_by("created_at")
    )
    return {"reports": reports, "evidence": evidence}


def appeal_attachment(*, appeal_id: uuid.UUID) -> Appeal:
    """The appeal whose attached file compliance opens; 404 when it has none."""
    appeal = Appeal.objects.filter(pk=appeal_id).exclude(attachment="").first()
    if appeal is None:
        raise Http404("No such file")
    return appeal


def appeal_counts() -> dict[str, int]:
    pending = Appeal.objects.filter(status=AppealStatus.PENDING)
    return {"pending": pending.count(), "overdue": pending.filter(due_at__lt=timezone.now()).count()}


def my_notices(*, user: AbstractBaseUser) -> QuerySet[Notice]:
    return Notice.objects.filter(recipient=user).order_by("-created_at")


def my_notice(*, user: AbstractBaseUser, notice_id: uuid.UUID) -> Notice:
    return _get_or_404(
        Notice.objects.filter(recipient=user).select_related("sanction__target", "appeal__report"), notice_id
    )


def statement_notice(*, account: AbstractBaseUser | int, decision_id: uuid.UUID | None) -> Notice | None:
    """The statement of reasons the account was sent for this decision (whichever of its sanctions
    one starts from: a decision's several sanctions share one statement)."""
    if decision_id is None:
        return None
    return (
        Notice.objects.filter(recipient=account, decision_id=decision_id, kind=NoticeKind.STATEMENT_OF_REASONS)
        .select_related("sanction__target")
        .order_by("created_at")
        .first()
    )


def notice_page(*, notice: Notice) -> dict:
    """What the page of a notice shows, in parts, from the rows it is about (wording.py builds the
    same parts for its mail). A notice from before the parts were kept shows its mail as it was."""
    if notice.kind == NoticeKind.STATEMENT_OF_REASONS and notice.decision_id:
        sanctions = list(
            Sanction.objects.filter(decision_id=notice.decision_id).select_related("target").prefetch_related("reports")
        )
        if sanctions:
            primary = next((s for s in sanctions if s.pk == notice.sanction_id), sanctions[0])
            return {
                "part": "enforcement/notices/statement_of_reasons.html",
                **wording.statement_context(sanctions=sanctions, primary=primary),
            }
    if notice.kind == NoticeKind.SANCTION_LIFTED and notice.sanction_id:
        return {"part": "enforcement/notices/sanction_lifted.html", **wording.lift_context(sanction=notice.sanction)}
    if notice.kind == NoticeKind.APPEAL_DECISION and notice.appeal_id:
        return {
            "part": "enforcement/notices/appeal_decision.html",
            **wording.appeal_context(appeal=notice.appeal),
            "statement": statement_notice(account=notice.recipient_id, decision_id=notice.decision_id)
            if notice.recipient_id
            else None,
        }
    if notice.kind in (NoticeKind.MISUSE_WARNING, NoticeKind.REPORTS_PAUSED) and notice.details:
        return {"part": "enforcement/notices/misuse.html", **wording.misuse_context(details=notice.details)}
    return {}


@dataclass(frozen=True)
class AccountBanner:
    """Every page's reminder to the account: what restricts it now, and the notices it has not read."""

    restrictions: list[str]
    unread: int


def account_banner(*, account: AbstractBaseUser) -> AccountBanner | None:
    """The banner, or None when there is nothing to say. The session's account comes loaded with its
    unread count and whether anything restricts it (moderation.auth.RoleAwareBackend.get_user), so an
    ordinary page costs no query for it; only a restricted account's restrictions are read."""
    unread = getattr(account, "_unread_notices", None)
    restricted_now = getattr(account, "_restricted", None)
    if unread is None or restricted_now is None:  # loaded some other way: ask
        unread = Notice.objects.filter(recipient=account, read_at__isnull=True).count()
        restricted_now = True
    restrictions = (
        [wording.what_happened(sanction, exact=True) for sanction in my_restrictions(user=account)]
        if restricted_now
        else []
    )
    if not restrictions and not unread:
        return None
    return AccountBanner(restrictions=restrictions, unread=unread)


def unread_notice_count(account: AbstractBaseUser | OuterRef):
    """The account's notices it has not opened, as an expression (the session's account is loaded with it)."""
    unread = (
        Notice.objects.filter(recipient=account, read_at__isnull=True)
        .order_by()
        .values("recipient")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return Coalesce(Subquery(unread), 0)


def restricted(account: AbstractBaseUser | OuterRef, *, at: datetime | Now | None = None) -> Exists:
    """Whether a restriction of the account (not of its content) is in force: a timeout, withheld
    payments. (A suspension or termination keeps it out altogether: sign_in_blocked.) `at` as for
    sign_in_blocked."""
    return Exists(sanctions_in_force(account=account, at=at).filter(kind__in=_ACCOUNT_RESTRICTIONS))


def my_restrictions(*, user: AbstractBaseUser) -> list[Sanction]:
    """What currently limits this account (for its account page), never who reported it."""
    return list(sanctions_in_force(account=user).filter(kind__in=_ACCOUNT_RESTRICTIONS).order_by(*LONGEST_FIRST))


def appealed_sanction_ids(*, user: AbstractBaseUser) -> set[uuid.UUID]:
    return set(Appeal.objects.filter(appellant=user, sanction__isnull=False).values_list("sanction_id", flat=True))


ACCOUNT_HISTORY_LIMIT = 50


def account_history(*, account: AbstractBaseUser) -> tuple[list[HistoryEntry], bool]:
    """The newest audit events about an account: its own (marks, misuse, role), its sanctions, its
    appeals and the notices sent to it, and whether there are more. Sanctions are logged under their
    own ids, so those are collected first (one UNION), and the events found by the object index."""

    def ids(queryset: QuerySet, object_type: str) -> QuerySet:
        return queryset.order_by().annotate(object_type=Value(object_type)).values_list("object_type", "pk")

    objects = ids(Sanction.objects.filter(account=account), "sanction").union(
        ids(Appeal.objects.filter(appellant=account), "appeal"),
        ids(Notice.objects.filter(recipient=account), "notice"),
        all=True,
    )
    about = Q(object_type="user", object_id=str(account.pk))
    ids_by_type: dict[str, list[str]] = {}
    for object_type, pk in objects:
        ids_by_type.setdefault(object_type, []).append(str(pk))
    for object_type, ids in ids_by_type.items():
        about |= Q(object_type=object_type, object_id__in=ids)
    events = list(AuditEvent.objects.filter(about).order_by("-id")[: ACCOUNT_HISTORY_LIMIT + 1])
    return history_entries(events[:ACCOUNT_HISTORY_LIMIT]), len(events) > ACCOUNT_HISTORY_LIMIT


def account_overview(*, user_id: int, with_history: bool = False) -> dict:
    """Everything a moderator needs about one account, in a fixed number of queries; with_history
    (for those who may read the audit log) adds the account's history."""
    account = _get_or_404(get_user_model().objects.all(), user_id)
    history, history_truncated = account_history(account=account) if with_history else ([], False)
    filed = Report.objects.filter(reporter=account).aggregate(
        total=Count("id"),
        acted=Count("id", filter=Q(status=ReportStatus.RESOLVED)),
        dismissed=Count("id", filter=Q(status=ReportStatus.DISMISSED)),
        unfounded=Count("id", filter=Q(manifestly_unfounded=True)),
    )
    return {
        "account": account,
        "role": role_of(account),
        "role_label": ROLE_LABELS[role_of(account)],
        "standing": AccountStanding.objects.filter(user=account).first() or AccountStanding(user=account),
        "filed": filed,
        "misuse_count": misuse_count(reporter=account),
        "against": list(
            Report.objects.filter(target__owner=account).select_related("target").order_by("-created_at")[:25]
        ),
        "against_count": Report.objects.filter(target__owner=account).count(),
        "sanctions": list(Sanction.objects.filter(account=account).select_related("decided_by", "target")[:25]),
        "strikes": strikes(account=account).count(),
        "in_force": my_restrictions(user=account),
        "history": history,
        "history_truncated": history_truncated,
    }
