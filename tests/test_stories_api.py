"""POST /api/stories and GET /api/stories/{storyId}: the platform holds a video story for review and
reads its verdict. Every refusal answers with its JSON error and writes nothing."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from moderation.hashbank import services as hashbank
from moderation.stories import services
from moderation.stories.models import StoryReview
from reports.categories import Category
from tests.conftest import png_bytes
from tests.factories import ReportFactory, api_token_key, platform_key
from tests.hashbank_media import edited_bytes, picture_bytes

pytestmark = pytest.mark.django_db

URL = "/api/stories"


@pytest.fixture
def platform():
    return {"Authorization": f"Platform {platform_key()}"}


def post(client, body, headers, url=URL):
    data = body if isinstance(body, str) else json.dumps(body)
    return client.post(url, data=data, content_type="application/json", headers=headers)


def story(**overrides):
    body = {
        "external_id": "story-8812",
        "title": "Sunset at the lake",
        "caption": "Best evening of the summer",
        "frame": base64.b64encode(picture_bytes(5)).decode(),
        "media_url": "https://cdn.chat.example/stories/8812.mp4",
        "submitted_at": (timezone.now() - timedelta(minutes=3)).isoformat(),
        "metadata": {"duration_seconds": 14},
    }
    body.update(overrides)
    return body


def test_a_story_is_submitted_and_its_status_read_back(client, platform, other_user):
    response = post(client, story(owner_id=other_user.pk), platform)
    assert response.status_code == 201, response.content
    body = response.json()
    saved = StoryReview.objects.get()
    assert body["story_id"] == str(saved.pk) and body["target_id"] == str(saved.target.public_id)
    assert (body["status"], body["publish"], body["category"], body["reason"]) == ("pending", False, None, None)
    assert (body["external_id"], body["owner_id"], body["created"]) == ("story-8812", other_user.pk, True)
    assert body["frame_sha256"] == saved.target.snapshot_sha256 and body["due_at"]
    assert AuditEvent.objects.filter(event_type="story.submitted").count() == 1

    status = client.get(f"{URL}/{saved.pk}", headers=platform)
    assert status.status_code == 200
    assert status.json()["status"] == "pending" and status.json()["created"] is False
    # The trailing-slash twin works too.
    assert client.get(f"{URL}/{saved.pk}/", headers=platform).status_code == 200


def test_the_status_says_the_verdict_and_never_who_decided(client, platform, moderator):
    created = post(client, story(), platform).json()
    services.story_reject(
        actor=moderator,
        story_id=created["story_id"],
        category=Category.HATE_SPEECH,
        explanation="Slurs in the caption.",
    )
    body = client.get(f"{URL}/{created['story_id']}", headers=platform).json()
    assert (body["status"], body["publish"], body["category"]) == ("rejected", False, "hate_speech")
    assert body["reason"] == "Hate speech" and body["explanation"] == "Slurs in the caption."
    assert body["automated"] is False and body["decided_at"]
    assert "moderator1" not in json.dumps(body)


def test_sending_the_same_story_again_answers_200_and_other_media_409(client, platform):
    first = post(client, story(), platform)
    again = post(client, story(), platform)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["story_id"] == first.json()["story_id"] and again.json()["created"] is False
    other = post(client, story(frame=base64.b64encode(picture_bytes(6)).decode()), platform)
    assert other.status_code == 409
    assert "already submitted" in other.json()["detail"]
    assert StoryReview.objects.count() == 1


def test_a_frame_in_the_hash_bank_is_rejected_in_the_answer(client, platform, moderator):
    hashbank.entry_add_from_media(
        actor=moderator, content=picture_bytes(21), category=Category.CHILD_SAFETY, report=ReportFactory()
    )
    response = post(client, story(frame=base64.b64encode(edited_bytes(21)).decode()), platform)
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["status"], body["automated"], body["category"]) == ("rejected", True, "child_safety")
    assert "hash bank entry" not in json.dumps(body)  # the platform hears the category, not the entry


def test_a_story_with_only_a_media_url(client, platform):
    response = post(client, story(frame=None), platform)
    assert response.status_code == 201, response.content
    assert response.json()["frame_sha256"] == ""


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (story(frame="not base64!"), "frame"),
        (story(frame=base64.b64encode(b"%PDF-1.4 not a frame").decode()), "frame"),
        (story(frame=base64.b64encode(b"GIF89a broken").decode()), "frame"),
        (story(frame=None, media_url=""), "frame"),
        (story(media_url="javascript:alert(1)"), "media_url"),
        (story(external_id="   "), "external_id"),
        (story(external_id=123), "external_id"),
        (story(owner_id=999_999), "owner_id"),
        (story(owner_id="42"), "owner_id"),
        (story(submitted_at="yesterday"), "submitted_at"),
        (story(submitted_at="2999-01-01T00:00:00Z"), "submitted_at"),
        (story(metadata=[1, 2]), "metadata"),
        (story(title="x" * 201), "title"),
        (story(publish_now=True), "publish_now"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_nothing_is_written(client, platform, body, field):
    response = post(client, body, platform)
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"], response.json()
    assert StoryReview.objects.count() == 0
    assert not AuditEvent.objects.filter(event_type__in=["story.submitted", "target.registered"]).exists()


def test_an_oversized_frame_is_refused(client, platform, settings):
    settings.EVIDENCE_MAX_BYTES = 1000
    response = post(client, story(frame=base64.b64encode(png_bytes((400, 400))).decode()), platform)
    assert response.status_code == 400 and "frame" in response.json()["errors"]


def test_a_pdf_frame_is_refused_even_when_it_is_a_valid_pdf(client, platform):
    pdf = (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF"
    )
    response = post(client, story(frame=base64.b64encode(pdf).decode()), platform)
    assert response.status_code == 400 and "frame" in response.json()["errors"]


def test_the_body_must_be_json(client, platform):
    response = client.post(
        URL, data="external_id=x", content_type="application/x-www-form-urlencoded", headers=platform
    )
    assert response.status_code == 415


def test_only_the_platform_submits_and_reads(client, platform, moderator):
    created = post(client, story(), platform).json()
    assert post(client, story(external_id="s2"), {}).status_code == 401
    assert client.get(f"{URL}/{created['story_id']}").status_code == 401
    person = {"Authorization": f"Token {api_token_key(moderator)}"}
    assert post(client, story(external_id="s2"), person).status_code == 403
    assert client.get(f"{URL}/{created['story_id']}", headers=person).status_code == 403
    assert post(client, story(external_id="s2"), {"Authorization": "Platform wrong"}).status_code == 401


def test_an_unknown_or_malformed_story_id_is_404(client, platform):
    assert client.get(f"{URL}/{uuid.uuid4()}", headers=platform).status_code == 404
    assert client.get(f"{URL}/not-a-uuid", headers=platform).status_code == 404


def test_a_frame_that_is_not_an_image_says_so(client, platform):
    for content in (b"not an image", b"%PDF-1.4 a document"):
        response = post(client, story(frame=base64.b64encode(content).decode()), platform)
        assert response.json()["errors"]["frame"] == ["A frame must be an image (PNG, JPEG, GIF or WebP)."]
