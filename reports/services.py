"""Every write of the reports app. Each service validates, writes and records its audit event in
one transaction; its mail is written to the outbox in that transaction and sent by a worker."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.humanize.templatetags.humanize import intcomma
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from audit import services as audit
from config import throttle
from config.dates import long_date
from config.prepared import PreparedInsert, PreparedQuery, datetime_value
from reports import hooks, notify
from reports.categories import Category, deadline_for, rule_for, severity_for
from reports.models import (
    OPEN_STATUSES,
    ApiToken,
    Evidence,
    HeldEvidence,
    PlatformKey,
    Profile,
    Report,
    ReportChannel,
    ReportStatus,
    Target,
    TargetKind,
)
from reports.uploads import CleanFile, clean_uploads

ALREADY_REPORTED = gettext_lazy("You already reported this; we will review it.")
OWN_CONTENT = gettext_lazy("You cannot report your own content.")
# Clocks differ a little between the platform and us; an incident "in the future" by less is fine.
_CLOCK_SKEW = timedelta(minutes=5)


def attach_at_most() -> str:
    return ngettext(
        "Attach at most %(count)s file.", "Attach at most %(count)s files.", settings.EVIDENCE_MAX_FILES
    ) % {"count": settings.EVIDENCE_MAX_FILES}


def _try_again_in(seconds: int) -> str:
    minutes = max(1, seconds // 60)
    return ngettext("Please try again in %(minutes)s minute.", "Please try again in %(minutes)s minutes.", minutes) % {
        "minutes": minutes
    }


class RateLimitExceeded(ValidationError):
    """Too many reports (per person) or complaints (per address) in the last hour. `retry_after` is in
    seconds (for the API's Retry-After)."""

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message, code="rate_limited")
        self.retry_after = retry_after


def _zero_tolerance_escalation(category: str) -> dict[str, object]:
    """Zero-tolerance reports (child safety, underage, trafficking) go to compliance from the start."""
    if rule_for(category).zero_tolerance:
        return {"escalated": True, "escalation_reason": "Zero-tolerance category: compliance review"}
    return {}


def _check_not_paused(standing: hooks.ReporterStanding) -> None:
    """DSA Art. 23: after repeated manifestly unfounded reports, processing is paused for a time."""
    if standing.reports_paused_until and standing.reports_paused_until > timezone.now():
        raise ValidationError(
            _(
                "Because several of your recent reports were manifestly unfounded, we have paused processing "
                "your reports until %(date)s. You can contact us if you think this is a mistake."
            )
            % {"date": long_date(standing.reports_paused_until)},
            code="reports_paused",
        )


def _already_reported() -> ValidationError:
    # The code goes on the field's error: ValidationError(dict, code=...) would silently drop it.
    return ValidationError({"target": ValidationError(ALREADY_REPORTED, code="duplicate")})


def _reason_limit(channel: str) -> int:
    return settings.REPORT_REASON_MAX_API if channel == ReportChannel.API else settings.REPORT_REASON_MAX_WEB


def _count_attempt(*, reporter: AbstractBaseUser) -> None:
    """Every filing counts toward the hourly limit, refused or not: refused ones cost work too (a
    request of large images with one bad file among them was decoded, then refused, without limit).
    A counter in the shared cache (atomic increments on Redis); the reports stored in the last hour
    are checked as well, exactly, under a lock (_check_rate_limit)."""
    limit, window = settings.REPORTS_PER_HOUR_LIMIT, 3600
    attempts = throttle.hit(scope="filing", subject=str(reporter.pk), window=window)
    if attempts > limit:
        # Over by attempts: when the stored reports reach the limit too, say so with its exact wait
        # (the counter's window is a fixed hour; the stored reports' is the last sixty minutes).
        _check_rate_limit(reporter=reporter)
        wait = throttle.retry_after(scope="filing", subject=str(reporter.pk), limit=limit, window=window) or window
        raise RateLimitExceeded(
            _("You have tried to send %(limit)s reports in the last hour, the most we accept.") % {"limit": limit}
            + " "
            + _try_again_in(wait),
            retry_after=wait,
        )


def _limit_reached_by(reporter_id: int, since: datetime):
    """Only the limit-th newest report of the hour matters: if there is one, the limit is reached, and
    it says when a slot frees up. One row at most, however many the person filed."""
    limit = settings.REPORTS_PER_HOUR_LIMIT
    return (
        Report.objects.filter(reporter_id=reporter_id, created_at__gte=since)
        .order_by("-created_at")
        .values_list("created_at", flat=True)[limit - 1 : limit]
    )


# Both read on every filing, so compiled once per thread (config/prepared.py); the markers are values
# no real call passes (ids in the range of an integer column, a time long before this system).
_LIMIT_QUERY = PreparedQuery(
    _limit_reached_by,
    markers={"reporter_id": -2_147_000_001, "since": datetime(1901, 1, 1, 0, 0, 1, 234567, tzinfo=UTC)},
    adapt={"since": datetime_value},
    key=lambda: settings.REPORTS_PER_HOUR_LIMIT,
)
# The reporter's row, locked for the filing's transaction (report_file).
_REPORTER_LOCK = PreparedQuery(
    lambda reporter_id: get_user_model().objects.select_for_update().filter(pk=reporter_id).values_list("pk"),
    markers={"reporter_id": -2_147_000_002},
)


# A filing's report row, written through its compiled INSERT (config/prepared.py: 0.13 ms less CPU a row).
_REPORT_INSERT = PreparedInsert(Report)


def _check_rate_limit(*, reporter: AbstractBaseUser) -> None:
    limit = settings.REPORTS_PER_HOUR_LIMIT
    found = _LIMIT_QUERY.run(reporter_id=reporter.pk, since=timezone.now() - timedelta(hours=1))
    if found:
        retry_after = max(1, int((found[0] + timedelta(hours=1) - timezone.now()).total_seconds()))
        raise RateLimitExceeded(
            _("You have sent %(limit)s reports in the last hour, the most we accept.") % {"limit": limit}
            + " "
            + _try_again_in(retry_after),
            retry_after=retry_after,
        )


def _clean_report_fields(*, category: str, reason: str, channel: str, incident_at) -> dict[str, str]:
    errors: dict[str, str] = {}
    if category not in Category.values:
        errors["category"] = _("Choose one of the listed categories.")
    limit = _reason_limit(channel)
    if "\x00" in reason:
        # PostgreSQL cannot store NUL in text; say so instead of failing at the database.
        errors["reason"] = _("The text contains a character that cannot be stored (NUL). Please remove it.")
    elif not reason.strip():
        errors["reason"] = _("Tell us what happened.")
    elif len(reason) > limit:
        errors["reason"] = _("Keep the reason to %(limit)s characters or fewer (it has %(length)s).") % {
            "limit": number_format(limit, force_grouping=True),
            "length": number_format(len(reason), force_grouping=True),
        }
    if incident_at is not None and incident_at > timezone.now() + _CLOCK_SKEW:
        errors["incident_at"] = _("The time it happened cannot be in the future.")
    return errors


def _clean_evidence(files: Sequence[UploadedFile]) -> list[CleanFile]:
    if len(files) > settings.EVIDENCE_MAX_FILES:
        raise ValidationError({"evidence": attach_at_most()})
    try:
        return clean_uploads(files)
    except ValidationError as exc:
        raise ValidationError({"evidence": exc.messages}) from exc


def _store_evidence(*, report: Report, files: list[CleanFile], stored: list[str]) -> list[Evidence]:
    rows = []
    for clean in files:
        evidence = Evidence(
            report=report,
            original_name=clean.original_name,
            content_type=clean.content_type,
            size=clean.size,
            sha256=clean.sha256,
        )
        evidence.file.save(clean.original_name, ContentFile(clean.content), save=False)
        stored.append(evidence.file.name)
        evidence.save()
        rows.append(evidence)
    return rows


def _discard_files(names: list[str]) -> None:
    for name in names:
        default_storage.delete(name)


def report_file(
    *,
    actor: AbstractBaseUser,
    target: Target,
    category: str,
    reason: str,
    incident_at=None,
    is_pattern: bool = False,
    evidence: Sequence[UploadedFile] = (),
    held: Sequence[HeldEvidence] = (),
    channel: str = ReportChannel.WEB,
    language: str = "",
) -> Report:
    """File a report from a signed-in user on a known target. `held`: evidence the same person chose
    on an earlier try of the form, already checked (evidence_hold); it becomes the report's evidence.
    `language`: the one the report was sent in (the page's), for mail when the account has none."""
    if not actor.is_authenticated:
        raise PermissionError("only signed-in users file reports here; others use the complaint form")
    errors = _clean_report_fields(category=category, reason=reason, channel=channel, incident_at=incident_at)
    if target.owner_id == actor.pk:
        errors["target"] = OWN_CONTENT
    # Before anything is decoded: the reports stored this hour (read again under the lock below),
    # then every attempt, refused ones included. With nothing to decode, the read under the lock is
    # the only one needed: a query less per filing (README, "Filing"); the attempt counter still
    # refuses first, with the stored reports' exact wait when they reach the limit.
    if evidence or held:
        _check_rate_limit(reporter=actor)
    _count_attempt(reporter=actor)
    if errors:
        raise ValidationError(errors)
    # A second open report on the same target is refused by the database's unique constraint
    # (report_one_open_per_reporter_target) below, race or not; no query first.
    # Enforcement's answer (reports/hooks.py): read with the account when its API token loaded it.
    standing = hooks.enforcement().reporter_standing(actor)
    _check_not_paused(standing)
    trusted = standing.trusted_flagger
    held = [row for row in held if row.owner_id == actor.pk]
    if len(evidence) + len(held) > settings.EVIDENCE_MAX_FILES:
        raise ValidationError({"evidence": attach_at_most()})
    files = _clean_evidence(evidence) + [_held_file(row) for row in held]

    stored: list[str] = []
    try:
        with transaction.atomic():
            # One filing at a time per reporter: the limit is checked and the report stored under a
            # lock on the reporter's row, so a burst of parallel filings stores exactly the limit.
            _REPORTER_LOCK.run(reporter_id=actor.pk)
            _check_rate_limit(reporter=actor)
            now = timezone.now()
            report = _REPORT_INSERT.create(
                report_type=target.kind,
                target=target,
                reporter=actor,
                channel=channel,
                category=category,
                severity=severity_for(category),
                reason=reason.strip(),
                incident_at=incident_at,
                is_pattern=is_pattern,
                status=ReportStatus.PENDING,
                due_at=deadline_for(category=category, received_at=now, trusted_flagger=trusted),
                from_trusted_flagger=trusted,
                language=language[:16],
                **_zero_tolerance_escalation(category),
            )
            rows = _store_evidence(report=report, files=files, stored=stored)
            if held:
                held_files = [row.file.name for row in held]
                HeldEvidence.objects.filter(pk__in=[row.pk for row in held]).delete()
                transaction.on_commit(lambda: _discard_files(held_files))
            audit.record(
                actor=actor,
                event_type="report.created",
                object_type="report",
                object_id=report.id,
                after=report_audit_state(report),
                data={
                    "channel": channel,
                    "target": str(target.public_id),
                    "evidence_sha256": [row.sha256 for row in rows],
                },
            )
            if rows:
                # Matched against the hash bank in this transaction (reports/hooks.py MediaCheck).
                hooks.media_check().evidence_stored(
                    report=report, files=[(row, clean.content) for row, clean in zip(rows, files, strict=True)]
                )
            # The confirmation goes to the outbox in this transaction; a worker sends it.
            notify.report_received(report=report)
    except IntegrityError as exc:
        # The person already has an open report on this target (or two submissions raced): the
        # database's unique constraint let exactly one in.
        _discard_files(stored)
        raise _already_reported() from exc
    except BaseException:
        _discard_files(stored)
        raise
    return report


def _held_file(row: HeldEvidence) -> CleanFile:
    with row.file.open("rb") as stored:
        content = stored.read()
    return CleanFile(content, row.content_type, row.original_name, row.sha256)


#: Expired held evidence removed by each evidence_hold, at most (the rest by the next ones).
_HELD_PURGE_BATCH = 100


def evidence_hold(*, actor: AbstractBaseUser, files: Sequence[UploadedFile]) -> list[HeldEvidence]:
    """Keep the evidence chosen on a filing form that came back with an error, for the person's next
    try (HELD_EVIDENCE_MINUTES): checked and cleaned as a filing would, so a bad file is said now.
    Checking costs what filing costs, so it counts toward the hourly filing limit like any attempt.
    A person holds at most EVIDENCE_MAX_FILES; older ones go first. Expired holds are deleted here."""
    if not actor.is_authenticated:
        raise PermissionDenied("only signed-in users file reports")
    if len(files) > settings.EVIDENCE_MAX_FILES:
        raise ValidationError({"evidence": attach_at_most()})
    _count_attempt(reporter=actor)
    cleaned = _clean_evidence(files)
    expired_before = timezone.now() - timedelta(minutes=settings.HELD_EVIDENCE_MINUTES)
    stored: list[str] = []
    try:
        with transaction.atomic():
            rows = []
            for clean in cleaned:
                row = HeldEvidence(
                    owner=actor,
                    original_name=clean.original_name,
                    content_type=clean.content_type,
                    size=clean.size,
                    sha256=clean.sha256,
                )
                row.file.save(clean.original_name, ContentFile(clean.content), save=False)
                stored.append(row.file.name)
                row.save()
                rows.append(row)
            kept = HeldEvidence.objects.filter(owner=actor).order_by("-created_at").values_list("pk", flat=True)
            over = HeldEvidence.objects.filter(owner=actor).exclude(pk__in=list(kept[: settings.EVIDENCE_MAX_FILES]))
            expired = HeldEvidence.objects.filter(
                pk__in=list(
                    HeldEvidence.objects.filter(created_at__lt=expired_before).values_list("pk", flat=True)[
                        :_HELD_PURGE_BATCH
                    ]
                )
            )
            gone = [row.file.name for row in (*over, *expired)]
            over.delete()
            expired.delete()
            transaction.on_commit(lambda: _discard_files(gone))
    except BaseException:
        _discard_files(stored)
        raise
    return rows


#: Complaints are counted per address in windows of this many seconds (COMPLAINTS_PER_HOUR_PER_ADDRESS).
COMPLAINT_WINDOW_SECONDS = 3600


def _check_complaint_limit(*, client_address: str) -> None:
    """No account to limit, so the address is: the form is public and must not be a spam pipe."""
    wait = throttle.retry_after(
        scope="complaint",
        subject=client_address,
        limit=settings.COMPLAINTS_PER_HOUR_PER_ADDRESS,
        window=COMPLAINT_WINDOW_SECONDS,
    )
    if wait is not None:
        raise RateLimitExceeded(
            _("Too many complaints from your network.") + " " + _try_again_in(wait + 60), retry_after=wait
        )


def complaint_file(
    *,
    name: str,
    email: str,
    content_kind: str,
    location: str,
    description: str,
    category: str,
    good_faith: bool,
    client_address: str,
    language: str = "",
) -> Report:
    """A complaint or content-removal request from someone without an account (DSA Art. 16 notice).

    The content is not yet a registered target, so a target is made from what the person tells us.
    Name and email may be left out only for child-safety reports, as the law allows. At most
    COMPLAINTS_PER_HOUR_PER_ADDRESS complaints are taken from one address (`client_address`) an hour.
    `language`: the one the complaint was sent in; the sender has no account, so their mail is in it.
    """
    _check_complaint_limit(client_address=client_address)
    errors = _clean_report_fields(
        category=category, reason=description, channel=ReportChannel.THIRD_PARTY, incident_at=None
    )
    if content_kind not in TargetKind.values:
        errors["content_kind"] = _("Choose what kind of content this is.")
    if not location.strip():
        errors["location"] = _("Tell us where the content is: a link, room name or username.")
    if not good_faith:
        errors["good_faith"] = _("Please confirm that the complaint is accurate and made in good faith.")
    if category != Category.CHILD_SAFETY and not (name.strip() and email.strip()):
        errors["email"] = _("Give your name and email so we can reply (only child-safety reports may be anonymous).")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        now = timezone.now()
        target = Target.objects.create(
            kind=content_kind,
            title=location.strip()[:200],
            snapshot_text=location.strip(),
            metadata={"source": "complaint", "reported_location": location.strip()},
        )
        report = Report.objects.create(
            report_type=content_kind,
            target=target,
            reporter=None,
            reporter_name=name.strip(),
            reporter_email=email.strip(),
            channel=ReportChannel.THIRD_PARTY,
            category=category,
            severity=severity_for(category),
            reason=description.strip(),
            status=ReportStatus.PENDING,
            due_at=deadline_for(category=category, received_at=now),
            language=language[:16],
            **_zero_tolerance_escalation(category),
        )
        audit.record(
            actor=audit.PUBLIC_FORM,
            event_type="report.created",
            object_type="report",
            object_id=report.id,
            after=report_audit_state(report),
            data={
                "channel": ReportChannel.THIRD_PARTY,
                "target": str(target.public_id),
                "anonymous": not email.strip(),
            },
        )
        notify.report_received(report=report)
    throttle.hit(scope="complaint", subject=client_address, window=COMPLAINT_WINDOW_SECONDS)
    return report


def complaint_link(
    *,
    actor: AbstractBaseUser,
    report_id: uuid.UUID | str,
    target: Target | None = None,
    account: AbstractBaseUser | None = None,
) -> Report:
    """A moderator links a complaint made without an account to what it is about: the content the
    platform registered (the report moves onto that target, so a removal reaches the platform by
    its kind and its own id, and the complaint joins the other reports on it), or, when the
    platform never registered the content, the account behind it (so account actions work).

    Until then the complaint's target is only the complainant's description, with no owner and no
    platform id, and enforcement refuses what would have to reach the platform."""
    if not actor.is_authenticated or not actor.has_perm("reports.review_report"):
        raise PermissionDenied("reports.review_report is required")
    if (target is None) == (account is None):
        raise ValidationError(_("Link the complaint to registered content or to an account, one of them."))
    with transaction.atomic():
        # Targets before the report, in id order (the lock order of moderation/services.py): the
        # complaint's own target, which a whole-target review of it locks first too, and the one it
        # moves onto, whose decisions then see it among their reports.
        target_ids = sorted(
            {*Report.objects.filter(pk=report_id).values_list("target_id", flat=True), *([target.pk] if target else [])}
        )
        list(Target.objects.select_for_update().filter(pk__in=target_ids).order_by("pk").values_list("pk"))
        report = Report.objects.select_for_update(of=("self",)).select_related("target").get(pk=report_id)
        described = report.target
        if report.channel != ReportChannel.THIRD_PARTY or described.metadata.get("source") != "complaint":
            raise ValidationError(_("Only a complaint sent without an account, not yet linked, can be linked."))
        if report.status not in OPEN_STATUSES:
            raise ValidationError(_("This complaint is closed; reopen it first."))
        before = {"target": str(described.public_id), "owner": described.owner_id}
        data = {"complaint_location": described.metadata.get("reported_location", described.title)}
        if target is not None:
            if not target.external_id:
                raise ValidationError({"external_id": _("This content has no platform id; link the account instead.")})
            report.target, report.report_type = target, target.kind
            report.save(update_fields=["target", "report_type", "updated_at"])
            after = {"target": str(target.public_id), "owner": target.owner_id}
        else:
            described_locked = Target.objects.select_for_update().get(pk=described.pk)
            if described_locked.owner_id is not None:
                raise ValidationError({"username": _("This complaint is already linked to an account.")})
            described_locked.owner = account
            described_locked.save(update_fields=["owner", "updated_at"])
            report.target = described_locked
            after = {"target": str(described.public_id), "owner": account.pk}
        audit.record(
            actor=actor,
            event_type="report.target_linked",
            object_type="report",
            object_id=report.id,
            before=before,
            after=after,
            data=data,
        )
    return report


def target_register(
    *,
    actor: audit.Actor,
    kind: str,
    external_id: str = "",
    owner: AbstractBaseUser | None,
    title: str,
    text: str = "",
    file_content: bytes | None = None,
    file_content_type: str = "",
    metadata: dict[str, Any] | None = None,
    match_snapshot: bool = True,
) -> tuple[Target, bool]:
    """Register a target, or update it when the platform sends the same (kind, external_id) again.

    Once a target has been reported its snapshot is evidence and is never overwritten; only the
    title and metadata may change. Returns (target, created). `match_snapshot=False` is for a caller
    that matches the snapshot against the hash bank itself and acts on a match its own way (a story
    held for review is rejected instead: moderation/stories/services.py `story_submit`).
    """
    if kind not in TargetKind.values:
        raise ValidationError({"kind": _("Unknown target kind.")})
    with transaction.atomic():
        target = None
        if external_id:
            target = Target.objects.select_for_update().filter(kind=kind, external_id=external_id).first()
        created = target is None
        if created:
            target = Target(kind=kind, external_id=external_id)
        before = None if created else _target_state(target)
        target.owner = owner
        target.title = title[:200]
        target.metadata = metadata or {}
        new_snapshot = False
        if created or not target.reports.exists():
            target.snapshot_text = text
            if file_content is not None:
                new_snapshot = True
                target.snapshot_sha256 = hashlib.sha256(file_content).hexdigest()
                target.snapshot_content_type = file_content_type
                target.snapshot_file.save(f"{target.public_id.hex}", ContentFile(file_content), save=False)
        target.save()
        audit.record(
            actor=actor,
            event_type="target.registered",
            object_type="target",
            object_id=target.public_id,
            before=before,
            after=_target_state(target),
        )
        if new_snapshot and match_snapshot:
            # A new snapshot file is matched against the hash bank (reports/hooks.py MediaCheck).
            hooks.media_check().snapshot_stored(target=target, content=file_content)
    return target, created


def report_audit_state(report: Report) -> dict[str, Any]:
    return {
        "status": report.status,
        "category": report.category,
        "severity": report.severity,
        "report_type": report.report_type,
        "due_at": report.due_at,
        "assignee": report.assignee_id,
        "escalated": report.escalated,
    }


def _target_state(target: Target) -> dict[str, Any]:
    return {
        "kind": target.kind,
        "external_id": target.external_id,
        "owner": target.owner_id,
        "title": target.title,
        "state": target.state,
        "snapshot_sha256": target.snapshot_sha256,
    }


INFO_ANSWER_MAX = 2000


def info_request_answer(*, actor: AbstractBaseUser, info_request_id: int, answer: str):
    """The reporter answers a moderator's question on their own report page (once, while it is open).

    Anyone else, or a question on someone else's report, is told it does not exist.
    """
    from reports.models import InfoRequest

    answer = answer.replace("\r\n", "\n").strip()
    if not answer:
        raise ValidationError({"answer": _("Write your answer first.")})
    if len(answer) > INFO_ANSWER_MAX:
        raise ValidationError(
            {"answer": _("Keep your answer to %(limit)s characters or fewer.") % {"limit": intcomma(INFO_ANSWER_MAX)}}
        )
    with transaction.atomic():
        info = (
            InfoRequest.objects.select_for_update()
            .select_related("report")
            .filter(pk=info_request_id, report__reporter_id=actor.pk)
            .first()
            if actor.is_authenticated
            else None
        )
        if info is None:
            raise InfoRequest.DoesNotExist("No such question")
        if info.answered_at is not None:
            raise ValidationError({"answer": _("You already answered this question.")})
        if info.report.status not in OPEN_STATUSES:
            raise ValidationError({"answer": _("This report is closed; no answer is needed any more.")})
        info.answer = answer
        info.answered_at = timezone.now()
        info.save(update_fields=["answer", "answered_at"])
        audit.record(
            actor=actor,
            event_type="report.info_answered",
            object_type="report",
            object_id=info.report_id,
            data={"info_request_id": info.pk, "answer": answer},
        )
    return info


# --- API credentials: personal tokens and platform keys -------------------------------------------
# Keys are 32 random bytes; only their SHA-256 is stored, so a leaked database gives no usable key.
# The readable prefix ("rdt_" for a person's token, "rdp_" for a platform key) says what a key is
# when one turns up in a log or a repository, and finds the row without scanning.

# bandit B105: a label that says what kind of key follows, not a secret
API_TOKEN_PREFIX = "rdt_"  # noqa: S105  # nosec B105
PLATFORM_KEY_PREFIX = "rdp_"
KEY_LOOKUP_LENGTH = 12
API_TOKENS_PER_USER = 10


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _new_key(kind_prefix: str) -> tuple[str, str, str]:
    """(key, lookup prefix, hash) of a fresh random key."""
    key = kind_prefix + secrets.token_urlsafe(32)
    return key, key[:KEY_LOOKUP_LENGTH], hash_key(key)


def api_token_create(*, actor: AbstractBaseUser, name: str) -> tuple[ApiToken, str]:
    """A new personal token for `actor`. Returns the row and the key, which is never shown again."""
    if not actor.is_authenticated:
        raise PermissionError("only signed-in users have API tokens")
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Give the token a name, e.g. the app or script that uses it.")})
    if len(name) > 100:
        raise ValidationError({"name": _("Keep the name to 100 characters or fewer.")})
    with transaction.atomic():
        active = ApiToken.objects.select_for_update().filter(user=actor, revoked_at__isnull=True)
        if len(active) >= API_TOKENS_PER_USER:
            raise ValidationError(
                {
                    "name": _("You already have %(count)s tokens; revoke one you no longer use first.")
                    % {"count": API_TOKENS_PER_USER}
                }
            )
        key, prefix, digest = _new_key(API_TOKEN_PREFIX)
        token = ApiToken.objects.create(user=actor, name=name, prefix=prefix, key_hash=digest)
        audit.record(
            actor=actor,
            event_type="api_token.created",
            object_type="api_token",
            object_id=token.pk,
            after={"name": token.name, "prefix": token.prefix, "user": actor.pk},
        )
    return token, key


def api_token_revoke(*, actor: AbstractBaseUser, token_id: int) -> ApiToken:
    """Revoke one of the actor's own tokens (someone else's token is "not found", like a missing one)."""
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().filter(pk=token_id, user_id=actor.pk).first()
        if token is None:
            raise ApiToken.DoesNotExist(f"no token {token_id}")
        if token.revoked_at is not None:
            return token
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit.record(
            actor=actor,
            event_type="api_token.revoked",
            object_type="api_token",
            object_id=token.pk,
            before={"revoked_at": None},
            after={"revoked_at": token.revoked_at, "name": token.name, "prefix": token.prefix},
        )
    return token


def platform_key_create(*, actor: audit.Actor, name: str) -> tuple[PlatformKey, str]:
    """A new key for the platform's servers. Returns the row and the key, which is never shown again."""
    name = name.strip()
    if not name or len(name) > 100:
        raise ValidationError({"name": _("Give the key a name of 1 to 100 characters.")})
    with transaction.atomic():
        if PlatformKey.objects.filter(name=name).exists():
            raise ValidationError({"name": _("A platform key named %(name)r already exists.") % {"name": name}})
        key, prefix, digest = _new_key(PLATFORM_KEY_PREFIX)
        platform_key = PlatformKey.objects.create(name=name, prefix=prefix, key_hash=digest)
        audit.record(
            actor=actor,
            event_type="platform_key.created",
            object_type="platform_key",
            object_id=platform_key.pk,
            after={"name": platform_key.name, "prefix": platform_key.prefix},
        )
    return platform_key, key


def account_language_set(*, actor: AbstractBaseUser, language: str) -> Profile:
    """The language of a person's own pages and mail, stored on their account ("" forgets it: the
    browser's language then). Only a language of settings.LANGUAGES."""
    if not actor.is_authenticated:
        raise PermissionDenied("only a signed-in person has an account to keep a language on")
    if language and language not in dict(settings.LANGUAGES):
        raise ValidationError({"language": _("Choose one of the listed languages.")}, code="invalid_choice")
    with transaction.atomic():
        profile, _created = Profile.objects.select_for_update().get_or_create(user=actor)
        before = profile.language
        if before != language:
            profile.language = language
            profile.save(update_fields=["language", "updated_at"])
            audit.record(
                actor=actor,
                event_type="account.language_set",
                object_type="user",
                object_id=actor.pk,
                before={"language": before},
                after={"language": language},
            )
    return profile


def account_language_seen(*, actor: AbstractBaseUser, language: str) -> None:
    """Remember the language a person signed in with, for mail when they never chose one. Not an
    audit event: nothing is decided or chosen, and it changes no case."""
    if not actor.is_authenticated or language not in dict(settings.LANGUAGES):
        return
    updated = Profile.objects.filter(user=actor).exclude(seen_language=language).update(seen_language=language)
    if not updated and not Profile.objects.filter(user=actor).exists():
        Profile.objects.get_or_create(user=actor, defaults={"seen_language": language})
