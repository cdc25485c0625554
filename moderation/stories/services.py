"""Every write of the pre-publication review: a story submitted, approved, rejected by a person, or
rejected automatically. Each runs in one transaction with its audit event and the platform's
webhook (written to the outbox in that transaction, so the verdict is never lost and never sent
for a decision that rolled back).

The verdict is final and taken once: the story's row is locked (select_for_update) and its status
checked under the lock, so of two moderators deciding the same story one wins and the other gets
StoryAlreadyDecided naming who decided it and when. A verdict that changes the target (a rejection)
locks the target before the story, and an automatic rejection the target, then its report, then the
story: the lock order of every path (moderation/services.py), the one the signals' batch takes when
a detector's score rejects a pending story. Story first and target second, a person's rejection and
that batch would each hold what the other waits for.

For the signals' policies (moderation's machine detection): `reject_story_automatically` is the one
entry point for "a detector scored a pending story above the action threshold". It rejects the
story as an automated decision and puts it before compliance (an escalated automated report, or
the caller's own report, escalated), like a hash bank match at submission.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit import services as audit
from moderation.enforcement import services as enforcement
from moderation.enforcement import webhooks
from moderation.hashbank.hashing import hash_media
from moderation.hashbank.selectors import BankMatch, match_media
from moderation.stories.models import StoryReview, StoryStatus
from reports.categories import Category, deadline_for, rule_for, severity_for
from reports.models import Report, ReportChannel, ReportStatus, Target, TargetKind, TargetState
from reports.services import report_audit_state, target_register

# Moderators and up decide stories (the same right as reviewing reports).
DECIDE_PERMISSION = "reports.review_report"
EXPLANATION_MAX = 2000
SOURCE_MAX = 300
# What the platform may say the story's submission time was: not in the future beyond clock skew.
_CLOCK_SKEW = timedelta(minutes=5)


class StoryAlreadyDecided(Exception):
    """Someone (or something) decided the story first. Pages show the message; the API answers 409."""

    def __init__(self, message: str, *, story: StoryReview) -> None:
        super().__init__(message)
        self.story = story


def decided_by_whom(story: StoryReview) -> str:
    """'moderator2 (approved at 14:05)': who took the verdict a later attempt lost to."""
    when = timezone.localtime(story.decided_at).strftime("%H:%M") if story.decided_at else "?"
    return _("%(who)s already %(verdict)s this story at %(when)s.") % {
        "who": story.decided_by_label or _("someone else"),
        "verdict": story.get_status_display().lower(),
        "when": when,
    }


def story_audit_state(story: StoryReview) -> dict[str, Any]:
    return {
        "status": story.status,
        "due_at": story.due_at,
        "category": story.category,
        "automated": story.automated,
        "automated_source": story.automated_source,
        "decided_by": story.decided_by_label,
    }


def webhook_payload(story: StoryReview) -> dict[str, Any]:
    """What the platform hears: enough to publish or withhold the story, and the reason to tell its
    owner. Nothing about who reviewed it, nor which bank entry or detector matched."""
    target = story.target
    rejected = story.status == StoryStatus.REJECTED
    return {
        "event": story.status,
        "story_id": story.id,
        "target_id": target.public_id,
        "external_id": target.external_id,
        "owner_id": target.owner_id,
        "status": story.status,
        "publish": story.status == StoryStatus.APPROVED,
        "category": story.category if rejected else None,
        "reason": str(Category(story.category).label) if rejected else None,
        "explanation": story.explanation if rejected else "",
        "automated": story.automated,
        "decided_at": story.decided_at,
    }


# --- submission -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Submission:
    story: StoryReview
    created: bool
    matches: list[BankMatch]


def story_submit(
    *,
    actor: audit.Actor,
    external_id: str,
    owner: AbstractBaseUser | None,
    title: str,
    caption: str = "",
    frame: bytes | None = None,
    frame_clean: bytes | None = None,
    frame_content_type: str = "",
    media_url: str = "",
    submitted_at: datetime | None = None,
    metadata: dict[str, Any] | None = None,
) -> Submission:
    """Hold a video story for review before publication.

    `frame` is the frame as the platform sent it (hashed against the bank as sent: the bank's SHA-256
    are of original files), `frame_clean` the same image re-encoded by reports.uploads.clean_upload
    (kept as the target's snapshot, without metadata). A frame matching the hash bank rejects the
    story at once (reject_story_automatically), and the answer says so.

    The same external id again: the story as it is (created=False), when the frame is the same; a
    different frame is refused, since a story is reviewed once and a new version is a new story.
    """
    errors: dict[str, list[str]] = {}
    external_id = external_id.strip()
    if not external_id:
        errors["external_id"] = [_("Give the platform's id of the story.")]
    if (frame is None) != (frame_clean is None):
        raise ValueError("frame and frame_clean go together")
    if frame is None and not media_url:
        errors["frame"] = [_("Send a frame of the video (an image) or its media URL, so a moderator can see it.")]
    now = timezone.now()
    if submitted_at is not None and submitted_at > now + _CLOCK_SKEW:
        errors["submitted_at"] = [_("The submission time cannot be in the future.")]
    if errors:
        raise ValidationError(errors)
    try:
        hashes = hash_media(frame) if frame is not None else None
    except ValidationError as error:
        raise ValidationError({"frame": error.messages}) from None

    def hold() -> Submission:
        with transaction.atomic():
            existing = (
                StoryReview.objects.select_for_update(of=("self",))
                .select_related("target")
                .filter(target__kind=TargetKind.VIDEO_STORY, target__external_id=external_id)
                .first()
            )
            if existing is not None:
                same_frame = (frame_clean is None and not existing.target.snapshot_sha256) or (
                    frame_clean is not None and existing.target.snapshot_sha256 == _sha256(frame_clean)
                )
                if not same_frame or existing.media_url != media_url:
                    raise ValidationError(
                        {
                            "external_id": ValidationError(
                                _("This story was already submitted with other media; a story is reviewed once."),
                                code="conflict",
                            )
                        }
                    )
                return Submission(story=existing, created=False, matches=[])
            target, _created = target_register(
                actor=actor,
                kind=TargetKind.VIDEO_STORY,
                external_id=external_id,
                owner=owner,
                title=title or _("Video story %(id)s") % {"id": external_id},
                text=caption,
                file_content=frame_clean,
                file_content_type=frame_content_type,
                metadata=metadata,
                # Matched below: a story's match rejects the story (one automated report, not two).
                match_snapshot=False,
            )
            story = StoryReview.objects.create(
                target=target,
                media_url=media_url,
                submitted_at=submitted_at or now,
                received_at=now,
                due_at=now + timedelta(hours=settings.STORY_REVIEW_HOURS),
            )
            audit.record(
                actor=actor,
                event_type="story.submitted",
                object_type="story",
                object_id=story.id,
                after=story_audit_state(story),
                data={
                    "target": str(target.public_id),
                    "external_id": external_id,
                    "frame_sha256": hashes.sha256 if hashes else None,
                    "frame_pdq": hashes.pdq if hashes else None,
                },
            )
            matches = (
                match_media(sha256=hashes.sha256, pdq=hashes.pdq, pdq_quality=hashes.pdq_quality) if hashes else []
            )
            if matches:
                best = matches[0]
                entry = best.entry
                story = reject_story_automatically(
                    story=story,
                    reason=entry.category,
                    source=f"hash bank entry {entry.pk} ({entry.source_name})",
                    details=_("The frame matches known material in the hash bank."),
                    data={
                        "matches": [
                            {"entry_id": m.entry.pk, "match_type": m.match_type, "distance": m.distance}
                            for m in matches
                        ]
                    },
                )
        return Submission(story=story, created=True, matches=matches)

    try:
        return hold()
    except IntegrityError:
        # Two submissions of a new story raced: the unique constraints let one in, and this one,
        # tried again, finds it.
        return hold()


def _sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


# --- verdicts ---------------------------------------------------------------------------------------


def _locked_pending(story_id: uuid.UUID | str, *, report: Report | None = None) -> StoryReview:
    """The story, locked for this transaction, after its target (and `report`, when given), in the
    lock order of the module docstring; StoryAlreadyDecided when it is no longer pending."""
    try:
        Target.objects.select_for_update(of=("self",)).filter(story_review__pk=story_id).get()
        if report is not None:
            Report.objects.select_for_update().filter(pk=report.pk).get()
        story = StoryReview.objects.select_for_update(of=("self",)).select_related("target").get(pk=story_id)
    except (Target.DoesNotExist, Report.DoesNotExist, StoryReview.DoesNotExist, ValidationError, ValueError) as exc:
        raise StoryReview.DoesNotExist(f"no story {story_id}") from exc
    if story.status != StoryStatus.PENDING:
        raise StoryAlreadyDecided(decided_by_whom(story), story=story)
    return story


def _clean_explanation(text: str) -> str:
    text = text.strip()
    if "\x00" in text:
        raise ValidationError({"explanation": [_("The text contains a character that cannot be stored (NUL).")]})
    if len(text) > EXPLANATION_MAX:
        message = _("Keep the explanation to %(max)s characters or fewer.") % {"max": f"{EXPLANATION_MAX:,}"}
        raise ValidationError({"explanation": [message]})
    return text


def _decide(
    *,
    actor: audit.Actor,
    story: StoryReview,
    status: str,
    category: str = "",
    explanation: str = "",
    automated_source: str = "",
    data: dict[str, Any] | None = None,
) -> StoryReview:
    """Write the verdict on a story locked by the caller, with its audit event and webhook."""
    before = story_audit_state(story)
    story.status = status
    story.decided_at = timezone.now()
    story.category = category
    story.explanation = explanation
    story.automated = bool(automated_source)
    story.automated_source = automated_source[:SOURCE_MAX]
    if isinstance(actor, audit.SystemActor):
        story.decided_by, story.decided_by_label = None, actor.name
    else:
        story.decided_by, story.decided_by_label = actor, actor.get_username()
    story.save()
    audit.record(
        actor=actor,
        event_type=f"story.{status}",
        object_type="story",
        object_id=story.id,
        before=before,
        after=story_audit_state(story),
        data={"target": str(story.target.public_id), "explanation": explanation, **(data or {})},
    )
    webhooks.enqueue(event_type=f"story.{status}", payload=webhook_payload(story))
    return story


def _require_person(actor: AbstractBaseUser) -> None:
    if isinstance(actor, audit.SystemActor) or not actor.is_authenticated or not actor.has_perm(DECIDE_PERMISSION):
        raise PermissionDenied(_("Only moderators decide stories."))


def story_approve(*, actor: AbstractBaseUser, story_id: uuid.UUID | str) -> StoryReview:
    """A moderator lets the story be published."""
    _require_person(actor)
    with transaction.atomic():
        story = _locked_pending(story_id)
        return _decide(actor=actor, story=story, status=StoryStatus.APPROVED)


def story_reject(*, actor: AbstractBaseUser, story_id: uuid.UUID | str, category: str, explanation: str) -> StoryReview:
    """A moderator refuses the story publication: a category of the fixed list and an explanation,
    both required (the platform tells the owner; the DSA statement carries them)."""
    _require_person(actor)
    errors: dict[str, list[str]] = {}
    if category not in Category.values:
        errors["category"] = [_("Choose the reason from the list.")]
    try:
        explanation = _clean_explanation(explanation)
    except ValidationError as error:
        errors.update(error.message_dict)
    if not errors.get("explanation") and not explanation:
        errors["explanation"] = [_("Explain the rejection in a sentence or two; the story's owner is told.")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        story = _locked_pending(story_id)
        _decide(actor=actor, story=story, status=StoryStatus.REJECTED, category=category, explanation=explanation)
        # Never published, and now not to be: staff without the right to see removed content no
        # longer see its frame either.
        enforcement.target_state_set(actor=actor, target=story.target, state=TargetState.REMOVED)
    return story


def reject_story_automatically(
    *,
    story: StoryReview | uuid.UUID | str,
    reason: str,
    source: str,
    details: str = "",
    report: Report | None = None,
    data: dict[str, Any] | None = None,
) -> StoryReview:
    """Reject a pending story without a person: a hash bank match at submission, or a detector that
    scored it above its policy's action threshold (the signals' policy code calls this).

    - `reason`: the category (reports.categories.Category value) the rejection is for.
    - `source`: what decided, named for the audit log, the story page and compliance, e.g.
      "detector nudity-v3 2.1 (score 0.97)" or "hash bank entry 12 (Partner list)".
    - `details`: the explanation sent to the platform with the verdict (optional).
    - `report`: the automated report the caller already filed for this story, if any; it is
      escalated. Without one, an automated report naming the source is filed, escalated.
    - `data`: extra facts for the audit event (scores, matches).

    Written as the system actor, `automated` true: the DSA statement says AUTOMATED_DECISION_FULLY
    and automated_detection Yes. The frame is quarantined (compliance only). Compliance sees the
    escalated report in its queue and confirms, or reverses on appeal; the story itself stays
    rejected (a verdict is final; the platform may submit it again as a new story).

    Raises StoryAlreadyDecided when the story is no longer pending (a person or an earlier signal
    decided first), StoryReview.DoesNotExist for an unknown id, ValidationError for a bad reason.
    Runs in its own transaction, or inside the caller's.
    """
    if reason not in Category.values:
        raise ValidationError({"reason": [f"{reason!r} is not a category: one of {', '.join(Category.values)}."]})
    source = source.strip()
    if not source:
        raise ValidationError({"source": [_("Name what decided (the detector and its version, or the bank entry).")]})
    explanation = _clean_explanation(details) or _("Rejected automatically before publication.")
    actor = audit.SystemActor(_automatic_actor_name(source))
    story_id = story.pk if isinstance(story, StoryReview) else story
    with transaction.atomic():
        locked = _locked_pending(story_id, report=report)
        locked.report = _escalated_report(actor=actor, story=locked, category=reason, source=source, report=report)
        _decide(
            actor=actor,
            story=locked,
            status=StoryStatus.REJECTED,
            category=reason,
            explanation=explanation,
            automated_source=source,
            data={"source": source, "report": str(locked.report.pk), **(data or {})},
        )
        enforcement.target_state_set(actor=actor, target=locked.target, state=TargetState.QUARANTINED)
    return locked


def _automatic_actor_name(source: str) -> str:
    return "hash bank" if source.startswith("hash bank") else "automated detection"


def _escalated_report(
    *, actor: audit.SystemActor, story: StoryReview, category: str, source: str, report: Report | None
) -> Report:
    """The case compliance confirms: the caller's report escalated, or a new automated report."""
    reason = _("Video story rejected automatically before publication by %(source)s.") % {"source": source}
    escalation = _("Automatic story rejection: confirm (%(source)s)") % {"source": source}
    if report is not None:
        report = Report.objects.select_for_update().get(pk=report.pk)
        if not report.escalated:
            before = report_audit_state(report)
            report.escalated = True
            report.escalation_reason = escalation[:2000]
            report.save(update_fields=["escalated", "escalation_reason", "updated_at"])
            audit.record(
                actor=actor,
                event_type="report.escalated",
                object_type="report",
                object_id=report.id,
                before=before,
                after=report_audit_state(report),
                data={"reason": escalation, "story": str(story.id)},
            )
        return report
    now = timezone.now()
    report = Report.objects.create(
        report_type=TargetKind.VIDEO_STORY,
        target=story.target,
        reporter=None,
        channel=ReportChannel.AUTOMATED,
        category=category,
        severity=severity_for(category),
        reason=reason,
        status=ReportStatus.PENDING,
        due_at=deadline_for(category=category, received_at=now),
        escalated=True,
        escalation_reason=escalation[:2000],
    )
    audit.record(
        actor=actor,
        event_type="report.created",
        object_type="report",
        object_id=report.id,
        after=report_audit_state(report),
        data={
            "channel": ReportChannel.AUTOMATED,
            "target": str(story.target.public_id),
            "story": str(story.id),
            "source": source,
            "zero_tolerance": rule_for(category).zero_tolerance,
        },
    )
    return report
