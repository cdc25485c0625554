"""Every read of enforcement: what is in force on an account (and whether it keeps the account out),
strikes and the repeat-offender ladder's proposal, appeal windows, and the pages' reads. Who may
see what is decided here; what you may not see is 404. Reads only: nothing here writes or imports
a service."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Value
from django.http import Http404
from django.utils import timezone

from audit.models import AuditEvent
from moderation.enforcement.actions import ACTION_RULES, ActionKind, LadderStep, strike_ladder
from moderation.enforcement.models import (
    UNCOUNTED_STATUSES,
    AccountStanding,
    Appeal,
    AppealStatus,
    Notice,
    Sanction,
    SanctionStatus,
)
from moderation.roles import role_of
from moderation.selectors import HistoryEntry, history_entries
from reports.categories import rule_for as category_rule
from reports.models import OPEN_STATUSES, Evidence, Report, ReportStatus

# --- what is in force on an account, strikes and the ladder ------------------------------------


def sanctions_in_force(*, account: AbstractBaseUser | OuterRef, at: datetime | None = None) -> QuerySet[Sanction]:
    at = at or timezone.now()
    return Sanction.objects.filter(account=account, status=SanctionStatus.ACTIVE).filter(
        Q(ends_at__isnull=True) | Q(ends_at__gt=at)
    )


_SIGN_IN_BLOCKING = [kind for kind, rule in ACTION_RULES.items() if rule.blocks_sign_in]


def _blocking_sign_in(account: AbstractBaseUser | OuterRef) -> QuerySet[Sanction]:
    return sanctions_in_force(account=account).filter(kind__in=_SIGN_IN_BLOCKING)


def sign_in_block(*, account: AbstractBaseUser) -> Sanction | None:
    """The suspension or termination that keeps this account out, if any (checked on access)."""
    return _blocking_sign_in(account).order_by("ends_at").last()


def sign_in_blocked(account: AbstractBaseUser | OuterRef) -> Exists:
    """Whether a sanction in force keeps the account out, as an expression: the query that loads
    the account (a session's user, an API token's owner) answers it too, with no query of its own."""
    return Exists(_blocking_sign_in(account))


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


def proposed_kinds(*, report: Report) -> list[str]:
    """What the decision form pre-selects: the zero-tolerance set, or the ladder's next step."""
    if category_rule(report.category).zero_tolerance:
        return [ActionKind.REMOVE_CONTENT, ActionKind.TERMINATION, ActionKind.REFER_AUTHORITIES]
    step = ladder_proposal(account=report.target.owner)
    return [step.kind] if step else []


def proposal_for_decision(*, report: Report) -> LadderStep | None:
    # Zero-tolerance content always proposes termination, whatever the ladder says.
    if category_rule(report.category).zero_tolerance:
        return LadderStep(ActionKind.TERMINATION, None)
    return ladder_proposal(account=report.target.owner)


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


def account_record(*, account: AbstractBaseUser | None) -> dict:
    """The reported account's strikes in the window and its sanctions, for the decision form."""
    if account is None:
        return {"strikes": [], "sanctions": []}
    return {
        "strikes": list(strikes(account=account).order_by("-decided_at")),
        "sanctions": list(Sanction.objects.filter(account=account).select_related("decided_by")[:20]),
    }


def sanction_detail(*, sanction_id: uuid.UUID) -> Sanction:
    return _get_or_404(
        Sanction.objects.select_related("account", "target", "decided_by", "approved_by", "lifted_by").prefetch_related(
            "reports", "appeals"
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
    return Notice.objects.filter(recipient=user).select_related("sanction", "appeal").order_by("-created_at")


def my_notice(*, user: AbstractBaseUser, notice_id: uuid.UUID) -> Notice:
    return _get_or_404(Notice.objects.filter(recipient=user).select_related("sanction"), notice_id)


def my_restrictions(*, user: AbstractBaseUser) -> list[Sanction]:
    """What currently limits this account (for its account page), never who reported it."""
    account_kinds = [k for k, rule in ACTION_RULES.items() if rule.lasting and not rule.on_content]
    return list(sanctions_in_force(account=user).filter(kind__in=account_kinds).order_by("ends_at"))


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
