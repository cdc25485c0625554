"""POST /api/hashes/check: the platform checks an upload (the file, or its hashes) against the hash bank."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest

from audit import services as audit
from audit.models import AuditEvent
from moderation.hashbank import services
from moderation.hashbank.hashing import hash_media
from tests.conftest import png_bytes
from tests.factories import ReportFactory, api_token_key, platform_key
from tests.hashbank_media import edited_bytes, picture_bytes

pytestmark = pytest.mark.django_db

URL = "/api/hashes/check"
PDQ = np.random.default_rng(1).integers(0, 256, size=32, dtype=np.uint8).tobytes().hex()
SHA = "5" * 64


@pytest.fixture
def platform():
    return {"Authorization": f"Platform {platform_key()}"}


@pytest.fixture
def bank(db):
    services.hash_list_import(
        actor=audit.SYSTEM,
        content=f"sha256,pdq,category\n{SHA},{PDQ},sex_trafficking\n".encode(),
        source_name="Partner hash list",
        file_name="partner.csv",
    )


def check(client, body, headers, url=URL):
    data = body if isinstance(body, str) else json.dumps(body)
    return client.post(url, data=data, content_type="application/json", headers=headers)


def near(pdq: str, distance: int) -> str:
    bits = np.unpackbits(np.frombuffer(bytes.fromhex(pdq), dtype=np.uint8))
    bits[:distance] ^= 1
    return np.packbits(bits).tobytes().hex()


def test_hashes_that_match_get_the_entry_without_the_media_and_an_audit_event(client, platform, bank):
    response = check(client, {"sha256": "6" * 64, "pdq": near(PDQ, 31).upper()}, platform)
    assert response.status_code == 200, response.content
    body = response.json()
    entry_id = body["matches"][0]["entry_id"]
    assert body == {
        "match": True,
        "sha256": "6" * 64,
        "pdq": near(PDQ, 31),
        "pdq_quality": None,
        "max_distance": 31,
        "matches": [
            {
                "entry_id": entry_id,
                "match_type": "pdq",
                "distance": 31,
                "category": "sex_trafficking",
                "media_kind": "image",
                "source": {"kind": "import", "name": "Partner hash list"},
            }
        ],
    }
    event = AuditEvent.objects.get(event_type="hashbank.matched")
    assert event.actor_label == "platform key chat-backend" and event.object_id == str(entry_id)


def test_an_exact_sha256_match_and_a_clean_check(client, platform, bank):
    exact = check(client, {"sha256": SHA}, platform).json()
    assert exact["match"] is True and exact["matches"][0]["match_type"] == "sha256"
    assert exact["matches"][0]["distance"] == 0
    clean = check(client, {"sha256": "7" * 64, "pdq": near(PDQ, 32)}, platform)
    assert clean.status_code == 200
    assert clean.json()["match"] is False and clean.json()["matches"] == []
    # Only the match was written down.
    assert AuditEvent.objects.filter(event_type="hashbank.matched").count() == 1


def test_an_uploaded_file_is_hashed_and_matched_by_pdq(client, platform, moderator):
    services.entry_add_from_media(
        actor=moderator, content=picture_bytes(21), category="child_safety", report=ReportFactory()
    )
    upload = edited_bytes(21)
    response = check(client, {"file": base64.b64encode(upload).decode()}, platform)
    assert response.status_code == 200, response.content
    body = response.json()
    hashes = hash_media(upload)
    assert (body["sha256"], body["pdq"], body["pdq_quality"]) == (hashes.sha256, hashes.pdq, hashes.pdq_quality)
    assert body["match"] is True
    match = body["matches"][0]
    assert match["match_type"] == "pdq" and 0 < match["distance"] <= 31
    assert match["source"] == {"kind": "decision", "name": "Report Desk moderation decision"}
    assert set(match) == {"entry_id", "match_type", "distance", "category", "media_kind", "source"}

    other = check(client, {"file": base64.b64encode(picture_bytes(22)).decode()}, platform).json()
    assert other["match"] is False


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"file": "not base64!"}, "file", "Must be the file's bytes as a base64 string."),
        ({"file": base64.b64encode(b"plain text, not a picture").decode()}, "file", "Not an image"),
        ({"file": base64.b64encode(b"%PDF-1.4\n%%EOF").decode()}, "file", "Not an image"),
        ({"file": ""}, "file", "The file is empty."),
        ({"file": 12}, "file", "Must be the file's bytes as a base64 string."),
        ({"sha256": "a" * 63}, "sha256", "Must be 64 hex digits (256 bits)."),
        ({"sha256": "a" * 65}, "sha256", "Must be 64 hex digits (256 bits)."),
        ({"sha256": 12345}, "sha256", "Must be 64 hex digits (256 bits)."),
        ({"pdq": "g" * 64}, "pdq", "Must be 64 hex digits (256 bits)."),
        ({"pdq": "ab" * 31}, "pdq", "Must be 64 hex digits (256 bits)."),
        ({"pdq": PDQ, "pdq_quality": 101}, "pdq_quality", "Ensure this value is less than or equal to 100."),
        ({"pdq": PDQ, "pdq_quality": "90"}, "pdq_quality", "Must be an integer."),
        ({"sha256": SHA, "pdq_quality": 90}, "pdq_quality", "Only with pdq."),
        ({}, "non_field_errors", "Send the file (base64), or its sha256 and/or pdq."),
        ({"file": base64.b64encode(png_bytes()).decode(), "sha256": SHA}, "non_field_errors", "Send the file"),
        ({"sha256": SHA, "md5": "0" * 32}, "md5", "Unknown field; this endpoint takes: file, sha256, pdq"),
    ],
)
def test_bad_input_is_a_400_with_a_message_for_the_field(client, platform, bank, body, field, message):
    response = check(client, body, platform)
    assert response.status_code == 400, response.content
    errors = response.json()["errors"]
    assert list(errors) == [field]
    assert errors[field][0].startswith(message)
    assert not AuditEvent.objects.filter(event_type="hashbank.matched").exists()


def test_a_body_that_is_not_a_json_object_is_refused(client, platform):
    assert check(client, "[1, 2]", platform).status_code == 400
    assert check(client, "{not json", platform).status_code == 400


def test_an_image_too_large_to_decode_is_refused_before_its_pixels(client, platform, settings):
    settings.EVIDENCE_MAX_PIXELS = 100
    response = check(client, {"file": base64.b64encode(png_bytes(size=(20, 20))).decode()}, platform)
    assert response.status_code == 400
    assert response.json()["errors"]["file"] == ["The image is too large (20×20 pixels)."]


def test_only_the_platform_key_may_check(client, user, moderator):
    body = {"sha256": SHA}
    assert check(client, body, {}).status_code == 401
    for person in (user, moderator):
        refused = check(client, body, {"Authorization": f"Token {api_token_key(person)}"})
        assert refused.status_code == 403
        assert "platform" in refused.json()["detail"]
    client.force_login(moderator)
    assert check(client, body, {}).status_code == 403
    assert check(client, body, {"Authorization": "Platform not-a-key"}).status_code == 401


def test_the_route_takes_a_trailing_slash_too(client, platform):
    assert check(client, {"sha256": SHA}, platform, url=URL + "/").status_code == 200


def test_the_schema_documents_the_check(client):
    schema = client.get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/hashes/check"]["post"]
    assert operation["security"] == [{"platformKey": []}]
    assert set(operation["responses"]) >= {"200", "400", "401", "403"}
    result = schema["components"]["schemas"]["HashCheckResult"]
    assert {"match", "matches", "max_distance"} <= set(result["properties"])
