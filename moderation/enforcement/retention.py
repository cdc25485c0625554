"""Retention: evidence of closed cases is deleted after the retention period, unless a legal hold,
a referral to the authorities or an open appeal keeps it. Identifiers, hashes and the audit trail
stay."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from audit import services as audit
from moderation.enforcement.actions import ActionKind
from moderation.enforcement.models import AccountStanding, Appeal, AppealStatus, Sanction, SanctionStatus
from reports.models import CLOSED_STATUSES, OPEN_STATUSES, Evidence, Report, Target


@dataclass
class PurgeResult:
    reports: int = 0
    evidence_files: int = 0
    snapshots: int = 0
    held: int = 0


def _held_accounts():
    return AccountStanding.objects.filter(legal_hold=True).values("user_id")


def purgeable_reports(*, older_than_days: int):
    cutoff = timezone.now() - timedelta(days=older_than_days)
    open_appeal = Appeal.objects.filter(status=AppealStatus.PENDING).filter(
        Q(report=OuterRef("pk")) | Q(sanction__reports=OuterRef("pk"))
    )
    closed_old = Report.objects.filter(
        status__in=CLOSED_STATUSES, closed_at__lt=cutoff, evidence_purged_at__isnull=True
    )
    # A case referred to the authorities (awaiting the second approval or sent) keeps its evidence
    # for them without anyone having to set a hold by hand; a referral reversed on appeal does not.
    referred = Sanction.objects.filter(reports=OuterRef("pk"), kind=ActionKind.REFER_AUTHORITIES).exclude(
        status=SanctionStatus.REVERSED
    )
    held = (
        Q(legal_hold=True)
        | Q(reporter__in=_held_accounts())
        | Q(target__owner__in=_held_accounts())
        | Q(Exists(referred))
    )
    return closed_old.exclude(held).exclude(Exists(open_appeal)), closed_old.filter(held).count()


def purge_evidence(*, older_than_days: int) -> PurgeResult:
    """Delete evidence files and target snapshots of closed cases past retention, report by report,
    each in its own transaction with its audit event. Files are removed after the commit."""
    candidates, held = purgeable_reports(older_than_days=older_than_days)
    result = PurgeResult(held=held)
    for report_id in candidates.values_list("pk", flat=True).iterator(chunk_size=500):
        with transaction.atomic():
            # The target before the report (the lock order of moderation/services.py): the snapshot's
            # purge below changes it.
            list(Target.objects.select_for_update(of=("self",)).filter(reports=report_id).values_list("pk"))
            report = Report.objects.select_for_update().filter(pk=report_id, evidence_purged_at__isnull=True).first()
            if report is None:
                continue
            now = timezone.now()
            files = []
            for evidence in Evidence.objects.filter(report=report, purged_at__isnull=True):
                if evidence.file:
                    files.append(evidence.file.name)
                Evidence.objects.filter(pk=evidence.pk).update(file="", purged_at=now)
                result.evidence_files += 1
            report.evidence_purged_at = now
            report.save(update_fields=["evidence_purged_at", "updated_at"])
            snapshot = _purge_snapshot_if_done(report.target_id, now, files)
            result.snapshots += snapshot
            audit.record(
                actor=audit.SYSTEM,
                event_type="evidence.purged",
                object_type="report",
                object_id=report.pk,
                data={"evidence_files": len(files), "snapshot": bool(snapshot), "older_than_days": older_than_days},
            )
            transaction.on_commit(lambda names=files: _delete_files(names))
            result.reports += 1
    return result


def _purge_snapshot_if_done(target_id: int, now, files: list[str]) -> int:
    """The target's snapshot goes when none of its reports is open, held or still within retention."""
    target = Target.objects.select_for_update().get(pk=target_id)
    if target.snapshot_purged_at:
        return 0
    still_needed = (
        Report.objects.filter(target=target)
        .filter(Q(status__in=OPEN_STATUSES) | Q(evidence_purged_at__isnull=True) | Q(legal_hold=True))
        .exclude(evidence_purged_at=now)
    )
    if still_needed.exists() or (target.owner_id and _held_accounts().filter(user_id=target.owner_id).exists()):
        return 0
    if target.snapshot_file:
        files.append(target.snapshot_file.name)
    Target.objects.filter(pk=target.pk).update(snapshot_file="", snapshot_text="", snapshot_purged_at=now)
    return 1


def _delete_files(names: list[str]) -> None:
    for name in names:
        default_storage.delete(name)
