"""Every write of enforcement: decisions (one or more actions), lifting, referral approval, expiry,
appeals, and an account's marks (misuse, trusted flagger, legal hold). Same rules as
moderation/services.py: one transaction with the audit events, the platform's webhook written to
the outbox in that transaction, notices mailed after commit. The reads these rules use (sanctions
in force, strikes, the ladder's proposal, appeal windows) are selectors.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.humanize.templatetags.humanize import intcomma
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, connection, transaction
from django.utils import dateformat, timezone
from django.utils.translation import gettext as _

from audit import services as audit
from config.i18n import in_english, in_sentence
from moderation.enforcement import notices, webhooks
from moderation.enforcement.actions import ACTION_RULES, ActionKind, may_take
from moderation.enforcement.models import (
    LIFTABLE_STATUSES,
    REVERSIBLE_ON_APPEAL_STATUSES,
    UNCOUNTED_STATUSES,
    AccountStanding,
    Appeal,
    AppealStatus,
    GroundType,
    Notice,
    Sanction,
    SanctionStatus,
)
from moderation.enforcement.selectors import (
    AlreadyInForce,
    already_in_force,
    appeal_window_open,
    complaint_from,
    decision_proposal,
    dismissal_decided_at,
    misuse_count,
    proposal_in_force,
)
from moderation.services import TransitionRefused, lock_target_of, report_review
from moderation.signals import services as signal_services
from reports.models import OPEN_STATUSES, Report, ReportStatus, Target, TargetState
from reports.services import report_audit_state
from reports.uploads import clean_upload

FACTS_MAX = 5000


@dataclass(frozen=True)
class ActionRequest:
    kind: str
    ends_at: datetime | None = None


def sanction_audit_state(sanction: Sanction) -> dict[str, Any]:
    return {
        "kind": sanction.kind,
        "status": sanction.status,
        "account": sanction.account_id,
        "target": str(sanction.target.public_id) if sanction.target_id else None,
        "ends_at": sanction.ends_at,
        "ground_type": sanction.ground_type,
        "ground": sanction.ground,
        "automated": sanction.automated,
        "decision_id": sanction.decision_id,
    }


def appeal_audit_state(appeal: Appeal) -> dict[str, Any]:
    """What every appeal event records of the appeal's row (moderation/reconcile.py compares it)."""
    return {"status": appeal.status}


def _webhook_payload(sanction: Sanction, event: str) -> dict[str, Any]:
    # What the platform needs to enforce; never who reported.
    return {
        "event": event,
        "sanction_id": sanction.id,
        "kind": sanction.kind,
        "status": sanction.status,
        "account_id": sanction.account_id,
        "target": {
            "id": sanction.target.public_id,
            "kind": sanction.target.kind,
            "external_id": sanction.target.external_id,
        }
        if sanction.target_id
        else None,
        "session_id": (sanction.target.metadata or {}).get("session_id") if sanction.target_id else None,
        "starts_at": sanction.starts_at,
        "ends_at": sanction.ends_at,
    }


# --- decisions ----------------------------------------------------------------------------------


def _validate_decision(
    *,
    actor,
    report: Report,
    actions: Sequence[ActionRequest],
    ground_type: str,
    ground: str,
    facts: str,
    ladder_override_reason: str,
    now: datetime,
    confirm_unchanged: bool = False,
) -> None:
    errors: dict[str, list[str]] = {}

    def add(field_name: str, message: str) -> None:
        errors.setdefault(field_name, []).append(message)

    if not actions:
        add("actions", _("Choose at least one action."))
    kinds = [a.kind for a in actions]
    if len(set(kinds)) != len(kinds):
        add("actions", _("Each action can be chosen once per decision."))
    for action in actions:
        if action.kind not in ACTION_RULES:
            add("actions", _("Unknown action %(kind)r.") % {"kind": action.kind})
            continue
        rule = ACTION_RULES[action.kind]
        label = ActionKind(action.kind).label
        if not may_take(actor, action.kind):
            raise PermissionDenied(_("Your role may not take the action “%(action)s”.") % {"action": label})
        if rule.duration == "required" and action.ends_at is None:
            add("ends_at", _("%(action)s needs an end date and time.") % {"action": label})
        if action.ends_at is not None and action.ends_at <= now:
            add("ends_at", _("The end of “%(action)s” must be in the future.") % {"action": label})
        if rule.target_kinds and report.target.kind not in rule.target_kinds:
            add(
                "actions",
                _("“%(action)s” does not apply to a %(kind)s.")
                % {"action": label, "kind": in_sentence(report.target.get_kind_display(), noun=True)},
            )
        if not rule.on_content and report.target.owner_id is None:
            add("actions", _("“%(action)s” needs an account, and this content has no known owner.") % {"action": label})
        # What acts on the content reaches the platform by the content's own id: a complaint's
        # description has none until it is linked to the registered content (reports.services.complaint_link).
        if (rule.on_content or action.kind == ActionKind.KICK) and not report.target.external_id:
            add(
                "actions",
                _(
                    "“%(action)s” has to reach the platform, which does not know this content by any id yet: "
                    "link the complaint to the registered content on the report page first."
                )
                % {"action": label},
            )
    if ground_type not in GroundType.values:
        add("ground_type", _("Say whether the ground is the law or the terms of service."))
    if not ground.strip():
        add("ground", _("Name the law or the clause of the terms of service."))
    if not facts.strip():
        add("facts", _("Describe the facts in plain words; the affected person reads this."))
    elif len(facts) > FACTS_MAX:
        add("facts", _("Keep the facts to %(limit)s characters or fewer.") % {"limit": intcomma(FACTS_MAX)})
    # The ladder's step as this person's role may apply it (never one they cannot take).
    proposal = decision_proposal(report=report, user=actor)
    strike_kinds = {a.kind for a in actions if a.kind in ACTION_RULES and ACTION_RULES[a.kind].strike}
    # A step that something in force already covers (a suspension for a terminated account) is moot.
    moot = proposal.ladder_kind in {item.kind for item in proposal_in_force(report=report, proposal=proposal, at=now)}
    if (
        proposal.ladder_kind
        and not moot
        and proposal.ladder_kind not in strike_kinds
        and not ladder_override_reason.strip()
    ):
        add(
            "ladder_override_reason",
            _("The repeat-offender ladder proposes “%(action)s”; say why you chose otherwise.")
            % {"action": ActionKind(proposal.ladder_kind).label},
        )
    if not errors and not confirm_unchanged:
        known = [(a.kind, a.ends_at) for a in actions if a.kind in ACTION_RULES]
        for same in already_in_force(report=report, requested=known, at=now):
            add("confirm_unchanged", _changes_nothing(same, report=report))
    if errors:
        raise ValidationError(errors)


def _until(moment: datetime | None) -> str:
    if moment is None:
        return _("with no end")
    return _("until %(date)s") % {"date": dateformat.format(timezone.localtime(moment), "j M, H:i")}


def _changes_nothing(same: AlreadyInForce, *, report: Report) -> str:
    """What a moderator reads when a new action would change nothing."""
    rule = ACTION_RULES[same.kind]
    whom = f"@{report.target.owner.get_username()}" if not rule.on_content else _("this content")
    asked = f"“{ActionKind(same.kind).label}”" + (f" {_until(same.ends_at)}" if rule.duration != "none" else "")
    return _(
        "Already in force on %(whom)s: %(action)s %(until)s. %(asked)s would change nothing. Choose a later end "
        "or another action, or tick “Record it anyway”."
    ) % {
        "whom": whom,
        "action": ActionKind(same.in_force.kind).label,
        "until": _until(same.in_force.ends_at),
        "asked": asked,
    }


def decision_apply(
    *,
    actor: AbstractBaseUser,
    report_id: uuid.UUID | str,
    actions: Sequence[ActionRequest],
    ground_type: str,
    ground: str,
    facts: str,
    automated: bool = False,
    apply_to_all_open: bool = False,
    ladder_override_reason: str = "",
    confirm_unchanged: bool = False,
) -> list[Sanction]:
    """Take one decision on a report: one or more actions, each with its effect, audit event and
    webhook; the report (and, if asked, every open report on the same target) is resolved; the
    affected account gets a statement of reasons and each reporter the outcome, after commit.

    An action that a sanction in force already covers (a 24-hour timeout inside a week's) is
    refused with the reason, under `confirm_unchanged`, unless `confirm_unchanged` says go ahead."""
    if not actor.is_authenticated or not actor.has_perm("reports.review_report"):
        raise PermissionDenied("reports.review_report is required")
    now = timezone.now()
    with transaction.atomic():
        target = lock_target_of(report_id)  # before its reports: see lock_target_of
        report = Report.objects.select_for_update(of=("self",)).select_related("target__owner").get(pk=report_id)
        if report.status not in OPEN_STATUSES:
            raise TransitionRefused(
                (
                    _("This report is already %(status)s by %(who)s.")
                    % {"status": in_sentence(report.get_status_display()), "who": report.reviewed_by.get_username()}
                    if report.reviewed_by_id
                    else _("This report is already %(status)s.") % {"status": in_sentence(report.get_status_display())}
                ),
                report=report,
            )
        _validate_decision(
            actor=actor,
            report=report,
            actions=actions,
            ground_type=ground_type,
            ground=ground,
            facts=facts,
            ladder_override_reason=ladder_override_reason,
            now=now,
            confirm_unchanged=confirm_unchanged,
        )
        resolved = [report]
        if apply_to_all_open:
            resolved += list(
                Report.objects.select_for_update().filter(target=target, status__in=OPEN_STATUSES).exclude(pk=report.pk)
            )
        decision_id = uuid.uuid4()
        # Automation that quarantined the content before this person decided took part in the
        # decision: the statement of reasons and the DSA export say so (automated_decision).
        automated = automated or signal_services.automation_took_part(resolved)
        sanctions = []
        for action in actions:
            rule = ACTION_RULES[action.kind]
            status = (
                SanctionStatus.PENDING_APPROVAL
                if rule.needs_second_approval
                else SanctionStatus.ACTIVE
                if rule.lasting
                else SanctionStatus.DONE
            )
            sanction = Sanction.objects.create(
                decision_id=decision_id,
                kind=action.kind,
                account=target.owner,
                target=target,
                status=status,
                ground_type=ground_type,
                ground=ground.strip(),
                facts=facts.strip(),
                automated=automated,
                starts_at=now,
                ends_at=action.ends_at,
                ladder_override_reason=ladder_override_reason.strip(),
                decided_by=actor,
                decided_at=now,
            )
            sanction.reports.set(resolved)
            audit.record(
                actor=actor,
                event_type="sanction.applied",
                object_type="sanction",
                object_id=sanction.id,
                after=sanction_audit_state(sanction),
                data={"reports": [str(r.pk) for r in resolved]},
                correlation_id=decision_id,
            )
            if rule.on_content and status == SanctionStatus.ACTIVE:
                new_state = (
                    TargetState.QUARANTINED if action.kind == ActionKind.QUARANTINE_FILE else TargetState.REMOVED
                )
                target_state_set(actor=actor, target=target, state=new_state, correlation_id=decision_id)
            if status != SanctionStatus.PENDING_APPROVAL:
                webhooks.enqueue(event_type="sanction.applied", payload=_webhook_payload(sanction, "applied"))
            sanctions.append(sanction)
        banking = next(
            (
                s
                for s in sanctions
                if s.kind in (ActionKind.REMOVE_CONTENT, ActionKind.QUARANTINE_FILE)
                and s.status == SanctionStatus.ACTIVE
            ),
            None,
        )
        if banking is not None:
            # A person confirmed removal or quarantine: in a bank category, the content's file and
            # the detectors' frames of it enter the hash bank (hashes only; moderation/signals).
            signal_services.bank_confirmed_media(actor=actor, reports=resolved, target=target, sanction=banking)
        for each in resolved:
            report_review(
                actor=actor,
                report_id=each.pk,
                status=ReportStatus.RESOLVED,
                admin_notes=f"Decision: {', '.join(in_english(ActionKind(a.kind).label) for a in actions)}.",
                correlation_id=decision_id,
            )
        if target.owner_id and any(s.kind != ActionKind.REFER_AUTHORITIES for s in sanctions):
            notices.statement_of_reasons(actor=actor, sanctions=sanctions)
    return sanctions


def target_state_set(*, actor, target: Target, state: str, correlation_id: uuid.UUID | None = None) -> None:
    """Change a target's state with its audit event, inside the caller's transaction (a decision
    here; a story's verdict in moderation/stories). Nothing when it is already in that state."""
    if target.state == state:
        return
    before = {"state": target.state}
    target.state = state
    target.save(update_fields=["state", "updated_at"])
    audit.record(
        actor=actor,
        event_type="target.state_changed",
        object_type="target",
        object_id=target.public_id,
        before=before,
        after={"state": state},
        correlation_id=correlation_id,
    )


def _undo_effect(*, actor, sanction: Sanction) -> None:
    """Restore content when no other removal or quarantine of it is still in force."""
    if ACTION_RULES[sanction.kind].on_content and sanction.target_id:
        target = Target.objects.select_for_update().get(pk=sanction.target_id)
        still_removed = (
            Sanction.objects.filter(
                target=target,
                status=SanctionStatus.ACTIVE,
                kind__in=[ActionKind.REMOVE_CONTENT, ActionKind.QUARANTINE_FILE],
            )
            .exclude(pk=sanction.pk)
            .exists()
        )
        if not still_removed:
            target_state_set(actor=actor, target=target, state=TargetState.VISIBLE, correlation_id=sanction.decision_id)


def sanction_lift(
    *,
    actor: AbstractBaseUser | audit.SystemActor,
    sanction_id: uuid.UUID | str,
    reason: str,
    reversed_on_appeal: bool = False,
    notify_account: bool = True,
) -> Sanction:
    """End a sanction early (or reverse it on appeal), undoing its effect."""
    if (
        not isinstance(actor, audit.SystemActor)
        and not actor.has_perm("enforcement.lift_sanction")
        and not reversed_on_appeal
    ):
        raise PermissionDenied("enforcement.lift_sanction is required")
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the sanction is lifted.")})
    with transaction.atomic():
        sanction = Sanction.objects.select_for_update(of=("self",)).select_related("target").get(pk=sanction_id)
        liftable = REVERSIBLE_ON_APPEAL_STATUSES if reversed_on_appeal else LIFTABLE_STATUSES
        if sanction.status not in liftable:
            raise ValidationError(
                {
                    "reason": _("This sanction is already %(status)s.")
                    % {"status": in_sentence(sanction.get_status_display())}
                }
            )
        before = sanction_audit_state(sanction)
        sanction.status = SanctionStatus.REVERSED if reversed_on_appeal else SanctionStatus.LIFTED
        sanction.lifted_by = None if isinstance(actor, audit.SystemActor) else actor
        sanction.lifted_at = timezone.now()
        sanction.lift_reason = reason.strip()
        sanction.save(update_fields=["status", "lifted_by", "lifted_at", "lift_reason"])
        _undo_effect(actor=actor, sanction=sanction)
        audit.record(
            actor=actor,
            event_type="sanction.lifted",
            object_type="sanction",
            object_id=sanction.id,
            before=before,
            after=sanction_audit_state(sanction),
            data={"reason": reason.strip()},
            correlation_id=sanction.decision_id,
        )
        webhooks.enqueue(event_type="sanction.lifted", payload=_webhook_payload(sanction, "lifted"))
        if notify_account and sanction.account_id:
            notices.sanction_lifted(actor=actor, sanction=sanction)
    return sanction


def referral_approve(*, actor: AbstractBaseUser, sanction_id: uuid.UUID | str, reference: str) -> Sanction:
    """The second compliance officer's approval that makes a referral to authorities count."""
    if not actor.has_perm("enforcement.approve_referral"):
        raise PermissionDenied("enforcement.approve_referral is required")
    if not reference.strip():
        raise ValidationError({"reference": _("Give the authority's reference for the referral.")})
    with transaction.atomic():
        sanction = Sanction.objects.select_for_update(of=("self",)).select_related("target").get(pk=sanction_id)
        if not sanction.awaits_second_approval:
            raise ValidationError({"reference": _("This is not a referral awaiting approval.")})
        if not sanction.may_be_approved_by(actor):
            raise ValidationError({"reference": _("A referral needs a second officer: you made this one.")})
        before = sanction_audit_state(sanction)
        sanction.status = SanctionStatus.DONE
        sanction.approved_by = actor
        sanction.approved_at = timezone.now()
        sanction.reference = reference.strip()
        sanction.save(update_fields=["status", "approved_by", "approved_at", "reference"])
        audit.record(
            actor=actor,
            event_type="referral.approved",
            object_type="sanction",
            object_id=sanction.id,
            before=before,
            after=sanction_audit_state(sanction),
            data={"reference": sanction.reference},
            correlation_id=sanction.decision_id,
        )
        webhooks.enqueue(event_type="sanction.applied", payload=_webhook_payload(sanction, "referral_approved"))
    return sanction


def expire_sanctions(*, now: datetime | None = None, limit: int = 10_000) -> list[uuid.UUID]:
    """Record the end of temporary sanctions past their end time (they already stopped applying:
    expiry is checked on access). Safe on several hosts at once."""
    now = now or timezone.now()
    due = list(
        Sanction.objects.filter(status=SanctionStatus.ACTIVE, ends_at__lte=now)
        .order_by("ends_at")
        .values_list("id", flat=True)[:limit]
    )
    expired = []
    for sanction_id in due:
        with transaction.atomic():
            rows = Sanction.objects.filter(pk=sanction_id, status=SanctionStatus.ACTIVE)
            if connection.features.has_select_for_update_skip_locked:
                rows = rows.select_for_update(skip_locked=True, of=("self",))
            sanction = rows.select_related("target").first()
            if sanction is None:
                continue
            before = sanction_audit_state(sanction)
            sanction.status = SanctionStatus.EXPIRED
            sanction.save(update_fields=["status"])
            _undo_effect(actor=audit.SYSTEM, sanction=sanction)
            audit.record(
                actor=audit.SYSTEM,
                event_type="sanction.expired",
                object_type="sanction",
                object_id=sanction.id,
                before=before,
                after=sanction_audit_state(sanction),
                correlation_id=sanction.decision_id,
            )
            webhooks.enqueue(event_type="sanction.expired", payload=_webhook_payload(sanction, "expired"))
            expired.append(sanction.id)
    return expired


# --- appeals ------------------------------------------------------------------------------------


def _clean_appeal_text(text: str) -> str:
    text = text.strip()
    if not text:
        raise ValidationError({"text": _("Explain why the decision should change.")})
    if len(text) > FACTS_MAX:
        raise ValidationError(
            {"text": _("Keep the appeal to %(limit)s characters or fewer.") % {"limit": intcomma(FACTS_MAX)}}
        )
    return text


def _appealable_dismissal(report: Report) -> datetime:
    if report.status != ReportStatus.DISMISSED:
        raise ValidationError({"text": _("Only a dismissed report can be appealed.")})
    return dismissal_decided_at(report)


def _appeal_create(
    *, audit_actor, subject: dict, decided_at: datetime, text: str, attachment: UploadedFile | None, **appellant
) -> Appeal:
    """Inside the caller's transaction: the window, once per decision, the row, its file and its event."""
    if not appeal_window_open(decided_at=decided_at):
        days = settings.APPEAL_WINDOW_DAYS
        raise ValidationError(
            {"text": _("Appeals are open for %(days)s days after the decision; this one has closed.") % {"days": days}}
        )
    already = ValidationError({"text": _("You have already appealed this decision.")})
    if Appeal.objects.filter(**appellant, **subject).exists():
        raise already
    clean = clean_upload(attachment) if attachment else None
    try:
        with transaction.atomic():
            appeal = Appeal.objects.create(
                text=text, due_at=timezone.now() + timedelta(days=settings.APPEAL_DEADLINE_DAYS), **appellant, **subject
            )
    except IntegrityError as exc:  # two submissions raced; the constraint let one in
        raise already from exc
    if clean:
        appeal.attachment.save(clean.original_name, ContentFile(clean.content), save=False)
        appeal.attachment_name = clean.original_name
        appeal.attachment_content_type = clean.content_type
        appeal.save(update_fields=["attachment", "attachment_name", "attachment_content_type"])
    audit.record(
        actor=audit_actor,
        event_type="appeal.filed",
        object_type="appeal",
        object_id=appeal.id,
        after={
            **appeal_audit_state(appeal),
            "sanction": appeal.sanction_id,
            "report": appeal.report_id,
            "due_at": appeal.due_at,
        },
    )
    return appeal


def appeal_file(
    *,
    actor: AbstractBaseUser,
    text: str,
    sanction_id: uuid.UUID | str | None = None,
    report_id: uuid.UUID | str | None = None,
    attachment: UploadedFile | None = None,
) -> Appeal:
    """The affected account appeals a sanction; a reporter appeals the dismissal of their report."""
    if bool(sanction_id) == bool(report_id):
        raise ValidationError(_("An appeal is about one sanction or one report."))
    text = _clean_appeal_text(text)
    with transaction.atomic():
        if sanction_id:
            sanction = Sanction.objects.filter(pk=sanction_id, account=actor).first()
            if sanction is None:
                raise Sanction.DoesNotExist("no such sanction for this account")
            if sanction.status in UNCOUNTED_STATUSES:
                raise ValidationError({"text": _("This decision can no longer be appealed.")})
            decided_at, subject = sanction.decided_at, {"sanction": sanction}
        else:
            report = Report.objects.filter(pk=report_id, reporter=actor).first()
            if report is None:
                raise Report.DoesNotExist("no such report for this account")
            decided_at, subject = _appealable_dismissal(report), {"report": report}
        return _appeal_create(
            audit_actor=actor, subject=subject, decided_at=decided_at, text=text, attachment=attachment, appellant=actor
        )


def complaint_appeal_file(
    *, report_id: uuid.UUID | str, email: str, text: str, attachment: UploadedFile | None = None
) -> Appeal:
    """Someone who sent a complaint without an account appeals its dismissal, from the signed link in
    the outcome mail (which proves the address). They are answered by mail at that address."""
    text = _clean_appeal_text(text)
    with transaction.atomic():
        report = complaint_from(report_id=report_id, email=email)
        if report is None:
            raise Report.DoesNotExist("no such complaint from this address")
        return _appeal_create(
            audit_actor=audit.PUBLIC_FORM,
            subject={"report": report},
            decided_at=_appealable_dismissal(report),
            text=text,
            attachment=attachment,
            appellant=None,
            appellant_email=report.reporter_email,
        )


def appeal_decide(*, actor: AbstractBaseUser, appeal_id: uuid.UUID | str, outcome: str, reason: str) -> Appeal:
    """Decide an appeal. Never by the person who made the original decision (DSA Art. 20(6)).

    reversed: the whole decision is undone (every sanction of it; a dismissed report is reopened);
    partially_reversed: only the appealed sanction is undone, the rest of the decision stands;
    upheld: nothing changes. The appellant receives the reasoned decision.
    """
    if not actor.has_perm("enforcement.decide_appeal"):
        raise PermissionDenied("enforcement.decide_appeal is required")
    if outcome not in (AppealStatus.UPHELD, AppealStatus.PARTIALLY_REVERSED, AppealStatus.REVERSED):
        raise ValidationError({"outcome": _("Choose upheld, partially reversed or reversed.")})
    if not reason.strip():
        raise ValidationError({"reason": _("Give the reasons for the decision; the appellant reads them.")})
    with transaction.atomic():
        appeal = Appeal.objects.select_for_update(of=("self",)).select_related("sanction", "report").get(pk=appeal_id)
        if not appeal.is_open:
            raise ValidationError(
                {
                    "outcome": _("This appeal was already decided (%(status)s).")
                    % {"status": appeal.get_status_display()}
                }
            )
        if not appeal.may_be_decided_by(actor):
            raise ValidationError({"outcome": _("Someone other than the original decider must decide this appeal.")})
        before = appeal_audit_state(appeal)
        appeal.status = outcome
        appeal.decided_by = actor
        appeal.decided_at = timezone.now()
        appeal.decision_reason = reason.strip()
        appeal.save(update_fields=["status", "decided_by", "decided_at", "decision_reason"])
        audit.record(
            actor=actor,
            event_type="appeal.decided",
            object_type="appeal",
            object_id=appeal.id,
            before=before,
            after=appeal_audit_state(appeal),
            data={"reason": appeal.decision_reason},
        )
        if outcome != AppealStatus.UPHELD:
            _reverse(actor=actor, appeal=appeal, whole_decision=outcome == AppealStatus.REVERSED)
        notices.appeal_decision(actor=actor, appeal=appeal)
    return appeal


def _reverse(*, actor, appeal: Appeal, whole_decision: bool) -> None:
    outcome = in_english(AppealStatus(appeal.status).label).lower()
    reason = f"Appeal {str(appeal.id)[:8]} {outcome}: {appeal.decision_reason}"
    if appeal.report_id:
        _reopen_report(actor=actor, report_id=appeal.report_id, reason=reason)
        return
    sanctions = (
        Sanction.objects.filter(decision_id=appeal.sanction.decision_id)
        if whole_decision
        else Sanction.objects.filter(pk=appeal.sanction_id)
    )
    for sanction in sanctions.filter(status__in=REVERSIBLE_ON_APPEAL_STATUSES):
        sanction_lift(
            actor=actor, sanction_id=sanction.pk, reason=reason, reversed_on_appeal=True, notify_account=False
        )


def _reopen_report(*, actor, report_id: uuid.UUID, reason: str) -> None:
    """A reporter's appeal succeeded: the report is open again, escalated, for a new decision."""
    report = Report.objects.select_for_update().get(pk=report_id)
    before = report_audit_state(report)
    report.status = ReportStatus.REVIEWED
    report.closed_at = None
    report.escalated = True
    report.escalation_reason = reason
    report.save(update_fields=["status", "closed_at", "escalated", "escalation_reason", "updated_at"])
    audit.record(
        actor=actor,
        event_type="report.reopened",
        object_type="report",
        object_id=report.id,
        before=before,
        after=report_audit_state(report),
        data={"reason": reason},
    )


# --- notices --------------------------------------------------------------------------------------


def notice_read(*, actor: AbstractBaseUser, notice_id: uuid.UUID | str) -> Notice:
    """The recipient opened their notice: the first time is recorded (the banner stops counting it,
    and the record shows that the person saw what they were told). Anyone else's notice: not found."""
    with transaction.atomic():
        notice = Notice.objects.select_for_update().filter(pk=notice_id, recipient_id=actor.pk).first()
        if notice is None:
            raise Notice.DoesNotExist("no such notice for this account")
        if notice.read_at is None:
            notice.read_at = timezone.now()
            notice.save(update_fields=["read_at"])
            audit.record(
                actor=actor,
                event_type="notice.read",
                object_type="notice",
                object_id=notice.id,
                before={"read_at": None},
                after={"read_at": notice.read_at},
            )
    return notice


# --- accounts: misuse, trusted flaggers, legal holds --------------------------------------------


def _standing(account) -> AccountStanding:
    standing, _created = AccountStanding.objects.select_for_update().get_or_create(user=account)
    return standing


def report_mark_unfounded(*, actor: AbstractBaseUser, report_id: uuid.UUID | str) -> Report:
    """Record that a dismissed report was manifestly unfounded, and apply the misuse rule (DSA Art.
    23) to its reporter: a warning after MISUSE_WARN_AFTER such reports in the window, a pause in
    processing their reports after MISUSE_PAUSE_AFTER."""
    if not actor.has_perm("reports.review_report"):
        raise PermissionDenied("reports.review_report is required")
    with transaction.atomic():
        report = Report.objects.select_for_update(of=("self",)).select_related("reporter").get(pk=report_id)
        if report.status != ReportStatus.DISMISSED:
            raise ValidationError(_("Only a dismissed report can be marked manifestly unfounded."))
        if report.manifestly_unfounded:
            return report
        report.manifestly_unfounded = True
        report.save(update_fields=["manifestly_unfounded", "updated_at"])
        audit.record(
            actor=actor,
            event_type="report.reviewed",
            object_type="report",
            object_id=report.id,
            before={"manifestly_unfounded": False},
            after={"manifestly_unfounded": True},
        )
        if report.reporter_id:
            _apply_misuse_rule(actor=actor, reporter=report.reporter)
    return report


def _apply_misuse_rule(*, actor, reporter) -> None:
    now = timezone.now()
    count = misuse_count(reporter=reporter, now=now)
    standing = _standing(reporter)
    before = {"misuse_warned_at": standing.misuse_warned_at, "reports_paused_until": standing.reports_paused_until}
    if count >= settings.MISUSE_PAUSE_AFTER and not (
        standing.reports_paused_until and standing.reports_paused_until > now
    ):
        standing.reports_paused_until = now + timedelta(days=settings.MISUSE_PAUSE_DAYS)
        notice = notices.misuse(actor=actor, account=reporter, paused_until=standing.reports_paused_until, count=count)
    elif count >= settings.MISUSE_WARN_AFTER and standing.misuse_warned_at is None:
        standing.misuse_warned_at = now
        notice = notices.misuse(actor=actor, account=reporter, paused_until=None, count=count)
    else:
        return
    standing.save()
    audit.record(
        actor=actor,
        event_type="account.flag_changed",
        object_type="user",
        object_id=reporter.pk,
        before=before,
        after={"misuse_warned_at": standing.misuse_warned_at, "reports_paused_until": standing.reports_paused_until},
        data={"rule": "misuse", "unfounded_reports": count, "notice": str(notice.pk)},
    )


def trusted_flagger_set(*, actor: AbstractBaseUser, account, trusted: bool, reason: str) -> AccountStanding:
    if not actor.has_perm("reports.mark_trusted_flagger"):
        raise PermissionDenied("reports.mark_trusted_flagger is required")
    if not reason.strip():
        raise ValidationError({"reason": _("Say why (e.g. the Digital Services Coordinator's designation).")})
    with transaction.atomic():
        standing = _standing(account)
        before = {"trusted_flagger": standing.trusted_flagger}
        standing.trusted_flagger = trusted
        standing.save()
        audit.record(
            actor=actor,
            event_type="account.flag_changed",
            object_type="user",
            object_id=account.pk,
            before=before,
            after={"trusted_flagger": trusted},
            data={"reason": reason.strip()},
        )
    return standing


def legal_hold_set(
    *, actor: AbstractBaseUser, hold: bool, reason: str, report_id: uuid.UUID | str | None = None, account=None
) -> None:
    """Keep (or release) a report's or an account's evidence past retention."""
    if not actor.has_perm("reports.set_legal_hold"):
        raise PermissionDenied("reports.set_legal_hold is required")
    if not reason.strip():
        raise ValidationError({"reason": _("Say why (a referral, an appeal, a court order...).")})
    if bool(report_id) == bool(account):
        raise ValidationError(_("A legal hold is set on one report or one account."))
    with transaction.atomic():
        if report_id:
            report = Report.objects.select_for_update().get(pk=report_id)
            before, report.legal_hold = report.legal_hold, hold
            report.save(update_fields=["legal_hold", "updated_at"])
            object_type, object_id = "report", report.pk
        else:
            standing = _standing(account)
            before, standing.legal_hold = standing.legal_hold, hold
            standing.save()
            object_type, object_id = "user", account.pk
        audit.record(
            actor=actor,
            event_type="report.legal_hold_changed",
            object_type=object_type,
            object_id=object_id,
            before={"legal_hold": before},
            after={"legal_hold": hold},
            data={"reason": reason.strip()},
        )
