"""Every write of the moderator's side: review, reopen, assign, claim, escalate, notes, questions,
bulk work and the deadline sweep. Each runs in one transaction with its audit event, and locks the
report row so that two moderators acting at once can never both win.

Lock order, in every app, so that no two transactions wait on each other in a circle (PostgreSQL
would end one of them with "deadlock detected"):

    target  ->  its reports (in id or creation order)  ->  their automated cases  ->  its story review

A service that may change a report's target takes the target's lock (lock_target_of) before the
report's: a dismissal (which may release an automated quarantine, moderation/signals
quarantine_release), a decision (moderation/enforcement decision_apply), a review of a whole target,
a story's verdict (moderation/stories), the signals' batch and the hash bank's matches
(moderation/signals). A service that only changes the report locks the report alone.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.humanize.templatetags.humanize import intcomma
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from audit import correlation
from audit import services as audit
from config.i18n import in_sentence
from moderation import notify, workflow
from moderation.models import ReportNote
from moderation.selectors import queue_priority_order
from moderation.signals import services as signal_services
from reports.categories import Severity
from reports.models import CLOSED_STATUSES, OPEN_STATUSES, InfoRequest, Report, ReportChannel, ReportStatus, Target
from reports.services import report_audit_state

ADMIN_NOTES_MAX = 5000
NOTE_MAX = 5000


class TransitionRefused(Exception):
    """The move is not allowed from the report's current status, or someone else moved it first.

    The API answers 409; the page shows the message, which names who handled the report.
    """

    def __init__(self, message: str, *, report: Report) -> None:
        super().__init__(message)
        self.report = report


def _require(actor: AbstractBaseUser, permission: str) -> None:
    if not actor.is_authenticated or not actor.has_perm(permission):
        raise PermissionDenied(f"{permission} is required")


def _locked(report_id: uuid.UUID | str) -> Report:
    try:
        return Report.objects.select_for_update().get(pk=report_id)
    except (Report.DoesNotExist, ValidationError, ValueError) as exc:
        raise Report.DoesNotExist(f"no report {report_id}") from exc


def lock_target_of(report_id: uuid.UUID | str) -> Target:
    """Lock the report's target, inside the caller's transaction, before any of its reports (the
    order of the module docstring): the services that act on several reports of one target
    (report_review_on_target, decision_apply) or that may change the target after the report (a
    dismissal releasing an automated quarantine) all take this lock first, so they queue on it
    instead of deadlocking with the signals' batch, which locks targets and then their reports."""
    try:
        return Target.objects.select_for_update(of=("self",)).get(reports=report_id)
    except (Target.DoesNotExist, ValidationError, ValueError) as exc:
        raise Report.DoesNotExist(f"no report {report_id}") from exc


def _lock_target_before_dismissal(*, report_id: uuid.UUID | str, status: str) -> None:
    """A dismissal may release what automation quarantined, a change of the target: its lock comes
    before the report's (the module's lock order). Any dismissal, not only an automated report's:
    the channel is only known once the report is read, and reading it first would cost the same
    query as the lock."""
    if status == ReportStatus.DISMISSED:
        lock_target_of(report_id)


def _keep_notes(limit: int) -> str:
    return _("Keep notes to %(limit)s characters or fewer.") % {"limit": intcomma(limit)}


def _handled_by(report: Report) -> str:
    who = report.reviewed_by.get_username() if report.reviewed_by_id else _("someone else")
    if not report.reviewed_at:
        return who
    return _("%(who)s at %(time)s") % {"who": who, "time": f"{timezone.localtime(report.reviewed_at):%H:%M}"}


def report_review(
    *,
    actor: AbstractBaseUser,
    report_id: uuid.UUID | str,
    status: str,
    admin_notes: str = "",
    expected_status: str | None = None,
    correlation_id: uuid.UUID | None = None,
) -> Report:
    """Move a report along the contract's table, recording reviewer and time.

    `expected_status` is the status the moderator was looking at: if the report moved since, the
    change is refused rather than silently stacked on someone else's decision.
    """
    _require(actor, "reports.review_report")
    if status not in ReportStatus.values:
        raise ValidationError({"status": _("Unknown status %(status)r.") % {"status": status}})
    if len(admin_notes) > ADMIN_NOTES_MAX:
        raise ValidationError({"admin_notes": _keep_notes(ADMIN_NOTES_MAX)})
    with transaction.atomic():
        _lock_target_before_dismissal(report_id=report_id, status=status)
        report = _locked(report_id)
        if expected_status and report.status != expected_status:
            raise TransitionRefused(
                _("This report was already marked %(status)s by %(who)s. Reload to see the latest.")
                % {"status": in_sentence(report.get_status_display()), "who": _handled_by(report)},
                report=report,
            )
        if not workflow.can_move(report.status, status):
            raise TransitionRefused(
                (
                    _("A %(current)s report cannot be marked %(status)s; it was handled by %(who)s.")
                    if report.reviewed_by_id
                    else _("A %(current)s report cannot be marked %(status)s.")
                )
                % {
                    "current": in_sentence(report.get_status_display()),
                    "status": in_sentence(ReportStatus(status).label),
                    "who": _handled_by(report),
                },
                report=report,
            )
        before = report_audit_state(report)
        now = timezone.now()
        report.status = status
        report.reviewed_by = actor
        report.reviewed_at = now
        report.first_reviewed_at = report.first_reviewed_at or now
        if status in CLOSED_STATUSES:
            report.closed_at = now
        if admin_notes.strip():
            report.admin_notes = admin_notes.strip()
        report.save(
            update_fields=[
                "status",
                "reviewed_by",
                "reviewed_at",
                "first_reviewed_at",
                "closed_at",
                "admin_notes",
                "updated_at",
            ]
        )
        audit.record(
            actor=actor,
            event_type="report.reviewed",
            object_type="report",
            object_id=report.id,
            before=before,
            after=report_audit_state(report),
            data={"admin_notes": report.admin_notes} if admin_notes.strip() else {},
            correlation_id=correlation_id,
        )
        if status == ReportStatus.DISMISSED and report.channel == ReportChannel.AUTOMATED:
            # Nobody confirmed what automation quarantined: the content comes back (moderation/signals).
            signal_services.quarantine_release(actor=actor, report=report)
        if status in CLOSED_STATUSES:
            notify.report_outcome(report=report)
    return report


@dataclass
class TargetReview:
    """What report_review_on_target did: the report reviewed, the other open reports on its target
    that took the same move, and those left as they were because they could not take it."""

    report: Report
    correlation_id: uuid.UUID
    also: list[uuid.UUID] = field(default_factory=list)
    left: list[uuid.UUID] = field(default_factory=list)


def report_review_on_target(
    *,
    actor: AbstractBaseUser,
    report_id: uuid.UUID | str,
    status: str,
    admin_notes: str = "",
    expected_status: str | None = None,
    apply_to_target: bool = True,
) -> TargetReview:
    """The review form's one call: review a report and, with `apply_to_target`, give every other
    open report on its target the same move, in one transaction: if the report cannot take the move
    (someone moved it first), nothing changes.

    The events share one correlation id. Another report that cannot take this move (one already
    reviewed, when the move is "reviewed") is left as it is and named in `left`. The target's row is
    locked first, as decision_apply does, so two actions on one target's reports queue, never deadlock.
    """
    _require(actor, "reports.review_report")
    # In a web request the batch is the request: its log line and these events share one id.
    batch = correlation.current() or uuid.uuid4()
    with transaction.atomic():
        target = lock_target_of(report_id) if apply_to_target else None
        report = report_review(
            actor=actor,
            report_id=report_id,
            status=status,
            admin_notes=admin_notes,
            expected_status=expected_status,
            correlation_id=batch,
        )
        result = TargetReview(report=report, correlation_id=batch)
        others = (
            Report.objects.select_for_update()
            .filter(target=target, status__in=OPEN_STATUSES)
            .exclude(pk=report.pk)
            .order_by("pk")
            if target is not None
            else []
        )
        for other in others:
            if not workflow.can_move(other.status, status):
                result.left.append(other.pk)
                continue
            report_review(actor=actor, report_id=other.pk, status=status, admin_notes=admin_notes, correlation_id=batch)
            result.also.append(other.pk)
    return result


def report_reopen(*, actor: AbstractBaseUser, report_id: uuid.UUID | str, reason: str) -> Report:
    _require(actor, "reports.reopen_report")
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the report is reopened.")})
    with transaction.atomic():
        report = _locked(report_id)
        if report.status not in workflow.REOPEN_FROM:
            raise TransitionRefused("Only a resolved or dismissed report can be reopened.", report=report)
        before = report_audit_state(report)
        report.status = workflow.REOPEN_TO
        report.closed_at = None
        report.save(update_fields=["status", "closed_at", "updated_at"])
        audit.record(
            actor=actor,
            event_type="report.reopened",
            object_type="report",
            object_id=report.id,
            before=before,
            after=report_audit_state(report),
            data={"reason": reason.strip()},
        )
    return report


_UNCHECKED = object()


def report_assign(
    *,
    actor: AbstractBaseUser,
    report_id: uuid.UUID | str,
    assignee: AbstractBaseUser | None,
    correlation_id: uuid.UUID | None = None,
    expected_assignee_id: int | None | object = _UNCHECKED,
) -> Report:
    """Assign (or, with `assignee=None`, unassign) a report.

    `expected_assignee_id` is the assignee the moderator was looking at (None: unassigned): if
    someone took or moved the report since, the change is refused instead of silently taking it
    away from them.
    """
    _require(actor, "reports.review_report")
    if assignee is not None and not assignee.has_perm("reports.review_report"):
        raise ValidationError({"assignee": _("Reports can only be assigned to moderation staff.")})
    with transaction.atomic():
        report = _locked(report_id)
        if report.assignee_id == (assignee.pk if assignee else None):
            return report
        if expected_assignee_id is not _UNCHECKED and report.assignee_id != expected_assignee_id:
            holder = report.assignee.get_username() if report.assignee_id else _("nobody")
            raise TransitionRefused(
                _("This report was meanwhile assigned to %(holder)s. Reload to see the latest.") % {"holder": holder},
                report=report,
            )
        _assign(report, assignee, actor=actor, data={}, correlation_id=correlation_id)
    return report


def _assign(
    report: Report,
    assignee: AbstractBaseUser | None,
    *,
    actor: AbstractBaseUser,
    data: dict,
    correlation_id: uuid.UUID | None = None,
) -> None:
    """Give a locked report to someone (or to nobody), with its audit event."""
    before = report_audit_state(report)
    report.assignee = assignee
    report.save(update_fields=["assignee", "updated_at"])
    audit.record(
        actor=actor,
        event_type="report.assigned",
        object_type="report",
        object_id=report.id,
        before=before,
        after=report_audit_state(report),
        data={"assignee": assignee.get_username() if assignee else None, **data},
        correlation_id=correlation_id,
    )


def report_claim_next(*, actor: AbstractBaseUser, base: QuerySet[Report] | None = None) -> Report | None:
    """Assign the most urgent open, unassigned report to the actor, atomically.

    PostgreSQL: SELECT ... FOR UPDATE SKIP LOCKED, so moderators on many servers pulling at once
    each get a different report. SQLite serialises writers, which gives the same guarantee.
    """
    _require(actor, "reports.review_report")
    candidates = (base if base is not None else Report.objects.all()).filter(
        status__in=OPEN_STATUSES, assignee__isnull=True
    )
    with transaction.atomic():
        if connection.features.has_select_for_update_skip_locked:
            candidates = candidates.select_for_update(skip_locked=True, of=("self",))
        report = candidates.order_by(*queue_priority_order()).first()
        if report is None:
            return None
        _assign(report, actor, actor=actor, data={"via": "next"})
    return report


def report_escalate(
    *,
    actor: AbstractBaseUser,
    report_id: uuid.UUID | str,
    reason: str,
    system: bool = False,
    correlation_id: uuid.UUID | None = None,
) -> Report:
    """Send a report to compliance review. `system=True` is for the deadline sweep."""
    if not system:
        _require(actor, "reports.review_report")
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the report needs compliance review.")})
    with transaction.atomic():
        report = _locked(report_id)
        if report.escalated:
            return report
        before = report_audit_state(report)
        report.escalated = True
        report.escalation_reason = reason.strip()
        report.save(update_fields=["escalated", "escalation_reason", "updated_at"])
        audit.record(
            actor=audit.SYSTEM if system else actor,
            event_type="report.escalated",
            object_type="report",
            object_id=report.id,
            before=before,
            after=report_audit_state(report),
            data={"reason": reason.strip()},
            correlation_id=correlation_id,
        )
    return report


def report_deescalate(*, actor: AbstractBaseUser, report_id: uuid.UUID | str, reason: str) -> Report:
    _require(actor, "reports.view_escalated")
    with transaction.atomic():
        report = _locked(report_id)
        if not report.escalated:
            return report
        before = report_audit_state(report)
        report.escalated = False
        report.save(update_fields=["escalated", "updated_at"])
        audit.record(
            actor=actor,
            event_type="report.deescalated",
            object_type="report",
            object_id=report.id,
            before=before,
            after=report_audit_state(report),
            data={"reason": reason.strip()},
        )
    return report


def report_add_note(
    *, actor: AbstractBaseUser, report_id: uuid.UUID | str, body: str, correlation_id: uuid.UUID | None = None
) -> ReportNote:
    _require(actor, "reports.review_report")
    body = body.strip()
    if not body:
        raise ValidationError({"body": _("Write the note first.")})
    if len(body) > NOTE_MAX:
        raise ValidationError({"body": _keep_notes(NOTE_MAX)})
    with transaction.atomic():
        report = _locked(report_id)
        note = ReportNote.objects.create(report=report, author=actor, body=body)
        audit.record(
            actor=actor,
            event_type="report.note_added",
            object_type="report",
            object_id=report.id,
            data={"note_id": note.pk, "body": body},
            correlation_id=correlation_id,
        )
    return note


def report_request_info(*, actor: AbstractBaseUser, report_id: uuid.UUID | str, question: str) -> InfoRequest:
    """Ask the reporter a question; it appears on their page for that report and by email."""
    _require(actor, "reports.review_report")
    question = question.strip()
    if not question:
        raise ValidationError({"question": _("Write the question first.")})
    if len(question) > NOTE_MAX:
        raise ValidationError(
            {"question": _("Keep the question to %(limit)s characters or fewer.") % {"limit": intcomma(NOTE_MAX)}}
        )
    with transaction.atomic():
        report = _locked(report_id)
        if report.reporter_id is None:
            raise ValidationError(
                {"question": _("This report came without an account; write to the complainant by email instead.")}
            )
        info = InfoRequest.objects.create(report=report, question=question, asked_by=actor)
        audit.record(
            actor=actor,
            event_type="report.info_requested",
            object_type="report",
            object_id=report.id,
            data={"info_request_id": info.pk, "question": question},
        )
        notify.info_requested(info=info)
    return info


BULK_ACTIONS = ("assign_me", "assign", "unassign", "reviewed", "resolved", "dismissed")


@dataclass
class BulkResult:
    correlation_id: uuid.UUID
    done: list[uuid.UUID] = field(default_factory=list)
    skipped: dict[uuid.UUID, str] = field(default_factory=dict)


def reports_bulk(
    *,
    actor: AbstractBaseUser,
    report_ids: Iterable[uuid.UUID | str],
    action: str,
    note: str = "",
    assignee: AbstractBaseUser | None = None,
    correlation_id: uuid.UUID | None = None,
    seen_at: datetime | None = None,
) -> BulkResult:
    """Apply one action to many reports. Each report gets its own audit event, all sharing one
    correlation id; a report that cannot take the move (someone closed it) is skipped and said so,
    and so is one changed since `seen_at` (when the moderator's queue page was read): the bulk bar
    must not stack a decision on a colleague's newer one."""
    _require(actor, "reports.review_report")
    if action not in BULK_ACTIONS:
        raise ValidationError({"action": _("Choose an action.")})
    if action == "assign" and assignee is None:
        raise ValidationError({"assignee": _("Choose who to assign the reports to.")})
    if len(note) > ADMIN_NOTES_MAX:
        raise ValidationError({"note": _keep_notes(ADMIN_NOTES_MAX)})
    result = BulkResult(correlation_id=correlation_id or correlation.current() or uuid.uuid4())
    for report_id in report_ids:
        try:
            with transaction.atomic():
                _bulk_one(
                    actor=actor,
                    report_id=report_id,
                    action=action,
                    note=note,
                    assignee=assignee,
                    correlation_id=result.correlation_id,
                    seen_at=seen_at,
                )
        except TransitionRefused as refused:
            result.skipped[refused.report.pk] = str(refused)
        except Report.DoesNotExist:
            with contextlib.suppress(ValueError):
                result.skipped[uuid.UUID(str(report_id))] = "This report no longer exists."
        else:
            result.done.append(uuid.UUID(str(report_id)))
    return result


def _bulk_one(
    *,
    actor: AbstractBaseUser,
    report_id: uuid.UUID | str,
    action: str,
    note: str,
    assignee: AbstractBaseUser | None,
    correlation_id: uuid.UUID,
    seen_at: datetime | None,
) -> None:
    """One report of a bulk action, inside the caller's transaction."""
    if seen_at is not None:
        # The report is held to the end of the caller's transaction, and a dismissal's target before it.
        _lock_target_before_dismissal(report_id=report_id, status=action)
        report = _locked(report_id)
        if report.updated_at > seen_at:
            raise TransitionRefused(
                _("Report %(reference)s changed after you loaded the queue (now %(status)s); reload to see the latest.")
                % {"reference": report.short_id, "status": in_sentence(report.get_status_display())},
                report=report,
            )
    if action in ("assign_me", "assign", "unassign"):
        who = actor if action == "assign_me" else (assignee if action == "assign" else None)
        report_assign(actor=actor, report_id=report_id, assignee=who, correlation_id=correlation_id)
        if note.strip():
            report_add_note(actor=actor, report_id=report_id, body=note, correlation_id=correlation_id)
    else:
        report_review(actor=actor, report_id=report_id, status=action, admin_notes=note, correlation_id=correlation_id)


@dataclass
class SweepResult:
    escalated: list[uuid.UUID] = field(default_factory=list)
    overdue: list[uuid.UUID] = field(default_factory=list)
    half_way: list[uuid.UUID] = field(default_factory=list)


def _half_way(report: Report, now: datetime) -> bool:
    # Half of the report's own window: a trusted flagger's critical report has a shorter one.
    return report.created_at + (report.due_at - report.created_at) / 2 <= now


def sla_sweep(*, now: datetime | None = None, limit: int = 1000) -> SweepResult:
    """Escalate open reports past their deadline, and critical ones past half of it; alert once.

    Safe on several hosts at once: each report is claimed with SKIP LOCKED (PostgreSQL) and marked
    `sla_alerted_at` in the same transaction, so it is escalated and mailed exactly once. SQLite
    serialises writers, and the row is re-read inside the transaction, which gives the same.
    """
    now = now or timezone.now()
    result = SweepResult()
    # Candidates: overdue, or critical with at most half the longest critical window left; the
    # exact half-way point of each report's own window is checked below.
    widest_half = timedelta(hours=settings.REPORT_DEADLINE_HOURS[Severity.CRITICAL] / 2)
    candidates = (
        Report.objects.filter(status__in=OPEN_STATUSES, sla_alerted_at__isnull=True)
        .filter(Q(due_at__lte=now) | Q(severity=Severity.CRITICAL, due_at__lte=now + widest_half))
        .order_by("due_at")
        .only("id", "due_at", "created_at", "severity")[:limit]
    )
    due_ids = [r.id for r in candidates if r.due_at <= now or _half_way(r, now)]
    for report_id in due_ids:
        with transaction.atomic():
            rows = Report.objects.filter(pk=report_id, sla_alerted_at__isnull=True, status__in=OPEN_STATUSES)
            if connection.features.has_select_for_update_skip_locked:
                rows = rows.select_for_update(skip_locked=True)
            report = rows.first()
            if report is None:
                continue  # another host took it, or it was closed meanwhile
            before = report_audit_state(report)
            past_deadline = report.due_at <= now
            report.sla_alerted_at = now
            report.escalated = True
            if not report.escalation_reason:
                report.escalation_reason = (
                    "Past its deadline" if past_deadline else "Critical report past half its deadline"
                )
            report.save(update_fields=["sla_alerted_at", "escalated", "escalation_reason", "updated_at"])
            audit.record(
                actor=audit.SYSTEM,
                event_type="report.sla_breached",
                object_type="report",
                object_id=report.id,
                before=before,
                after=report_audit_state(report),
                data={"past_deadline": past_deadline, "due_at": report.due_at},
            )
            notify.sla_alert(report=report)
            result.escalated.append(report.id)
            (result.overdue if past_deadline else result.half_way).append(report.id)
    return result


def staff_create(
    *, actor: audit.Actor, username: str, role: str, email: str = "", password: str | None = None
) -> tuple[AbstractBaseUser, bool]:
    """Create a staff account (or give an existing account a role). Returns (user, created)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from moderation.accounts import clean_username
    from moderation.roles import ROLES, is_staff_for

    if role not in ROLES:
        raise ValidationError({"role": _("Role must be one of: %(roles)s.") % {"roles": ", ".join(ROLES)}})
    username = clean_username(username)  # as the sign-up form would: no markup, no look-alike
    User = get_user_model()  # noqa: N806
    with transaction.atomic():
        user, created = User.objects.get_or_create(username=username, defaults={"email": email})
        if password:
            user.set_password(password)
        elif created:
            user.set_unusable_password()
        user.is_staff = is_staff_for(role)
        user.save()
        user.groups.set(Group.objects.filter(name=role))
        audit.record(
            actor=actor,
            event_type="staff.created",
            object_type="user",
            object_id=user.pk,
            after={"username": user.get_username(), "role": role},
            data={"created": created},
        )
    return user, created
