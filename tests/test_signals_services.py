"""Machine signals' services (moderation/signals/services.py): policies, the action threshold's
quarantine and escalation (never a sanction), the hash bank's hooks on snapshots, evidence and frames,
banking on a person's confirmed decision, release on dismissal, and the truthful DSA fields."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone, translation

from audit import services as audit
from audit.models import AuditEvent
from moderation import services as moderation_services
from moderation.enforcement.actions import ActionKind
from moderation.enforcement.dsa import statement_for_decision
from moderation.enforcement.models import OutboxEvent, Sanction
from moderation.hashbank import services as bank
from moderation.hashbank.hashing import hash_media
from moderation.hashbank.models import BankEntry, EntrySource, MediaKind
from moderation.signals import policy as rules
from moderation.signals import services
from moderation.signals.models import AutomatedCase, BankHit, Detector, Signal, SignalPolicy
from moderation.signals.services import ItemStatus, SignalItem
from reports import services as report_services
from reports.models import Report, ReportChannel, Target, TargetState
from reports.uploads import clean_upload
from tests.factories import ReportFactory, TargetFactory
from tests.hashbank_media import edited_bytes, picture_bytes
from tests.test_enforcement import decide

pytestmark = pytest.mark.django_db
PLATFORM = audit.SystemActor("platform key chat-backend")


@pytest.fixture
def detector():
    detector = Detector.objects.create(name="csam-classifier")
    SignalPolicy.objects.create(
        detector=detector,
        category="child_safety",
        floor=Decimal("0.2"),
        review_threshold=Decimal("0.5"),
        action_threshold=Decimal("0.9"),
    )
    SignalPolicy.objects.create(detector=detector, category="", floor=Decimal("0.3"), review_threshold=Decimal("0.7"))
    return detector


def signal(target, *, key="k-1", category="child_safety", score="0.95", frame=None, **kwargs) -> SignalItem:
    clean = clean_upload(SimpleUploadedFile("frame.png", frame)) if frame else None
    return SignalItem(
        idempotency_key=key,
        source_name="csam-classifier",
        source_version="2.0",
        category=category,
        score=Decimal(score),
        target_id=target.public_id if target is not None else None,
        frame=clean,
        frame_hashes=services.frame_hashes(frame) if frame else None,
        **kwargs,
    )


def ingest(*items):
    return services.signals_ingest(actor=PLATFORM, items=list(items))


def banked(content: bytes, reviewer, category="child_safety") -> BankEntry:
    entry, _ = bank.entry_add_from_media(actor=reviewer, content=content, category=category, report=ReportFactory())
    return entry


def file_target(**kwargs) -> Target:
    return TargetFactory(kind="file", **kwargs)


# --- the policy -----------------------------------------------------------------------------------------


def test_the_policy_rule():
    policy = SignalPolicy(
        floor=Decimal("0.2"), review_threshold=Decimal("0.5"), action_threshold=Decimal("0.9"), category="child_safety"
    )
    verdict = rules.verdict
    assert verdict(policy, score=Decimal("0.1"), category="child_safety") == rules.KEEP
    assert verdict(policy, score=Decimal("0.2"), category="child_safety") == rules.ATTACH
    assert verdict(policy, score=Decimal("0.5"), category="child_safety") == rules.QUEUE
    assert verdict(policy, score=Decimal("0.9"), category="child_safety") == rules.ACT
    # An action threshold never acts outside the zero-tolerance categories, whatever the table holds.
    assert verdict(policy, score=Decimal("1"), category="harassment") == rules.QUEUE


def test_an_action_threshold_is_refused_outside_zero_tolerance_categories(admin_user, detector):
    with pytest.raises(ValidationError) as error:
        services.policy_save(
            actor=admin_user,
            policy_id=None,
            detector=detector,
            category="harassment",
            floor=Decimal("0.1"),
            review_threshold=Decimal("0.5"),
            action_threshold=Decimal("0.9"),
        )
    assert "action_threshold" in error.value.message_dict
    with pytest.raises(ValidationError):
        services.policy_save(
            actor=admin_user,
            policy_id=None,
            detector=detector,
            category="spam",
            floor=Decimal("0.6"),
            review_threshold=Decimal("0.5"),
            action_threshold=None,
        )


def test_policy_changes_are_audited_with_before_and_after(admin_user, detector):
    policy = services.policy_save(
        actor=admin_user,
        policy_id=None,
        detector=detector,
        category="spam",
        floor=Decimal("0.1"),
        review_threshold=Decimal("0.8"),
        action_threshold=None,
    )
    services.policy_save(
        actor=admin_user,
        policy_id=policy.pk,
        detector=detector,
        category="spam",
        floor=Decimal("0.2"),
        review_threshold=Decimal("0.8"),
        action_threshold=None,
    )
    services.policy_delete(actor=admin_user, policy_id=policy.pk)
    events = list(
        AuditEvent.objects.filter(event_type="signal_policy.changed", object_id=str(policy.pk)).order_by("id")
    )
    assert [e.before and e.before["floor"] for e in events] == [None, "0.1000", "0.2000"]
    assert [e.after and e.after["floor"] for e in events] == ["0.1000", "0.2000", None]
    assert all(e.actor == admin_user for e in events)
    assert not SignalPolicy.objects.filter(pk=policy.pk).exists()


def test_only_admins_change_policies(moderator, compliance, detector):
    for person in (moderator, compliance):
        with pytest.raises(PermissionDenied):
            services.policy_delete(actor=person, policy_id=detector.policies.first().pk)
    with pytest.raises(PermissionDenied):
        services.detector_save(actor=moderator, detector_id=None, name="x", description="", active=True)


def test_the_admin_saves_policies_through_the_service(client, admin_user, detector):
    admin_user.is_staff = True
    admin_user.save()
    client.force_login(admin_user)
    response = client.post(
        "/django-admin/signals/signalpolicy/add/",
        {
            "detector": detector.pk,
            "category": "spam",
            "floor": "0.1",
            "review_threshold": "0.9",
            "action_threshold": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    policy = SignalPolicy.objects.get(category="spam")
    event = AuditEvent.objects.get(event_type="signal_policy.changed", object_id=str(policy.pk))
    assert event.actor == admin_user and event.after["review_threshold"] == "0.9000"
    # A bad one is a form error, nothing written.
    response = client.post(
        "/django-admin/signals/signalpolicy/add/",
        {
            "detector": detector.pk,
            "category": "fraud",
            "floor": "0.1",
            "review_threshold": "0.5",
            "action_threshold": "0.9",
        },
    )
    assert response.status_code == 200
    assert "only for zero-tolerance categories" in response.content.decode()
    assert not SignalPolicy.objects.filter(category="fraud").exists()


def test_the_admin_role_has_the_policy_permissions(admin_user, moderator):
    assert admin_user.has_perm("signals.change_signalpolicy")
    assert not moderator.has_perm("signals.change_signalpolicy")
    assert Permission.objects.filter(codename="change_signalpolicy", group__name="admin").exists()


# --- the action threshold -------------------------------------------------------------------------------


def test_above_the_action_threshold_content_is_quarantined_and_escalated_never_sanctioned(detector):
    target = file_target()
    [result] = ingest(signal(target, score="0.97"))
    assert result.status == ItemStatus.CREATED and result.quarantined
    target.refresh_from_db()
    assert target.state == TargetState.QUARANTINED
    report = Report.objects.get()
    assert report.escalated and "quarantined" in report.escalation_reason
    # On the 24-hour clock of the zero-tolerance category, within it.
    assert (report.due_at - report.created_at).total_seconds() <= 24 * 3600
    assert Sanction.objects.count() == 0
    change = AuditEvent.objects.get(event_type="target.state_changed", object_id=str(target.public_id))
    assert change.actor_label == "automated detection" and change.data["provisional"] is True
    webhook = OutboxEvent.objects.get(event_type="target.quarantined")
    assert webhook.payload["provisional"] is True and webhook.payload["target"]["external_id"] == target.external_id
    assert AutomatedCase.objects.get(report=report).quarantined_at is not None
    assert Signal.objects.get().quarantined


def test_a_person_confirms_the_quarantine_and_the_statement_says_automation_took_part(detector, compliance):
    target = file_target()
    ingest(signal(target, score="0.97"))
    report = Report.objects.get()
    sanctions = decide(compliance, report, ActionKind.QUARANTINE_FILE, ground_type="law", ground="§184b StGB")
    assert sanctions[0].automated and sanctions[0].decided_by == compliance
    statement = statement_for_decision(list(Sanction.objects.filter(decision_id=sanctions[0].decision_id)))
    assert statement["automated_detection"] == "Yes"
    assert statement["automated_decision"] == "AUTOMATED_DECISION_PARTIALLY"
    assert statement["source_type"] == "SOURCE_VOLUNTARY"


def test_a_person_decision_on_an_automated_report_without_quarantine_is_not_automated(detector, moderator):
    target = file_target()
    ingest(signal(target, category="harassment", score="0.8"))
    sanctions = decide(moderator, Report.objects.get(), ActionKind.REMOVE_CONTENT)
    assert not sanctions[0].automated
    statement = statement_for_decision(sanctions)
    assert statement["automated_detection"] == "Yes"
    assert statement["automated_decision"] == "AUTOMATED_DECISION_NOT_AUTOMATED"


def test_dismissing_the_automated_report_releases_the_quarantine(detector, compliance):
    target = file_target()
    ingest(signal(target, score="0.97"))
    report = Report.objects.get()
    moderation_services.report_review(actor=compliance, report_id=report.pk, status="dismissed")
    target.refresh_from_db()
    assert target.state == TargetState.VISIBLE
    released = (
        AuditEvent.objects.filter(event_type="target.state_changed", object_id=str(target.public_id))
        .order_by("id")
        .last()
    )
    assert released.actor == compliance and released.after == {"state": "visible"}
    assert OutboxEvent.objects.filter(event_type="target.released").count() == 1


def test_dismissal_leaves_content_a_person_removed(detector, moderator, compliance):
    target = file_target()
    human = ReportFactory(target=target)
    decide(moderator, human, ActionKind.REMOVE_CONTENT)
    ingest(signal(target, score="0.97"))
    automated = Report.objects.get(channel=ReportChannel.AUTOMATED)
    moderation_services.report_review(actor=compliance, report_id=automated.pk, status="dismissed")
    target.refresh_from_db()
    assert target.state == TargetState.REMOVED


def test_dismissal_releases_content_whatever_else_the_account_has(detector, moderator, compliance):
    """An account sanction in force (a timeout, which names the content it was decided on) does not
    keep content quarantined by automation: only a person's removal or quarantine of it does."""
    target = file_target()
    decide(moderator, ReportFactory(target=target), ActionKind.TIMEOUT, ends_at=timezone.now() + timedelta(days=1))
    ingest(signal(target, score="0.97"))
    target.refresh_from_db()
    assert target.state == TargetState.QUARANTINED
    automated = Report.objects.get(channel=ReportChannel.AUTOMATED)
    moderation_services.report_review(actor=compliance, report_id=automated.pk, status="dismissed")
    target.refresh_from_db()
    assert target.state == TargetState.VISIBLE


# --- the batch's transactions ---------------------------------------------------------------------------


def test_a_refused_item_leaves_nothing_and_the_rest_commit(detector):
    good, unknown = file_target(), signal(file_target(), key="k-2")
    unknown.source_name = "nobody"
    results = ingest(signal(good), unknown, signal(good, key="k-3", score="0.6"))
    assert [r.status for r in results] == ["created", "refused", "merged"]
    assert Signal.objects.count() == 2 and Report.objects.count() == 1


# --- the hash bank's hooks ------------------------------------------------------------------------------


def test_a_frame_matching_the_bank_quarantines_reports_and_names_the_entry(detector, moderator):
    entry = banked(picture_bytes(1), moderator)
    target = file_target()
    [result] = ingest(signal(target, category="harassment", score="0.4", frame=edited_bytes(1)))
    assert result.status == ItemStatus.CREATED and result.bank_entries == [entry.pk] and result.quarantined
    report = Report.objects.get(channel=ReportChannel.AUTOMATED)
    assert report.category == "child_safety" and report.escalated
    assert f"bank entry {entry.pk}" in report.reason
    hit = BankHit.objects.get()
    assert (hit.entry, hit.report, hit.origin, hit.match_type) == (entry, report, "frame", "pdq")
    assert AutomatedCase.objects.get(report=report).bank_entry == entry
    target.refresh_from_db()
    assert target.state == TargetState.QUARANTINED
    matched = AuditEvent.objects.filter(event_type="hashbank.matched", object_id=str(entry.pk)).order_by("id").last()
    assert matched.data["origin"] == "frame"


def test_a_new_snapshot_matching_the_bank_files_an_automated_report(moderator):
    entry = banked(picture_bytes(2), moderator)
    clean = clean_upload(SimpleUploadedFile("snap.png", picture_bytes(2)))
    # Registered by a platform request that asked for Spanish: the report's reason, a record, stays English.
    with translation.override("es"):
        target, _ = report_services.target_register(
            actor=PLATFORM,
            kind="file",
            external_id="upload-5",
            owner=None,
            title="Upload 5",
            file_content=clean.content,
            file_content_type=clean.content_type,
        )
    target.refresh_from_db()
    assert target.state == TargetState.QUARANTINED
    report = Report.objects.get(target=target)
    assert report.channel == ReportChannel.AUTOMATED and report.reporter is None and report.escalated
    assert report.category == entry.category
    assert report.reason.startswith(f"Hash bank match: the target snapshot matches bank entry {entry.pk} ")
    assert BankHit.objects.get().origin == "snapshot"


def test_a_snapshot_not_in_the_bank_changes_nothing(moderator):
    banked(picture_bytes(3), moderator)
    clean = clean_upload(SimpleUploadedFile("snap.png", picture_bytes(40)))
    target, _ = report_services.target_register(
        actor=PLATFORM,
        kind="file",
        external_id="upload-6",
        owner=None,
        title="Upload 6",
        file_content=clean.content,
        file_content_type=clean.content_type,
    )
    assert Target.objects.get(pk=target.pk).state == TargetState.VISIBLE
    assert not Report.objects.filter(target=target).exists() and BankHit.objects.count() == 0


def test_evidence_matching_the_bank_files_an_automated_report_on_the_target(user, moderator):
    banked(picture_bytes(4), moderator)
    target = file_target()
    report_services.report_file(
        actor=user,
        target=target,
        category="harassment",
        reason="Look at what he posted.",
        evidence=[SimpleUploadedFile("shot.png", picture_bytes(4), content_type="image/png")],
    )
    automated = Report.objects.get(channel=ReportChannel.AUTOMATED)
    assert automated.target == target and automated.escalated
    assert BankHit.objects.get().origin == "evidence"
    target.refresh_from_db()
    assert target.state == TargetState.QUARANTINED


def test_a_confirmed_removal_in_a_bank_category_banks_the_snapshot_and_the_frames(detector, compliance):
    target = file_target()
    snapshot = clean_upload(SimpleUploadedFile("s.png", picture_bytes(5)))
    target.snapshot_file.save("s.png", ContentFile(snapshot.content))
    target.snapshot_content_type = snapshot.content_type
    target.save()
    ingest(signal(target, score="0.97", frame=picture_bytes(6)))
    report = Report.objects.get()
    [sanction] = decide(compliance, report, ActionKind.QUARANTINE_FILE, ground_type="law", ground="§184b StGB")
    entries = BankEntry.objects.filter(source=EntrySource.DECISION, sanction_id=sanction.pk).order_by("pk")
    assert [e.media_kind for e in entries] == [MediaKind.IMAGE, MediaKind.VIDEO_FRAME]
    assert {e.category for e in entries} == {"child_safety"} and all(e.added_by == compliance for e in entries)
    assert entries[0].sha256 == hash_media(snapshot.content).sha256
    # The next upload of the same picture is matched.
    clean = clean_upload(SimpleUploadedFile("again.png", picture_bytes(5)))
    again, _ = report_services.target_register(
        actor=PLATFORM,
        kind="file",
        external_id="upload-again",
        owner=None,
        title="Again",
        file_content=clean.content,
        file_content_type=clean.content_type,
    )
    assert Target.objects.get(pk=again.pk).state == TargetState.QUARANTINED


def test_a_removal_outside_the_bank_categories_banks_nothing(detector, moderator):
    target = file_target()
    ingest(signal(target, category="harassment", score="0.8", frame=picture_bytes(7)))
    decide(moderator, Report.objects.get(), ActionKind.REMOVE_CONTENT)
    assert BankEntry.objects.count() == 0


# --- a video story waiting for review -------------------------------------------------------------------


def test_a_pending_story_a_detector_scores_above_the_action_threshold_is_rejected_before_publication(
    detector, moderator
):
    from moderation.stories.models import StoryReview, StoryStatus
    from tests.test_stories import submit

    story = submit("story-signal").story
    [result] = ingest(signal(story.target, score="0.97"))
    assert result.status == ItemStatus.CREATED and result.quarantined
    story.refresh_from_db()
    assert story.status == StoryStatus.REJECTED and story.automated
    # The signal's own report is the one put before compliance, not a second one.
    assert story.report_id == result.report_id and Report.objects.count() == 1
    assert Report.objects.get().escalated
    assert "csam-classifier" in story.automated_source and "0.97" in story.automated_source
    assert OutboxEvent.objects.filter(event_type="story.rejected").count() == 1
    # Below the action threshold the story waits for a person.
    waiting = submit("story-signal-2", frame=picture_bytes(5)).story
    ingest(signal(waiting.target, key="k-2", score="0.6"))
    assert StoryReview.objects.get(pk=waiting.pk).status == StoryStatus.PENDING


def test_a_story_a_person_approved_keeps_that_verdict_whatever_a_detector_says_later(detector, moderator):
    from moderation.stories import services as stories
    from moderation.stories.models import StoryStatus
    from tests.test_stories import submit

    story = submit("story-approved").story
    stories.story_approve(actor=moderator, story_id=story.pk)
    [result] = ingest(signal(story.target, score="0.99"))
    assert result.status == ItemStatus.CREATED  # the report goes before compliance as any other
    story.refresh_from_db()
    assert story.status == StoryStatus.APPROVED and not story.automated
