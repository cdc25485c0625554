"""Every write of machine signals: a batch of signals, policy changes, the hash bank's hooks, and
what a person's decision does to an automated quarantine.

Transactions: a batch is one transaction. What this service refuses (an unknown source, a category
without a policy, an unknown target, a key seen before) is decided before anything is written; the
plain items are then written together, a few statements for the whole batch, and each item that
needs more (a target registered on the fly, a frame stored and matched, a quarantine) in a savepoint
of its own, which rolls back alone when the item fails. The batch commits once, so a hundred signals
cost one commit, not a hundred. A crash before the commit stores nothing, and the platform sends the
batch again: every item carries its idempotency key, so what was stored is answered "duplicate",
never stored twice.

Locks, in the one order of every path (moderation/services.py): the target, then its reports, then
their automated cases, then its story review. A batch locks its plain items' targets together in id
order, then their open automated reports; an item of its own, a hash bank match and a quarantine
lock the target before its report; a dismissal that releases a quarantine (quarantine_release) has
its target locked before its report by report_review. Taken in two orders, a release and a batch on
one target would each hold what the other waits for, and PostgreSQL would end one of them.

Automation never sanctions: at the action threshold or on a hash bank match it quarantines the
content (the target's state, with its audit event and the platform's webhook) and escalates the
report to compliance, whose decision confirms it (moderation.enforcement's decision_apply, which
then says "automated means were used") or whose dismissal releases it (quarantine_release).
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit import services as audit
from config.i18n import in_english
from moderation.enforcement import webhooks
from moderation.enforcement.actions import ActionKind
from moderation.enforcement.models import Sanction
from moderation.hashbank.hashing import MediaHashes, hash_media
from moderation.hashbank.models import BANK_CATEGORIES, BankEntry, MediaKind
from moderation.hashbank.selectors import BankMatch, match_media
from moderation.signals import policy as rules
from moderation.signals.models import (
    AutomatedCase,
    BankHit,
    Detector,
    MediaOrigin,
    Signal,
    SignalPolicy,
)
from moderation.stories import services as stories
from moderation.stories.models import StoryReview, StoryStatus
from reports import services as report_services
from reports.categories import SEVERITY_RANK, deadline_for, rule_for, severity_for
from reports.models import (
    OPEN_STATUSES,
    Evidence,
    Report,
    ReportChannel,
    ReportStatus,
    Target,
    TargetKind,
    TargetState,
)
from reports.services import report_audit_state
from reports.uploads import CleanFile

#: The most signals one request may carry.
BATCH_MAX = 500
#: Who the audit log names for what automation does on its own (quarantine, bank matches).
AUTOMATION = audit.SystemActor("automated detection")
HASH_BANK = audit.SystemActor("hash bank")
#: Who may edit detectors and policies: admins (moderation/roles.py gives them these permissions).
POLICY_PERMISSION = "signals.change_signalpolicy"

ESCALATED_ACTION = "Automated detection above the action threshold: content quarantined; confirm or release"
ESCALATED_BANK = "Hash bank match: content quarantined; confirm or release"


class ItemStatus:
    CREATED = "created"
    MERGED = "merged"
    KEPT = "kept"
    DUPLICATE = "duplicate"
    REFUSED = "refused"


@dataclass
class NewTarget:
    """A target the platform registers with its signal (when it has not sent it to /api/targets)."""

    kind: str
    external_id: str
    title: str = ""
    text: str = ""
    owner: AbstractBaseUser | None = None
    file: CleanFile | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass
class SignalItem:
    """One item of a batch, checked for shape by the API (serializers.py), its frame cleaned and
    hashed before the transaction (the costly part, outside every lock)."""

    idempotency_key: str
    source_name: str
    source_version: str
    category: str
    score: Decimal
    target_id: uuid.UUID | None = None
    new_target: NewTarget | None = None
    labels: list[str] = field(default_factory=list)
    frame: CleanFile | None = None
    frame_hashes: MediaHashes | None = None


@dataclass
class ItemResult:
    status: str
    idempotency_key: str = ""
    signal_id: uuid.UUID | None = None
    report_id: uuid.UUID | None = None
    target_id: uuid.UUID | None = None
    quarantined: bool = False
    bank_entries: list[int] = field(default_factory=list)
    errors: dict[str, list[str]] = field(default_factory=dict)


def refused(key: str, errors: dict[str, list[str]]) -> ItemResult:
    return ItemResult(status=ItemStatus.REFUSED, idempotency_key=key, errors=errors)


def frame_hashes(content: bytes) -> MediaHashes | None:
    """A frame's hashes for the bank, of the bytes as the platform sent them (hash lists hash the
    original file; the stored copy is re-encoded). None when it is not an image: a PDF is matched by
    its SHA-256 only."""
    try:
        return hash_media(content)
    except ValidationError:
        return None


# --- a batch --------------------------------------------------------------------------------------------


@dataclass
class _Plan:
    """An item the batch will store, with what was decided about it before any write."""

    index: int
    item: SignalItem
    detector: Detector
    policy: SignalPolicy
    verdict: str
    target: Target | None  # None: registered on the fly (item.new_target)


def signals_ingest(*, actor: audit.SystemActor, items: Sequence[SignalItem | ItemResult]) -> list[ItemResult]:
    """Take a batch of signals from the platform. `items` holds the checked items and, in their
    places, the API's refusals of items that were malformed; the answer has one result per item, in
    order: created (opened a report), merged (joined the open one), kept (below the policy's bar),
    duplicate (its idempotency key was seen before: the first one's signal and report) or refused.

    Every refusal this service makes (unknown source, no policy, unknown target, a key seen before)
    is decided from a handful of reads before anything is written. Then, in one transaction: the
    plain items (a registered target, no file, no quarantine) are written together, a few statements
    for the whole batch (_ingest_plain); the others (a target to register, a frame to store and
    match, a quarantine) one by one, each in its own savepoint (_ingest_one), so that one refused by
    what it meets (a file the bank matches, a race on its key) rolls back alone."""
    if len(items) > BATCH_MAX:
        raise ValidationError({"signals": [f"Send at most {BATCH_MAX} signals in one request."]})
    checked = [item for item in items if isinstance(item, SignalItem)]
    detectors = {d.name: d for d in Detector.objects.filter(name__in={i.source_name for i in checked}, active=True)}
    policies = list(SignalPolicy.objects.filter(detector__in=list(detectors.values())))
    seen = _seen_keys(checked, detectors)
    targets = {
        t.public_id: t
        for t in Target.objects.filter(public_id__in={i.target_id for i in checked if i.target_id}).only(
            "id", "public_id", "kind"
        )
    }
    results: list[ItemResult | None] = [None] * len(items)
    plans: list[_Plan] = []
    first_in_batch: dict[tuple[int, str], int] = {}
    repeats: list[tuple[int, int]] = []
    for index, item in enumerate(items):
        if isinstance(item, ItemResult):
            results[index] = item
            continue
        detector = detectors.get(item.source_name)
        if detector is None:
            results[index] = refused(
                item.idempotency_key,
                {"source": [f"Unknown source {item.source_name!r}: no active detector has this name."]},
            )
            continue
        key = (detector.pk, item.idempotency_key)
        if key in seen:
            results[index] = _duplicate(item, seen[key])
            continue
        if key in first_in_batch:
            repeats.append((index, first_in_batch[key]))
            continue
        first_in_batch[key] = index
        policy = rules.applicable(policies, detector_id=detector.pk, category=item.category)
        if policy is None:
            results[index] = refused(
                item.idempotency_key,
                {
                    "category": [
                        f"Detector {detector.name!r} has no policy for {item.category!r}; an admin sets one first."
                    ]
                },
            )
            continue
        target = None
        if item.target_id is not None:
            target = targets.get(item.target_id)
            if target is None:
                results[index] = refused(
                    item.idempotency_key, {"target": [f"No target with id {item.target_id} is registered."]}
                )
                continue
        plan = _Plan(
            index, item, detector, policy, rules.verdict(policy, score=item.score, category=item.category), target
        )
        plans.append(plan)

    kept_files: list[str] = []
    try:
        with transaction.atomic():
            # In the request's order: a run of plain items is written together, before the item
            # that ends it, so that each item meets the reports the ones before it opened.
            run: list[_Plan] = []
            for plan in [*plans, None]:
                if (
                    plan is not None
                    and plan.target is not None
                    and plan.item.frame is None
                    and plan.verdict != rules.ACT
                ):
                    run.append(plan)
                    continue
                if run:
                    for planned, result in zip(run, _ingest_plain(actor=actor, plans=run), strict=True):
                        results[planned.index] = result
                    run = []
                if plan is not None:
                    results[plan.index], stored = _ingest_single(actor=actor, plan=plan)
                    kept_files += stored
    except BaseException:
        _discard_files(kept_files)
        raise
    for index, first in repeats:
        earlier = results[first]
        item = items[index]
        results[index] = (
            _duplicate(item, earlier)
            if earlier.signal_id
            else refused(
                item.idempotency_key, {"idempotency_key": ["Sent twice in this batch; the first was refused."]}
            )
        )
    return results


def _ingest_single(*, actor: audit.SystemActor, plan: _Plan) -> tuple[ItemResult, list[str]]:
    """One item in its own savepoint: refused alone, its files deleted again, when it fails."""
    stored: list[str] = []
    try:
        with transaction.atomic():
            return _ingest_one(actor=actor, plan=plan, stored=stored), stored
    except ValidationError as error:
        _discard_files(stored)
        return refused(plan.item.idempotency_key, _messages(error)), []
    except IntegrityError:
        _discard_files(stored)
        # Another request stored the same key between our read and this insert.
        first = Signal.objects.filter(detector=plan.detector, idempotency_key=plan.item.idempotency_key).first()
        if first is None:
            return refused(plan.item.idempotency_key, {"idempotency_key": ["Send it again."]}), []
        return _duplicate(plan.item, first), []


def _ingest_plain(*, actor: audit.SystemActor, plans: list[_Plan]) -> list[ItemResult]:
    """The plain items of a batch (registered targets, no files, no quarantine) in a few statements
    for all of them: their targets locked together (in id order, so two batches never deadlock),
    their open automated reports read together, then the new reports, their cases, the changed
    reports and cases, the signals and the audit events each written in one statement."""
    target_ids = sorted({plan.target.pk for plan in plans})
    list(Target.objects.select_for_update().filter(pk__in=target_ids).order_by("pk").values_list("pk"))
    open_reports: dict[int, Report] = {}
    for report in (
        Report.objects.select_for_update()
        .filter(target_id__in=target_ids, channel=ReportChannel.AUTOMATED, status__in=OPEN_STATUSES)
        .order_by("created_at")
    ):
        open_reports.setdefault(report.target_id, report)
    cases = {
        case.report_id: case
        for case in AutomatedCase.objects.select_for_update().filter(report__in=list(open_reports.values()))
    }
    now = timezone.now()
    new_reports: list[Report] = []
    new_cases: list[AutomatedCase] = []
    created_ids: set[uuid.UUID] = set()  # reports (and their cases) this batch creates
    changed_reports: dict[uuid.UUID, Report] = {}
    changed_cases: dict[uuid.UUID, AutomatedCase] = {}
    signals: list[Signal] = []
    events: list[audit.Entry] = []
    results = []
    for plan in plans:
        item, target = plan.item, plan.target
        source = f"{plan.detector.name} {item.source_version}"
        report = open_reports.get(target.pk)
        status = ItemStatus.KEPT
        if plan.verdict == rules.QUEUE or (plan.verdict == rules.ATTACH and report is not None):
            due_at = rules.queue_due_at(
                category=item.category, received_at=now, score=item.score, review_threshold=plan.policy.review_threshold
            )
            data = {"signal_key": item.idempotency_key, "source": source, "score": str(item.score)}
            if report is None:
                report = _new_report(
                    target=target,
                    category=item.category,
                    due_at=due_at,
                    reason=f"Automated detection: {source} scored {item.score} for {item.category}.",
                    escalation=_escalation(item.category, ""),
                )
                report.created_at = report.updated_at = now
                open_reports[target.pk] = report
                new_reports.append(report)
                created_ids.add(report.pk)
                case = AutomatedCase(report=report, top_source=source, top_score=item.score, signal_count=1)
                cases[report.pk] = case
                new_cases.append(case)
                events.append(
                    audit.Entry(
                        event_type="report.created",
                        object_type="report",
                        object_id=report.pk,
                        after=report_audit_state(report),
                        data={"channel": ReportChannel.AUTOMATED, "target": str(target.public_id), **data},
                    )
                )
                status = ItemStatus.CREATED
            else:
                before = report_audit_state(report)
                changed = _fold(
                    report, category=item.category, due_at=due_at, escalation=_escalation(item.category, "")
                )
                if changed and report.pk not in created_ids:
                    changed_reports[report.pk] = report
                case = cases.get(report.pk)
                if case is None:
                    case = AutomatedCase(report=report, top_source=source, top_score=item.score, signal_count=0)
                    cases[report.pk] = case
                    new_cases.append(case)
                _count(case, source=source, score=item.score)
                if report.pk not in created_ids:
                    changed_cases[report.pk] = case
                if changed:
                    # The report itself changed (a graver category, an earlier deadline, an
                    # escalation). A signal that only joins it is recorded by its own
                    # signal.received event, which names the report.
                    events.append(
                        audit.Entry(
                            event_type="report.signal_merged",
                            object_type="report",
                            object_id=report.pk,
                            before=before,
                            after=report_audit_state(report),
                            data=data,
                        )
                    )
                status = ItemStatus.MERGED
        else:
            report = None
        signal = Signal(
            id=uuid.uuid4(),
            detector=plan.detector,
            detector_version=item.source_version,
            idempotency_key=item.idempotency_key,
            target=target,
            category=item.category,
            score=item.score,
            labels=item.labels,
            outcome=status,
            report=report,
        )
        signals.append(signal)
        events.append(_received(signal, plan=plan, report=report))
        results.append(
            ItemResult(
                status=status,
                idempotency_key=item.idempotency_key,
                signal_id=signal.id,
                report_id=report.pk if report else None,
                target_id=target.public_id,
            )
        )
    Report.objects.bulk_create(new_reports)
    AutomatedCase.objects.bulk_create(new_cases)
    for report in changed_reports.values():
        report.updated_at = now
    _update_rows(
        Report, ["category", "severity", "due_at", "escalated", "escalation_reason", "updated_at"], changed_reports
    )
    for case in changed_cases.values():
        case.updated_at = now
    _update_rows(AutomatedCase, ["top_source", "top_score", "signal_count", "updated_at"], changed_cases)
    Signal.objects.bulk_create(signals)
    audit.record_many(actor=actor, entries=events)
    return results


def _update_rows(model, fields: list[str], rows: dict[Any, Any]) -> None:
    """UPDATE each row's `fields` in one statement run for all of them (executemany: pipelined on
    PostgreSQL). Django's bulk_update builds a CASE per field and row, which cost more than the rest
    of a batch together (a third of a hundred signals' time). Values are prepared by each field, as
    save() would."""
    if not rows:
        return
    quote = connection.ops.quote_name
    columns = [model._meta.get_field(name) for name in fields]
    assignments = ", ".join(f"{quote(column.column)} = %s" for column in columns)
    pk = model._meta.pk
    # bandit B608: only the model's own table and column names are formatted in; values are parameters
    sql = f"UPDATE {quote(model._meta.db_table)} SET {assignments} WHERE {quote(pk.column)} = %s"  # noqa: S608  # nosec B608
    params = [
        [column.get_db_prep_save(getattr(row, column.attname), connection) for column in columns]
        + [pk.get_db_prep_save(row.pk, connection)]
        for row in rows.values()
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def _received(signal: Signal, *, plan: _Plan, report: Report | None) -> audit.Entry:
    """The signal's own audit event: what it said, under which policy, and what became of it."""
    policy = plan.policy
    return audit.Entry(
        event_type="signal.received",
        object_type="signal",
        object_id=signal.id,
        after={
            "source": f"{plan.detector.name} {signal.detector_version}",
            "category": signal.category,
            "score": str(signal.score),
            "labels": signal.labels,
            "outcome": signal.outcome,
            "policy": {
                "floor": _str(policy.floor),
                "review": _str(policy.review_threshold),
                "action": _str(policy.action_threshold),
            },
        },
        data={
            "idempotency_key": signal.idempotency_key,
            "target": str(plan.item.target_id or signal.target.public_id),
            "report": str(report.pk) if report else None,
            "frame_sha256": signal.frame_sha256 or None,
        },
    )


def _discard_files(names: list[str]) -> None:
    for name in names:
        default_storage.delete(name)


def _seen_keys(items: Iterable[SignalItem], detectors: dict[str, Detector]) -> dict[tuple[int, str], Signal]:
    """The batch's keys stored before: one read by (detector ids, keys), the pairs matched here (an
    OR of a hundred (detector, key) pairs costs more to build than to run)."""
    wanted = {(detectors[item.source_name].pk, item.idempotency_key) for item in items if item.source_name in detectors}
    if not wanted:
        return {}
    found = (
        Signal.objects.filter(
            detector_id__in={pair[0] for pair in wanted}, idempotency_key__in={pair[1] for pair in wanted}
        )
        .select_related("target")
        .only("id", "detector_id", "idempotency_key", "report_id", "target__public_id")
    )
    return {
        (signal.detector_id, signal.idempotency_key): signal
        for signal in found
        if (signal.detector_id, signal.idempotency_key) in wanted
    }


def _duplicate(item: SignalItem, first: Signal | ItemResult) -> ItemResult:
    if isinstance(first, ItemResult):
        return ItemResult(
            status=ItemStatus.DUPLICATE,
            idempotency_key=item.idempotency_key,
            signal_id=first.signal_id,
            report_id=first.report_id,
            target_id=first.target_id,
        )
    return ItemResult(
        status=ItemStatus.DUPLICATE,
        idempotency_key=item.idempotency_key,
        signal_id=first.id,
        report_id=first.report_id,
        target_id=first.target.public_id,
    )


def _messages(error: ValidationError) -> dict[str, list[str]]:
    if hasattr(error, "error_dict"):
        return {("non_field_errors" if k == "__all__" else k): v for k, v in error.message_dict.items()}
    return {"non_field_errors": error.messages}


def _ingest_one(*, actor: audit.SystemActor, plan: _Plan, stored: list[str]) -> ItemResult:
    """One item that needs more than rows: a target to register, a frame to store and match against
    the hash bank, or a quarantine. Inside its own savepoint (signals_ingest)."""
    item, detector, policy, verdict = plan.item, plan.detector, plan.policy, plan.verdict
    target = plan.target or _register(actor=actor, spec=item.new_target)
    # The target first, then its reports: the order every whole-target action takes (lock_target_of).
    target = Target.objects.select_for_update().get(pk=target.pk)
    matches = _frame_matches(item)
    open_report = (
        Report.objects.select_for_update()
        .filter(target=target, channel=ReportChannel.AUTOMATED, status__in=OPEN_STATUSES)
        .order_by("created_at")
        .first()
    )
    now = timezone.now()
    source = f"{detector.name} {item.source_version}"
    report, status = None, ItemStatus.KEPT
    if matches or verdict in (rules.QUEUE, rules.ACT) or (verdict == rules.ATTACH and open_report):
        # A frame matching the hash bank makes the report the bank entry's category, due on its clock.
        entry = matches[0].entry if matches else None
        category = entry.category if entry else item.category
        due_at = rules.queue_due_at(
            category=category, received_at=now, score=item.score, review_threshold=policy.review_threshold
        )
        if entry is not None:
            due_at = min(due_at, deadline_for(category=category, received_at=now))
        reason = f"Automated detection: {source} scored {item.score} for {item.category}."
        if entry is not None:
            reason += f" Its frame matches hash bank entry {entry.pk}."
        report, created = _automated_report(
            actor=actor,
            target=target,
            open_report=open_report,
            category=category,
            due_at=due_at,
            reason=reason,
            source=source,
            score=item.score,
            escalation=ESCALATED_BANK if entry else ESCALATED_ACTION if verdict == rules.ACT else "",
            data={"signal_key": item.idempotency_key, "source": source, "score": str(item.score)},
            bank_entry=entry,
        )
        status = ItemStatus.CREATED if created else ItemStatus.MERGED
    evidence = (
        _store_frame(report=report, frame=item.frame, stored=stored) if report is not None and item.frame else None
    )
    signal = Signal.objects.create(
        detector=detector,
        detector_version=item.source_version,
        idempotency_key=item.idempotency_key,
        target=target,
        category=item.category,
        score=item.score,
        labels=item.labels,
        outcome=status,
        report=report,
        evidence=evidence,
        frame_sha256=(item.frame_hashes.sha256 if item.frame_hashes else item.frame.sha256) if item.frame else "",
        quarantined=report is not None and (verdict == rules.ACT or bool(matches)),
    )
    entry = _received(signal, plan=plan, report=report)
    audit.record(
        actor=actor,
        event_type=entry.event_type,
        object_type=entry.object_type,
        object_id=entry.object_id,
        after=entry.after,
        data=entry.data,
    )
    quarantined = False
    if report is not None and verdict == rules.ACT:
        quarantined = _quarantine(target=target, report=report, why=f"{source} scored {item.score}")
        _reject_pending_story(target=target, report=report, category=item.category, source=source, score=item.score)
    if matches and report is not None:
        _record_hits(
            target=target, report=report, matches=matches, origin=MediaOrigin.FRAME, media_sha256=signal.frame_sha256
        )
        quarantined = (
            _quarantine(target=target, report=report, why="hash bank match on a signal's frame") or quarantined
        )
    return ItemResult(
        status=status,
        idempotency_key=item.idempotency_key,
        signal_id=signal.id,
        report_id=report.pk if report else None,
        target_id=target.public_id,
        quarantined=quarantined,
        bank_entries=[match.entry.pk for match in matches],
    )


def _str(value: Decimal | None) -> str | None:
    """A threshold or score as the audit log keeps it: four decimal places, whatever was typed."""
    return None if value is None else f"{Decimal(value):.4f}"


def _register(*, actor: audit.SystemActor, spec: NewTarget) -> Target:
    """The item's target by the platform's (kind, external_id): the registered one as it is (POST
    /api/targets updates a target), or registered now with its snapshot (matched against the bank)."""
    existing = Target.objects.filter(kind=spec.kind, external_id=spec.external_id).only("id", "public_id").first()
    if existing is not None:
        return existing
    target, _ = report_services.target_register(
        actor=actor,
        kind=spec.kind,
        external_id=spec.external_id,
        owner=spec.owner,
        title=spec.title or f"{spec.kind.replace('_', ' ').capitalize()} {spec.external_id}",
        text=spec.text,
        file_content=spec.file.content if spec.file else None,
        file_content_type=spec.file.content_type if spec.file else "",
        metadata=spec.metadata,
    )
    return target


def _frame_matches(item: SignalItem) -> list[BankMatch]:
    if item.frame is None:
        return []
    hashes = item.frame_hashes
    return match_media(
        sha256=hashes.sha256 if hashes else item.frame.sha256,
        pdq=hashes.pdq if hashes else None,
        pdq_quality=hashes.pdq_quality if hashes else None,
    )


def _store_frame(*, report: Report, frame: CleanFile, stored: list[str]) -> Evidence:
    """The frame as the report's evidence (checked like any upload: reports/uploads.py). Its storage
    name goes into `stored`, so that a rolled-back item or batch deletes the file again."""
    evidence = Evidence(
        report=report,
        original_name=frame.original_name or "frame",
        content_type=frame.content_type,
        size=frame.size,
        sha256=frame.sha256,
    )
    evidence.file.save(frame.original_name or "frame", ContentFile(frame.content), save=False)
    stored.append(evidence.file.name)
    evidence.save()
    return evidence


# --- the automated report -----------------------------------------------------------------------------


def _escalation(category: str, reason: str) -> str:
    """Why the report goes to compliance: the given reason, or its zero-tolerance category's."""
    if reason == "" and rule_for(category).zero_tolerance:
        return "Zero-tolerance category: compliance review"
    return reason


def _new_report(*, target: Target, category: str, due_at: datetime, reason: str, escalation: str) -> Report:
    return Report(
        id=uuid.uuid4(),
        report_type=target.kind,
        target=target,
        reporter=None,
        channel=ReportChannel.AUTOMATED,
        category=category,
        severity=severity_for(category),
        reason=reason,
        status=ReportStatus.PENDING,
        due_at=due_at,
        escalated=bool(escalation),
        escalation_reason=escalation,
    )


def _fold(report: Report, *, category: str, due_at: datetime, escalation: str) -> list[str]:
    """A detection joins an open report: a graver category takes it over, an earlier deadline moves
    it forward, an escalation sticks. Returns the fields it changed."""
    changed = []
    if SEVERITY_RANK[severity_for(category)] < SEVERITY_RANK[report.severity]:
        report.category, report.severity = category, severity_for(category)
        changed += ["category", "severity"]
    if due_at < report.due_at:
        report.due_at = due_at
        changed.append("due_at")
    if escalation and not report.escalated:
        report.escalated, report.escalation_reason = True, escalation
        changed += ["escalated", "escalation_reason"]
    return changed


def _count(case: AutomatedCase, *, source: str, score: Decimal, bank_entry: BankEntry | None = None) -> None:
    case.signal_count += 1
    if score > case.top_score or (bank_entry is not None and case.bank_entry_id is None):
        case.top_source, case.top_score = source, max(score, case.top_score)
    if bank_entry is not None and case.bank_entry_id is None:
        case.bank_entry = bank_entry


def _automated_report(
    *,
    actor: audit.Actor,
    target: Target,
    open_report: Report | None,
    category: str,
    due_at: datetime,
    reason: str,
    source: str,
    score: Decimal,
    escalation: str,
    data: dict[str, Any],
    bank_entry: BankEntry | None = None,
) -> tuple[Report, bool]:
    """Open the target's automated report, or fold this detection into the open one (the caller
    holds the target's lock, so two signals on one target never open two)."""
    escalation = _escalation(category, escalation)
    if open_report is None:
        report = _new_report(target=target, category=category, due_at=due_at, reason=reason, escalation=escalation)
        report.save(force_insert=True)
        AutomatedCase.objects.create(
            report=report, top_source=source, top_score=score, signal_count=1, bank_entry=bank_entry
        )
        audit.record(
            actor=actor,
            event_type="report.created",
            object_type="report",
            object_id=report.id,
            after=report_audit_state(report),
            data={"channel": ReportChannel.AUTOMATED, "target": str(target.public_id), **data},
        )
        return report, True
    report = open_report
    before = report_audit_state(report)
    changed = _fold(report, category=category, due_at=due_at, escalation=escalation)
    if changed:
        report.save(update_fields=[*changed, "updated_at"])
    case, _ = AutomatedCase.objects.select_for_update().get_or_create(
        report=report, defaults={"top_source": source, "top_score": score, "signal_count": 0}
    )
    _count(case, source=source, score=score, bank_entry=bank_entry)
    case.save()
    if changed or bank_entry is not None:
        # As in _ingest_plain: the report's own record when it changed, or a bank match joined it.
        audit.record(
            actor=actor,
            event_type="report.signal_merged",
            object_type="report",
            object_id=report.id,
            before=before if changed else None,
            after=report_audit_state(report) if changed else None,
            data=data,
        )
    return report, False


def _reject_pending_story(*, target: Target, report: Report, category: str, source: str, score) -> None:
    """A video story still waiting for review that a detector scores above its action threshold is
    rejected before publication, its automated report escalated to compliance
    (moderation/stories/services.py `reject_story_automatically`). A story a person already decided
    keeps that verdict."""
    if target.kind != TargetKind.VIDEO_STORY:
        return
    story = StoryReview.objects.filter(target=target, status=StoryStatus.PENDING).first()
    if story is None:
        return
    # Decided meanwhile (a person, or an earlier signal): that verdict stands.
    with contextlib.suppress(stories.StoryAlreadyDecided):
        stories.reject_story_automatically(
            story=story,
            reason=category,
            source=f"{source} (score {score})",
            report=report,
            data={"score": str(score)},
        )


def _quarantine(*, target: Target, report: Report, why: str) -> bool:
    """Quarantine the content at once, pending a person's decision: its state, the audit event and
    the platform's webhook (it hides the content until told otherwise). Returns whether it did."""
    if target.state == TargetState.REMOVED:
        return False  # a person removed it already: nothing for automation to hold
    case = AutomatedCase.objects.select_for_update().filter(report=report).first()
    if case is not None and case.quarantined_at is None:
        # This case holds the quarantine (with any other case that already did): its report's
        # dismissal releases the content only when no other open case holds it (quarantine_release).
        case.quarantined_at = timezone.now()
        case.save(update_fields=["quarantined_at", "updated_at"])
    if target.state != TargetState.VISIBLE:
        return False
    target.state = TargetState.QUARANTINED
    target.save(update_fields=["state", "updated_at"])
    audit.record(
        actor=AUTOMATION,
        event_type="target.state_changed",
        object_type="target",
        object_id=target.public_id,
        before={"state": TargetState.VISIBLE},
        after={"state": TargetState.QUARANTINED},
        data={"automated": True, "provisional": True, "report": str(report.pk), "why": why},
    )
    webhooks.enqueue(
        event_type="target.quarantined",
        payload={
            "event": "quarantined",
            "provisional": True,
            "target": {"id": target.public_id, "kind": target.kind, "external_id": target.external_id},
            "report_id": report.pk,
            "review_due_at": report.due_at,
        },
    )
    return True


def quarantine_release(*, actor: AbstractBaseUser, report: Report) -> bool:
    """A person dismissed an automated report whose content automation quarantined: the content
    comes back, unless a person's own removal or quarantine of it is in force (then it stays) or
    another open report still holds it. Called by moderation.services.report_review inside its
    transaction, which locked the target before the report (the lock order of the module docstring;
    the lock below is then already held). Returns whether the content was released."""
    case = AutomatedCase.objects.filter(report=report, quarantined_at__isnull=False).first()
    if case is None:
        return False
    target = Target.objects.select_for_update().get(pk=report.target_id)
    if target.state != TargetState.QUARANTINED:
        return False
    held_elsewhere = AutomatedCase.objects.filter(
        report__target=target, report__status__in=OPEN_STATUSES, quarantined_at__isnull=False
    ).exclude(report=report)
    # A person's own removal or quarantine of it, in force, keeps it where it is.
    removed_by_a_person = target.sanctions.filter(
        status="active", kind__in=[ActionKind.REMOVE_CONTENT, ActionKind.QUARANTINE_FILE]
    )
    if held_elsewhere.exists() or removed_by_a_person.exists():
        return False
    target.state = TargetState.VISIBLE
    target.save(update_fields=["state", "updated_at"])
    audit.record(
        actor=actor,
        event_type="target.state_changed",
        object_type="target",
        object_id=target.public_id,
        before={"state": TargetState.QUARANTINED},
        after={"state": TargetState.VISIBLE},
        data={"released": True, "report": str(report.pk), "why": "automated quarantine not confirmed"},
    )
    webhooks.enqueue(
        event_type="target.released",
        payload={
            "event": "released",
            "target": {"id": target.public_id, "kind": target.kind, "external_id": target.external_id},
            "report_id": report.pk,
        },
    )
    return True


def automation_took_part(reports: Iterable[Report]) -> bool:
    """Whether automation quarantined the content these reports are about before a person decided:
    the decision then used automated means (its statement and DSA export say so)."""
    return AutomatedCase.objects.filter(report__in=list(reports), quarantined_at__isnull=False).exists()


# --- the hash bank's hooks ----------------------------------------------------------------------------


def _record_hits(*, target: Target, report: Report, matches: list[BankMatch], origin: str, media_sha256: str) -> None:
    BankHit.objects.bulk_create(
        [
            BankHit(
                entry=match.entry,
                report=report,
                target=target,
                origin=origin,
                match_type=match.match_type,
                distance=match.distance,
                media_sha256=media_sha256,
            )
            for match in matches
        ]
    )
    audit.record(
        actor=HASH_BANK,
        event_type="hashbank.matched",
        object_type="hashbank_entry",
        object_id=matches[0].entry.pk,
        data={
            "origin": origin,
            "target": str(target.public_id),
            "report": str(report.pk),
            "media_sha256": media_sha256,
            "matches": [{"entry_id": m.entry.pk, "match_type": m.match_type, "distance": m.distance} for m in matches],
        },
    )


def media_check(*, target: Target, content: bytes, sha256: str, origin: str) -> Report | None:
    """Match a new snapshot or evidence file against the hash bank; on a match quarantine the
    content, file (or join) the target's automated report naming the entry, and escalate it. Runs
    inside the caller's transaction. Returns the automated report, or None when nothing matched."""
    try:
        hashes = hash_media(content)
    except ValidationError:
        hashes = None  # not an image (a PDF): its SHA-256 is still compared
    matches = match_media(
        sha256=sha256, pdq=hashes.pdq if hashes else None, pdq_quality=hashes.pdq_quality if hashes else None
    )
    if not matches:
        return None
    entry = matches[0].entry
    target = Target.objects.select_for_update().get(pk=target.pk)
    open_report = (
        Report.objects.select_for_update()
        .filter(target=target, channel=ReportChannel.AUTOMATED, status__in=OPEN_STATUSES)
        .order_by("created_at")
        .first()
    )
    now = timezone.now()
    report, _ = _automated_report(
        actor=HASH_BANK,
        target=target,
        open_report=open_report,
        category=entry.category,
        due_at=deadline_for(category=entry.category, received_at=now),
        reason=f"Hash bank match: the {in_english(MediaOrigin(origin).label).lower()} matches bank entry {entry.pk} "
        f"({matches[0].match_type}, distance {matches[0].distance}).",
        source=f"hash bank entry {entry.pk}",
        score=Decimal(1),
        escalation=ESCALATED_BANK,
        data={"bank_entry": entry.pk, "origin": origin},
        bank_entry=entry,
    )
    _record_hits(target=target, report=report, matches=matches, origin=origin, media_sha256=sha256)
    _quarantine(target=target, report=report, why=f"hash bank entry {entry.pk}")
    return report


def bank_confirmed_media(
    *, actor: AbstractBaseUser, reports: Sequence[Report], target: Target, sanction: Sanction
) -> list[int]:
    """A person confirmed removal or quarantine of content in a bank category: its snapshot file and
    the frames signals sent of it enter the hash bank (hashes only), naming the report and sanction.
    Called by moderation.enforcement's decision_apply inside its transaction. Files that are not
    images are left out (the bank holds image and frame hashes). Returns the entry ids banked."""
    from moderation.hashbank.services import entry_add_from_media

    category = next((r.category for r in reports if r.category in BANK_CATEGORIES), None)
    if category is None:
        return []
    files: list[tuple[bytes, str]] = []
    if target.snapshot_file and target.snapshot_is_image and target.snapshot_purged_at is None:
        files.append((_read(target.snapshot_file), MediaKind.IMAGE))
    frames = Evidence.objects.filter(
        pk__in=Signal.objects.filter(report__in=list(reports), evidence__isnull=False).values("evidence_id"),
        purged_at__isnull=True,
    )
    files += [(_read(frame.file), MediaKind.VIDEO_FRAME) for frame in frames if frame.is_image]
    banked = []
    for content, media_kind in files:
        try:
            entry, _ = entry_add_from_media(
                actor=actor,
                content=content,
                category=category,
                media_kind=media_kind,
                report=reports[0],
                sanction=sanction,
            )
        except ValidationError:
            continue  # not an image after all (a damaged file): nothing to bank
        banked.append(entry.pk)
    return banked


def _read(file_field) -> bytes:
    with file_field.open("rb") as stored:
        return stored.read()


# --- detectors and policies (the admin) ---------------------------------------------------------------


def _require_policy_editor(actor: AbstractBaseUser) -> None:
    if not actor.is_authenticated or not actor.has_perm(POLICY_PERMISSION):
        raise PermissionDenied("Only admins change detectors and signal policies.")


def _detector_state(detector: Detector) -> dict[str, Any]:
    return {"name": detector.name, "description": detector.description, "active": detector.active}


def _policy_state(policy: SignalPolicy) -> dict[str, Any]:
    return {
        "detector": policy.detector.name,
        "category": policy.category or "*",
        "floor": _str(policy.floor),
        "review_threshold": _str(policy.review_threshold),
        "action_threshold": _str(policy.action_threshold),
    }


def policy_save(
    *,
    actor: AbstractBaseUser,
    policy_id: int | None,
    detector: Detector,
    category: str,
    floor: Decimal,
    review_threshold: Decimal,
    action_threshold: Decimal | None,
) -> SignalPolicy:
    """Create or change a policy, with its audit event (before and after)."""
    _require_policy_editor(actor)
    problems = rules.policy_problems(
        category=category, floor=floor, review_threshold=review_threshold, action_threshold=action_threshold
    )
    if problems:
        raise ValidationError(problems)
    with transaction.atomic():
        policy = SignalPolicy.objects.select_for_update().get(pk=policy_id) if policy_id else SignalPolicy()
        before = _policy_state(policy) if policy_id else None
        policy.detector, policy.category = detector, category
        policy.floor, policy.review_threshold, policy.action_threshold = floor, review_threshold, action_threshold
        try:
            with transaction.atomic():
                policy.save()
        except IntegrityError:
            raise ValidationError({"category": [_("This detector already has a policy for this category.")]}) from None
        audit.record(
            actor=actor,
            event_type="signal_policy.changed",
            object_type="signal_policy",
            object_id=policy.pk,
            before=before,
            after=_policy_state(policy),
        )
    return policy


def policy_delete(*, actor: AbstractBaseUser, policy_id: int) -> None:
    _require_policy_editor(actor)
    with transaction.atomic():
        policy = SignalPolicy.objects.select_for_update().select_related("detector").get(pk=policy_id)
        before = _policy_state(policy)
        policy.delete()
        audit.record(
            actor=actor,
            event_type="signal_policy.changed",
            object_type="signal_policy",
            object_id=policy_id,
            before=before,
            after=None,
            data={"deleted": True},
        )


def detector_save(
    *, actor: AbstractBaseUser, detector_id: int | None, name: str, description: str, active: bool
) -> Detector:
    """Register a detector or change it (a rename keeps its signals), with its audit event."""
    _require_policy_editor(actor)
    with transaction.atomic():
        detector = Detector.objects.select_for_update().get(pk=detector_id) if detector_id else Detector()
        before = _detector_state(detector) if detector_id else None
        detector.name, detector.description, detector.active = name, description, active
        try:
            with transaction.atomic():
                detector.save()
        except IntegrityError:
            raise ValidationError({"name": [_("A detector with this name exists.")]}) from None
        audit.record(
            actor=actor,
            event_type="detector.changed",
            object_type="detector",
            object_id=detector.pk,
            before=before,
            after=_detector_state(detector),
        )
    return detector
