"""Video stories reviewed before publication (moderation/stories): the services, the verdict's webhook
and audit events, automatic rejection on a hash bank match or a detector's score, the DSA export,
and the moderator's pages (permissions, the refusals, fixed query counts)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from audit import services as audit
from audit.models import AuditEvent
from moderation.enforcement.dsa import statements, validate_statement
from moderation.enforcement.models import OutboxEvent
from moderation.hashbank import services as hashbank
from moderation.stories import services
from moderation.stories.models import StoryReview, StoryStatus
from reports.categories import Category
from reports.models import Report, ReportChannel, ReportStatus, TargetKind, TargetState
from reports.uploads import clean_upload
from tests.factories import ReportFactory, UserFactory
from tests.hashbank_media import edited_bytes, picture_bytes
from tests.test_webhooks import Receiver  # noqa: F401 - the real loopback receiver

pytestmark = pytest.mark.django_db

PLATFORM = audit.SystemActor("platform key chat-backend")


def submit(external_id: str = "story-1", *, frame: bytes | None = None, owner=None, **extra) -> services.Submission:
    """A story through the service, its frame cleaned as the API cleans it."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    frame = picture_bytes(3) if frame is None else frame
    clean = clean_upload(SimpleUploadedFile("frame", frame))
    arguments = {
        "actor": PLATFORM,
        "external_id": external_id,
        "owner": owner,
        "title": extra.pop("title", f"Story {external_id}"),
        "caption": extra.pop("caption", "Sunset at the lake"),
        "frame": frame,
        "frame_clean": clean.content,
        "frame_content_type": clean.content_type,
        "media_url": extra.pop("media_url", f"https://cdn.chat.example/{external_id}.mp4"),
    }
    arguments.update(extra)
    return services.story_submit(**arguments)


@pytest.fixture
def bank(moderator):
    """A bank holding picture 11 (as a person's confirmed decision)."""
    entry, _ = hashbank.entry_add_from_media(
        actor=moderator, content=picture_bytes(11), category=Category.CHILD_SAFETY, report=ReportFactory()
    )
    return entry


# --- submission ---------------------------------------------------------------------------------------


def test_a_submitted_story_waits_with_its_deadline_and_an_audit_event(settings, other_user):
    settings.STORY_REVIEW_HOURS = 12
    before = timezone.now()
    submission = submit(owner=other_user)
    story = submission.story
    assert submission.created and submission.matches == []
    assert story.status == StoryStatus.PENDING and not story.automated
    assert before + timedelta(hours=12) <= story.due_at <= timezone.now() + timedelta(hours=12)
    target = story.target
    assert (target.kind, target.external_id, target.owner, target.snapshot_text) == (
        TargetKind.VIDEO_STORY,
        "story-1",
        other_user,
        "Sunset at the lake",
    )
    assert target.snapshot_content_type == "image/png" and target.snapshot_file
    assert target.state == TargetState.VISIBLE
    event = AuditEvent.objects.get(event_type="story.submitted")
    assert event.object_id == str(story.id) and event.actor_label == "platform key chat-backend"
    assert event.data["frame_pdq"] and event.data["external_id"] == "story-1"
    assert OutboxEvent.objects.count() == 0  # nothing to tell the platform until a verdict


def test_the_same_story_again_is_the_same_story_and_other_media_is_refused():
    first = submit().story
    again = submit()
    assert (again.story.pk, again.created) == (first.pk, False)
    assert StoryReview.objects.count() == 1
    assert AuditEvent.objects.filter(event_type="story.submitted").count() == 1
    with pytest.raises(ValidationError) as refused:
        submit(frame=picture_bytes(4))
    assert refused.value.error_dict["external_id"][0].code == "conflict"
    with pytest.raises(ValidationError):
        submit(media_url="https://cdn.chat.example/other.mp4")


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"external_id": "  "}, "external_id"),
        ({"submitted_at": timezone.now() + timedelta(hours=1)}, "submitted_at"),
    ],
)
def test_bad_submissions_are_refused_with_nothing_written(arguments, field):
    with pytest.raises(ValidationError) as refused:
        submit(**arguments)
    assert field in refused.value.message_dict
    assert StoryReview.objects.count() == 0 and AuditEvent.objects.count() == 0


def test_a_story_needs_a_frame_or_a_media_url():
    with pytest.raises(ValidationError) as refused:
        services.story_submit(actor=PLATFORM, external_id="s", owner=None, title="t", media_url="")
    assert "frame" in refused.value.message_dict
    story = services.story_submit(
        actor=PLATFORM, external_id="s", owner=None, title="t", media_url="https://cdn.example/s.mp4"
    ).story
    assert story.is_pending and not story.target.snapshot_file


# --- verdicts -----------------------------------------------------------------------------------------


def test_approval_is_audited_and_sent_to_the_platform_in_one_transaction(moderator):
    story = submit().story
    services.story_approve(actor=moderator, story_id=story.pk)
    story.refresh_from_db()
    assert story.status == StoryStatus.APPROVED and story.decided_by == moderator and not story.automated
    event = AuditEvent.objects.get(event_type="story.approved")
    assert event.actor == moderator and event.before["status"] == "pending" and event.after["status"] == "approved"
    outbox = OutboxEvent.objects.get()
    assert outbox.event_type == "story.approved"
    assert outbox.payload["publish"] is True and outbox.payload["external_id"] == "story-1"
    assert outbox.payload["category"] is None
    assert "moderator1" not in json.dumps(outbox.payload)  # never who reviewed
    assert story.target.state == TargetState.VISIBLE


def test_rejection_needs_a_listed_reason_and_an_explanation(moderator):
    story = submit().story
    with pytest.raises(ValidationError) as refused:
        services.story_reject(actor=moderator, story_id=story.pk, category="not-a-reason", explanation=" ")
    assert set(refused.value.message_dict) == {"category", "explanation"}
    with pytest.raises(ValidationError):
        services.story_reject(actor=moderator, story_id=story.pk, category="spam", explanation="x" * 2001)
    story.refresh_from_db()
    assert story.is_pending and not OutboxEvent.objects.exists()

    services.story_reject(
        actor=moderator, story_id=story.pk, category=Category.VIOLENCE, explanation="Shows a real assault."
    )
    story.refresh_from_db()
    assert (story.status, story.category, story.explanation) == ("rejected", "violence", "Shows a real assault.")
    assert story.target.state == TargetState.REMOVED
    outbox = OutboxEvent.objects.get()
    assert outbox.event_type == "story.rejected"
    assert outbox.payload["reason"] == "Violence or threats" and outbox.payload["publish"] is False
    assert outbox.payload["automated"] is False
    assert AuditEvent.objects.filter(event_type="story.rejected", actor=moderator).count() == 1
    assert AuditEvent.objects.filter(event_type="target.state_changed").count() == 1


def test_only_moderators_decide(user, compliance):
    story = submit().story
    for actor in (user, audit.SYSTEM):
        with pytest.raises(PermissionDenied):
            services.story_approve(actor=actor, story_id=story.pk)
    services.story_approve(actor=compliance, story_id=story.pk)  # compliance is a moderator and more


def test_a_story_is_decided_once_and_the_second_moderator_is_told_who_won(moderator):
    other = UserFactory(username="moderator2", role="moderator")
    story = submit().story
    services.story_approve(actor=other, story_id=story.pk)
    with pytest.raises(services.StoryAlreadyDecided) as lost:
        services.story_reject(actor=moderator, story_id=story.pk, category="spam", explanation="Spam.")
    assert "moderator2 already approved this story" in str(lost.value)
    with pytest.raises(services.StoryAlreadyDecided):
        services.story_approve(actor=moderator, story_id=story.pk)
    assert OutboxEvent.objects.count() == 1
    assert AuditEvent.objects.filter(event_type__startswith="story.").count() == 2  # submitted, approved


def test_a_verdict_rolled_back_leaves_no_webhook_and_no_event(moderator):
    story = submit().story
    with pytest.raises(RuntimeError), transaction.atomic():
        services.story_approve(actor=moderator, story_id=story.pk)
        raise RuntimeError("the request failed after the service")
    story.refresh_from_db()
    assert story.is_pending and not OutboxEvent.objects.exists()
    assert not AuditEvent.objects.filter(event_type="story.approved").exists()


# --- automatic rejection ------------------------------------------------------------------------------


def test_a_frame_matching_the_hash_bank_is_rejected_at_once_and_put_before_compliance(bank):
    submission = submit("story-bad", frame=edited_bytes(11))  # the banked picture, edited: a PDQ match
    story = submission.story
    assert [m.entry for m in submission.matches] == [bank]
    assert story.status == StoryStatus.REJECTED and story.automated
    assert story.category == Category.CHILD_SAFETY
    assert story.automated_source == f"hash bank entry {bank.pk} (Report Desk moderation decision)"
    assert story.decided_by is None and story.decided_by_label == "hash bank"
    assert story.target.state == TargetState.QUARANTINED
    report = story.report
    assert report.channel == ReportChannel.AUTOMATED and report.reporter is None
    assert report.escalated and f"hash bank entry {bank.pk}" in report.escalation_reason
    assert report.status == ReportStatus.PENDING and report.target == story.target
    rejected = AuditEvent.objects.get(event_type="story.rejected")
    assert rejected.actor is None and rejected.actor_label == "hash bank"
    assert rejected.data["matches"][0]["entry_id"] == bank.pk and rejected.data["matches"][0]["match_type"] == "pdq"
    assert AuditEvent.objects.filter(event_type="report.created", object_id=str(report.pk)).exists()
    outbox = OutboxEvent.objects.get()
    assert outbox.payload["status"] == "rejected" and outbox.payload["automated"] is True
    assert str(bank.pk) not in json.dumps(outbox.payload["explanation"])  # the platform is not told which entry


def test_a_frame_unlike_the_bank_waits_for_a_person(bank):
    story = submit("story-ok", frame=picture_bytes(12)).story
    assert story.is_pending and story.report is None


def test_a_detector_above_its_action_threshold_rejects_a_pending_story():
    story = submit().story
    services.reject_story_automatically(
        story=story,
        reason=Category.NON_CONSENSUAL,
        source="detector nudity-v3 2.1 (score 0.97)",
        data={"score": 0.97},
    )
    story.refresh_from_db()
    assert story.status == StoryStatus.REJECTED and story.automated
    assert story.decided_by_label == "automated detection"
    assert story.explanation == "Rejected automatically before publication."
    assert story.report.escalated and story.report.category == Category.NON_CONSENSUAL
    assert AuditEvent.objects.get(event_type="story.rejected").data["score"] == 0.97


def test_automatic_rejection_escalates_the_callers_own_report_and_never_overrides_a_person(moderator):
    story = submit().story
    signal_report = ReportFactory(target=story.target, reporter=None, channel=ReportChannel.AUTOMATED)
    services.reject_story_automatically(
        story=story.pk, reason="violence", source="detector gore 1.0", report=signal_report
    )
    signal_report.refresh_from_db()
    assert signal_report.escalated and Report.objects.count() == 1
    assert AuditEvent.objects.filter(event_type="report.escalated", object_id=str(signal_report.pk)).exists()

    decided = submit("story-2").story
    services.story_approve(actor=moderator, story_id=decided.pk)
    with pytest.raises(services.StoryAlreadyDecided):
        services.reject_story_automatically(story=decided, reason="violence", source="detector gore 1.0")
    with pytest.raises(ValidationError):
        services.reject_story_automatically(story=submit("story-3").story, reason="bad", source="x")


# --- the verdict reaches the platform -----------------------------------------------------------------


def test_the_verdict_is_delivered_signed_through_the_outbox(settings, moderator, django_capture_on_commit_callbacks):
    import hashlib
    import hmac

    receiver = Receiver()
    settings.WEBHOOK_URL = receiver.url
    settings.WEBHOOK_SECRET = "s3cret"
    try:
        story = submit().story
        with django_capture_on_commit_callbacks(execute=True):
            services.story_reject(
                actor=moderator, story_id=story.pk, category=Category.SPAM, explanation="An advert for pills."
            )
        [(headers, body)] = receiver.requests
    finally:
        receiver.close()
    expected = hmac.new(b"s3cret", headers["X-Reportdesk-Timestamp"].encode() + b"." + body, hashlib.sha256).hexdigest()
    assert headers["X-Reportdesk-Signature"] == f"sha256={expected}"
    assert headers["X-Reportdesk-Event"] == "story.rejected"
    data = json.loads(body)["data"]
    assert data["story_id"] == str(story.pk) and data["external_id"] == "story-1"
    assert (data["status"], data["category"], data["explanation"]) == ("rejected", "spam", "An advert for pills.")
    assert OutboxEvent.objects.get().delivered_at is not None


# --- the DSA export -----------------------------------------------------------------------------------


def test_rejected_stories_are_exported_as_valid_statements_telling_person_from_machine(moderator, bank):
    human = submit("story-h", owner=UserFactory(username="sunny_lake")).story
    services.story_reject(
        actor=moderator,
        story_id=human.pk,
        category=Category.HARASSMENT,
        explanation="Mocks @sunny_lake's classmate by name; mail me at a@b.example",
    )
    machine = submit("story-m", frame=picture_bytes(11)).story
    assert machine.automated
    approved = submit("story-a", frame=picture_bytes(13)).story
    services.story_approve(actor=moderator, story_id=approved.pk)

    exported = {s["puid"]: s for s in statements(since=timezone.now().date() - timedelta(days=1))}
    assert set(exported) == {f"rd-story-{human.pk}", f"rd-story-{machine.pk}"}  # an approval restricts nothing
    for statement in exported.values():
        assert validate_statement(statement) == []
        assert statement["decision_visibility"] == ["DECISION_VISIBILITY_OTHER"]
        assert statement["content_type"] == ["CONTENT_TYPE_VIDEO"]
        assert statement["source_type"] == "SOURCE_VOLUNTARY"
    by_person = exported[f"rd-story-{human.pk}"]
    assert by_person["automated_detection"] == "No"
    assert by_person["automated_decision"] == "AUTOMATED_DECISION_NOT_AUTOMATED"
    assert by_person["category"] == "STATEMENT_CATEGORY_CYBER_VIOLENCE"
    assert "sunny_lake" not in json.dumps(by_person) and "a@b.example" not in json.dumps(by_person)
    by_machine = exported[f"rd-story-{machine.pk}"]
    assert by_machine["automated_detection"] == "Yes"
    assert by_machine["automated_decision"] == "AUTOMATED_DECISION_FULLY"
    assert by_machine["category"] == "STATEMENT_CATEGORY_PROTECTION_OF_MINORS"


def test_the_transparency_report_counts_stories_decided_before_publication(moderator):
    from moderation.metrics import Period, transparency_counts

    services.story_approve(actor=moderator, story_id=submit("t-1").story.pk)
    services.story_reject(
        actor=moderator, story_id=submit("t-2", frame=picture_bytes(51)).story.pk, category="spam", explanation="Ad."
    )
    services.reject_story_automatically(
        story=submit("t-3", frame=picture_bytes(52)).story, reason="violence", source="d"
    )
    submit("t-4", frame=picture_bytes(53))  # still waiting: not a decision yet
    counts = transparency_counts(Period.last(1))
    assert counts["stories_reviewed_before_publication"] == 3
    assert counts["stories_refused_publication"] == 2
    assert counts["stories_refused_automatically"] == 1
