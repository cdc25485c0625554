"""POST /api/targets: the platform's server registers or updates targets, idempotent on its own id."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import timedelta

import pytest

from audit.models import AuditEvent
from reports.models import Target, TargetKind
from tests.conftest import png_bytes
from tests.factories import ReportFactory, api_token_key, platform_key
from tests.hashbank_media import edited_bytes, picture_bytes

pytestmark = pytest.mark.django_db

URL = "/api/targets"


@pytest.fixture
def platform():
    return {"Authorization": f"Platform {platform_key()}"}


def register(client, body, headers, url=URL):
    data = body if isinstance(body, str) else json.dumps(body)
    return client.post(url, data=data, content_type="application/json", headers=headers)


def message(**overrides):
    body = {
        "kind": "message",
        "external_id": "msg-1001",
        "title": "Message in #lobby",
        "text": "you are pathetic, log off",
        "metadata": {"room": "lobby", "sent_at": "2026-11-21T20:15:00Z"},
    }
    body.update(overrides)
    return body


def test_registering_a_target_returns_201_and_its_public_id(client, platform, other_user):
    response = register(client, message(owner_id=other_user.pk), platform)
    assert response.status_code == 201, response.content
    body = response.json()
    target = Target.objects.get()
    assert body["target_id"] == str(target.public_id)
    assert body["created"] is True
    assert (body["kind"], body["external_id"], body["owner_id"]) == ("message", "msg-1001", other_user.pk)
    assert target.snapshot_text == "you are pathetic, log off"
    assert target.metadata == {"room": "lobby", "sent_at": "2026-11-21T20:15:00Z"}
    event = AuditEvent.objects.get(event_type="target.registered")
    assert event.object_id == str(target.public_id)
    assert event.actor is None and event.actor_label == "platform key chat-backend"


def test_registration_is_idempotent_on_the_platforms_id(client, platform):
    first = register(client, message(), platform).json()
    again = register(client, message(title="Edited message", metadata={"room": "lobby", "edited": True}), platform)
    assert again.status_code == 200
    body = again.json()
    assert body["target_id"] == first["target_id"] and body["created"] is False
    assert Target.objects.count() == 1
    target = Target.objects.get()
    assert target.title == "Edited message" and target.metadata["edited"] is True
    assert target.snapshot_text == "you are pathetic, log off"
    assert AuditEvent.objects.filter(event_type="target.registered").count() == 2
    # The same id for another kind is another target; the trailing slash works too.
    other = register(client, message(kind="file"), platform, url=URL + "/")
    assert other.status_code == 201 and other.json()["target_id"] != first["target_id"]


def test_a_reported_targets_snapshot_is_evidence_and_is_kept(client, platform):
    register(client, message(), platform)
    ReportFactory(target=Target.objects.get())
    register(client, message(text="(deleted by the author)"), platform)
    assert Target.objects.get().snapshot_text == "you are pathetic, log off"


def test_a_file_snapshot_is_checked_and_hashed(client, platform):
    body = message(kind="file", external_id="file-7", file=base64.b64encode(png_bytes()).decode())
    response = register(client, body, platform)
    assert response.status_code == 201, response.content
    target = Target.objects.get()
    assert target.snapshot_content_type == "image/png"
    with target.snapshot_file.open("rb") as stored:
        assert hashlib.sha256(stored.read()).hexdigest() == target.snapshot_sha256 == response.json()["snapshot_sha256"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"kind": "comment"}, "kind"),
        ({"kind": None}, "kind"),
        ({"external_id": ""}, "external_id"),
        ({"external_id": "   "}, "external_id"),
        ({"external_id": 7}, "external_id"),
        ({"external_id": "x" * 129}, "external_id"),
        ({"owner_id": 999_999}, "owner_id"),
        ({"owner_id": "5"}, "owner_id"),
        ({"owner_id": 0}, "owner_id"),
        ({"owner_id": 2**70}, "owner_id"),
        ({"title": "t" * 201}, "title"),
        ({"text": "t" * 20_001}, "text"),
        ({"metadata": []}, "metadata"),
        ({"metadata": "room=lobby"}, "metadata"),
        ({"metadata": {"note": "nul \x00"}}, "metadata"),
        ({"metadata": {"big": "x" * 20_000}}, "metadata"),
        ({"file": "not base64!"}, "file"),
        ({"file": base64.b64encode(b"<html><script>alert(1)</script></html>").decode()}, "file"),
        ({"file": 12}, "file"),
        ({"owner": 5}, "owner"),
    ],
)
def test_bad_registrations_are_a_400_per_field_and_store_nothing(client, platform, change, field):
    events = AuditEvent.objects.count()
    response = register(client, message(**change), platform)
    assert response.status_code == 400, response.content
    assert response.json()["errors"][field]
    assert Target.objects.count() == 0 and AuditEvent.objects.count() == events


def test_missing_fields_and_non_objects(client, platform):
    body = register(client, {}, platform).json()
    assert set(body["errors"]) == {"kind", "external_id"}
    for raw in ("[]", "null", "{"):
        assert register(client, raw, platform).status_code == 400
    assert Target.objects.count() == 0


def test_only_a_platform_key_registers_targets(client, user):
    assert register(client, message(), {}).status_code == 401
    assert register(client, message(), {"Authorization": f"Token {api_token_key(user)}"}).status_code == 403
    assert register(client, message(), {"Authorization": "Platform rdp_not-a-real-key"}).status_code == 401
    client.force_login(user)
    assert register(client, message(), {}).status_code == 403
    assert Target.objects.count() == 0


def test_per_key_rate_is_429_with_retry_after(client, settings, platform):
    settings.PLATFORM_KEY_RATE = "2/minute"
    assert register(client, message(external_id="a"), platform).status_code == 201
    assert register(client, message(external_id="b"), platform).status_code == 201
    response = register(client, message(external_id="c"), platform)
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert Target.objects.count() == 2


def test_a_registered_target_can_then_be_reported(client, platform, user, other_user):
    target_id = register(client, message(kind=TargetKind.PROFILE, owner_id=other_user.pk), platform).json()["target_id"]
    response = client.post(
        "/api/reports",
        data=json.dumps({"report_type": "profile", "target_id": target_id, "reason": "Fake profile of me."}),
        content_type="application/json",
        headers={"Authorization": f"Token {api_token_key(user)}"},
    )
    assert response.status_code == 201, response.content
    assert response.json()["target_id"] == target_id


# --- a video story held for review before publication (review_before_publication) ---------------------


def held_story(**overrides):
    body = {
        "kind": "video_story",
        "external_id": "story-9001",
        "title": "Sunset at the lake",
        "text": "Best evening of the summer",
        "file": base64.b64encode(picture_bytes(31)).decode(),
        "metadata": {"duration_seconds": 14},
        "review_before_publication": True,
    }
    body.update(overrides)
    return body


def test_a_video_story_registered_for_review_waits_in_the_pre_publication_queue(client, platform, other_user, settings):
    from moderation.stories.models import StoryReview, StoryStatus
    from moderation.stories.selectors import stories_in

    response = register(client, held_story(owner_id=other_user.pk), platform)
    assert response.status_code == 201, response.content
    body = response.json()
    story = StoryReview.objects.select_related("target").get()
    assert body["target_id"] == str(story.target.public_id) and body["created"] is True
    assert (body["kind"], body["external_id"], body["owner_id"]) == ("video_story", "story-9001", other_user.pk)
    assert body["review"]["story_id"] == str(story.pk) and body["review"]["status"] == StoryStatus.PENDING
    assert story.due_at - story.received_at == timedelta(hours=settings.STORY_REVIEW_HOURS)
    assert body["review"]["due_at"].startswith(story.due_at.strftime("%Y-%m-%dT%H:%M:%S"))
    # The stories' own submission: its caption, its re-encoded frame, its audit event, its queue.
    assert story.target.snapshot_text == "Best evening of the summer" and story.target.snapshot_file
    assert AuditEvent.objects.filter(event_type="story.submitted", object_id=str(story.pk)).count() == 1
    assert list(stories_in(StoryStatus.PENDING)) == [story]
    # The platform reads it back like any story, and POST /api/stories with the same frame finds it.
    status = client.get(f"/api/stories/{story.pk}", headers=platform).json()
    assert (status["status"], status["target_id"]) == ("pending", body["target_id"])
    same = client.post(
        "/api/stories",
        data=json.dumps({"external_id": "story-9001", "frame": held_story()["file"]}),
        content_type="application/json",
        headers=platform,
    )
    assert same.status_code == 200 and same.json()["story_id"] == str(story.pk)


def test_the_same_story_again_answers_200_and_other_media_409(client, platform):
    first = register(client, held_story(), platform)
    again = register(client, held_story(), platform)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["review"]["story_id"] == first.json()["review"]["story_id"]
    assert again.json()["created"] is False
    other = register(client, held_story(file=base64.b64encode(picture_bytes(32)).decode()), platform)
    assert other.status_code == 409 and "reviewed once" in other.json()["detail"]


def test_a_story_whose_frame_is_in_the_hash_bank_is_rejected_in_the_answer(client, platform, moderator):
    from moderation.hashbank import services as hashbank

    hashbank.entry_add_from_media(
        actor=moderator, content=picture_bytes(33), category="child_safety", report=ReportFactory()
    )
    response = register(client, held_story(file=base64.b64encode(edited_bytes(33)).decode()), platform)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["review"]["status"] == "rejected" and body["state"] == "quarantined"
    assert "hash bank entry" not in json.dumps(body)


PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF"
)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"kind": "message"}, "review_before_publication"),
        ({"kind": "file"}, "review_before_publication"),
        ({"file": None}, "file"),
        ({"file": base64.b64encode(PDF).decode()}, "file"),
        ({"review_before_publication": "yes"}, "review_before_publication"),
        ({"review_before_publication": 1}, "review_before_publication"),
    ],
)
def test_a_review_asked_wrongly_is_a_400_and_holds_nothing(client, platform, change, field):
    from moderation.stories.models import StoryReview

    events = AuditEvent.objects.count()
    response = register(client, held_story(**change), platform)
    assert response.status_code == 400, response.content
    assert response.json()["errors"][field]
    assert not StoryReview.objects.exists() and Target.objects.count() == 0 and AuditEvent.objects.count() == events


def test_without_the_flag_a_video_story_is_registered_as_before(client, platform):
    from moderation.stories.models import StoryReview

    body = held_story()
    del body["review_before_publication"]
    response = register(client, body, platform)
    assert response.status_code == 201 and response.json()["review"] is None
    off = register(client, held_story(external_id="story-9002", review_before_publication=False), platform)
    assert off.status_code == 201 and off.json()["review"] is None
    assert not StoryReview.objects.exists() and Target.objects.count() == 2
