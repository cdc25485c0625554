"""Reads for the reporter's pages. Visibility lives here: a report you may not see is a 404."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from config.prepared import PreparedQuery, uuid_value
from reports.models import OPEN_STATUSES, HeldEvidence, Report, Target, TargetKind, TargetState


def reports_visible_to(user: AbstractBaseUser) -> QuerySet[Report]:
    """Moderation staff see every report; anyone else only the reports they filed."""
    if not user.is_authenticated:
        return Report.objects.none()
    if user.has_perm("reports.view_queue"):
        return Report.objects.all()
    return Report.objects.filter(reporter=user)


def my_reports(*, user: AbstractBaseUser) -> QuerySet[Report]:
    return Report.objects.filter(reporter=user).select_related("target").order_by("-created_at")


def my_report(*, user: AbstractBaseUser, report_id: uuid.UUID) -> Report:
    """One of the user's own reports, or 404 whether it does not exist or belongs to someone else."""
    report = (
        Report.objects.filter(reporter=user, pk=report_id).select_related("target").prefetch_related("evidence").first()
    )
    if report is None:
        raise Http404("No such report")
    return report


def reportable_target(*, public_id: str | None) -> Target:
    """The target a filing form is about, or 404 for a missing, malformed or removed target."""
    try:
        target_uuid = uuid.UUID(str(public_id))
    except (TypeError, ValueError):
        raise Http404("Unknown target") from None
    target = Target.objects.select_related("owner").filter(public_id=target_uuid).first()
    if target is None or target.state != TargetState.VISIBLE:
        raise Http404("Unknown target")
    return target


def _filing_target(public_id: uuid.UUID, kind: str) -> QuerySet[Target]:
    # Filing needs a few of the target's columns, not its snapshot text or metadata (the
    # query-count test catches a deferred column read later).
    return Target.objects.filter(public_id=public_id, kind=kind, state=TargetState.VISIBLE).only(
        "id", "public_id", "kind", "owner_id", "state"
    )


# Read on every API filing, so compiled once per thread (config/prepared.py): building and compiling
# it through the ORM cost more than running it (README, "Filing"). The markers are values no call passes.
_FILING_TARGET = PreparedQuery(
    _filing_target,
    markers={"public_id": uuid.UUID(int=0xF111), "kind": "\x00target-kind\x00"},
    adapt={"public_id": uuid_value},
)


def filing_target(*, public_id: uuid.UUID, kind: str) -> Target | None:
    """The visible target of this kind a report is filed on through the API, with the few columns
    filing reads; None when there is none."""
    found = _FILING_TARGET.run(public_id=public_id, kind=kind)
    return found[0] if found else None


def demo_platform_targets(*, user: AbstractBaseUser) -> dict[str, list[Target]]:
    """What the demo platform page shows, grouped by kind, newest first (visible content only)."""
    targets = (
        # Complaint targets have no owner: they are descriptions, not platform content.
        Target.objects.filter(state=TargetState.VISIBLE, owner__isnull=False)
        .select_related("owner")
        .order_by("-created_at")
    )
    grouped: dict[str, list[Target]] = {kind: [] for kind in TargetKind.values}
    per_kind = 8
    for kind in TargetKind.values:
        grouped[kind] = list(targets.filter(kind=kind)[:per_kind])
    return grouped


def open_report_ids_by(*, user: AbstractBaseUser, targets: list[Target]) -> set[int]:
    """Targets among these that the user already has an open report on (to label the link)."""
    return set(
        Report.objects.filter(reporter=user, status__in=OPEN_STATUSES, target__in=targets).values_list(
            "target_id", flat=True
        )
    )


def registered_target(*, kind: str, external_id: str) -> Target | None:
    """The content the platform registered under this kind and id (POST /api/targets), if any."""
    if not external_id.strip():
        return None
    return Target.objects.filter(kind=kind, external_id=external_id.strip()).first()


def held_evidence(*, user: AbstractBaseUser, ids: list[str]) -> list[HeldEvidence]:
    """The person's own held evidence among these ids, not yet expired (HELD_EVIDENCE_MINUTES)."""
    valid = []
    for value in ids:
        try:
            valid.append(uuid.UUID(str(value)))
        except ValueError:
            continue
    if not valid or not user.is_authenticated:
        return []
    since = timezone.now() - timedelta(minutes=settings.HELD_EVIDENCE_MINUTES)
    return list(HeldEvidence.objects.filter(owner=user, pk__in=valid, created_at__gte=since))


def complaint_received(*, report_id: str | None) -> Report | None:
    """The complaint a session just sent (its id kept in the session), for the thank-you page."""
    try:
        report_uuid = uuid.UUID(str(report_id))
    except ValueError:
        return None
    return Report.objects.filter(pk=report_uuid, reporter__isnull=True).first()
