"""POST /api/signals: a batch of machine detections from the platform, answered per item, and every
refusal (bad score, unknown source, oversized batch, bad base64, duplicate idempotency key)."""

from __future__ import annotations

import base64
import json
from decimal import Decimal

import pytest

from audit.models import AuditEvent
from moderation.signals.models import AutomatedCase, Detector, Signal, SignalPolicy
from moderation.signals.services import BATCH_MAX
from reports.models import Evidence, Report, ReportChannel, Target, TargetState
from tests.conftest import png_bytes
from tests.factories import TargetFactory, api_token_key, platform_key

pytestmark = pytest.mark.django_db

URL = "/api/signals"


@pytest.fixture
def platform():
    return {"Authorization": f"Platform {platform_key()}"}


@pytest.fixture
def detector():
    detector = Detector.objects.create(name="nudity-net")
    SignalPolicy.objects.create(detector=detector, category="", floor=Decimal("0.2"), review_threshold=Decimal("0.6"))
    SignalPolicy.objects.create(
        detector=detector,
        category="child_safety",
        floor=Decimal("0.1"),
        review_threshold=Decimal("0.5"),
        action_threshold=Decimal("0.9"),
    )
    return detector


@pytest.fixture
def target():
    return TargetFactory(kind="file", external_id="file-1")


def item(on=None, **overrides):
    body = {
        "idempotency_key": "k-1",
        "source": {"name": "nudity-net", "version": "3.1"},
        "category": "non_consensual",
        "score": 0.8,
        "labels": ["explicit"],
    }
    if on is not None:
        body["target_id"] = str(on.public_id)
    body.update(overrides)
    return body


def send(client, signals, headers, url=URL):
    body = signals if isinstance(signals, str | dict) else {"signals": signals}
    data = body if isinstance(body, str) else json.dumps(body)
    return client.post(url, data=data, content_type="application/json", headers=headers)


def test_a_signal_above_review_opens_an_automated_report_with_no_reporter(client, platform, detector, target):
    response = send(client, [item(target)], platform)
    assert response.status_code == 200, response.content
    result = response.json()["results"][0]
    assert result["status"] == "created"
    assert response.json()["counts"] == {"created": 1}
    report = Report.objects.get()
    assert str(report.pk) == result["report_id"]
    assert report.channel == ReportChannel.AUTOMATED and report.reporter is None
    assert report.category == "non_consensual" and report.status == "pending"
    signal = Signal.objects.get()
    assert (signal.detector, signal.detector_version, signal.score, signal.labels) == (
        detector,
        "3.1",
        Decimal("0.8000"),
        ["explicit"],
    )
    assert signal.report == report and signal.outcome == "created"
    case = AutomatedCase.objects.get(report=report)
    assert (case.top_source, case.top_score, case.signal_count) == ("nudity-net 3.1", Decimal("0.8"), 1)
    received = AuditEvent.objects.get(event_type="signal.received")
    assert received.object_id == str(signal.pk)
    assert received.actor_label == "platform key chat-backend"
    assert received.after["score"] == "0.8000" and received.after["outcome"] == "created"
    created = AuditEvent.objects.get(event_type="report.created")
    assert created.object_id == str(report.pk) and created.data["channel"] == "automated"


def test_a_second_signal_merges_into_the_open_automated_report(client, platform, detector, target):
    send(client, [item(target, score=0.7)], platform)
    response = send(
        client,
        [item(target, idempotency_key="k-2", score=0.95, source={"name": "nudity-net", "version": "3.2"})],
        platform,
    )
    result = response.json()["results"][0]
    assert result["status"] == "merged"
    report = Report.objects.get()
    assert Signal.objects.filter(report=report).count() == 2
    case = AutomatedCase.objects.get(report=report)
    assert (case.signal_count, case.top_score, case.top_source) == (2, Decimal("0.95"), "nudity-net 3.2")
    assert AuditEvent.objects.filter(event_type="report.signal_merged", object_id=str(report.pk)).count() == 1


def test_a_higher_score_puts_the_report_earlier_within_its_deadline(client, platform, detector):
    low, high = TargetFactory(kind="file"), TargetFactory(kind="file")
    send(client, [item(low, score=0.6), item(high, idempotency_key="k-2", score=1.0)], platform)
    low_report, high_report = Report.objects.get(target=low), Report.objects.get(target=high)
    assert high_report.due_at < low_report.due_at
    # Within the deadline: never later than the category's own (7 days for non-consensual? critical: 24h).
    window = low_report.due_at - low_report.created_at
    assert (high_report.due_at - high_report.created_at) < window
    assert (high_report.due_at - high_report.created_at) >= window / 2 - window / 100


def test_below_the_floor_a_signal_is_only_kept(client, platform, detector, target):
    response = send(client, [item(target, score=0.1)], platform)
    result = response.json()["results"][0]
    assert result["status"] == "kept" and result["report_id"] is None
    assert Report.objects.count() == 0
    assert Signal.objects.get().outcome == "kept"
    assert AuditEvent.objects.filter(event_type="signal.received").count() == 1


def test_between_floor_and_review_a_signal_joins_an_open_report_but_never_opens_one(client, platform, detector, target):
    first = send(client, [item(target, score=0.3)], platform).json()["results"][0]
    assert first["status"] == "kept" and Report.objects.count() == 0
    send(client, [item(target, idempotency_key="k-2", score=0.9)], platform)
    third = send(client, [item(target, idempotency_key="k-3", score=0.3)], platform).json()["results"][0]
    assert third["status"] == "merged"
    assert Signal.objects.get(idempotency_key="k-3").report == Report.objects.get()


def test_a_target_can_be_registered_on_the_fly(client, platform, detector):
    body = item(
        target={
            "kind": "video_session",
            "external_id": "session-9",
            "title": "Live 9",
            "file": base64.b64encode(png_bytes()).decode(),
        }
    )
    response = send(client, [body], platform)
    result = response.json()["results"][0]
    assert result["status"] == "created", result
    target = Target.objects.get(external_id="session-9")
    assert str(target.public_id) == result["target_id"]
    assert target.snapshot_sha256 and target.title == "Live 9"
    assert AuditEvent.objects.filter(event_type="target.registered", object_id=str(target.public_id)).exists()
    # Sent again (new key): the same target, not a second one.
    again = send(client, [{**body, "idempotency_key": "k-2"}], platform).json()["results"][0]
    assert again["target_id"] == result["target_id"] and again["status"] == "merged"


def test_a_frame_becomes_the_reports_evidence(client, platform, detector, target):
    frame = base64.b64encode(png_bytes(exif=True)).decode()
    result = send(client, [item(target, evidence=frame)], platform).json()["results"][0]
    evidence = Evidence.objects.get(report_id=result["report_id"])
    assert evidence.content_type == "image/png" or evidence.content_type == "image/jpeg"
    assert Signal.objects.get().evidence == evidence


# --- refusals -----------------------------------------------------------------------------------------


def refusal(response, index=0):
    assert response.status_code == 200, response.content
    result = response.json()["results"][index]
    assert result["status"] == "refused"
    return result["errors"]


@pytest.mark.parametrize("score", [1.5, -0.1, "0.9", None, True])
def test_a_bad_score_is_refused(client, platform, detector, target, score):
    errors = refusal(send(client, [item(target, score=score)], platform))
    assert "score" in errors
    assert Signal.objects.count() == 0 and Report.objects.count() == 0


def test_an_unknown_source_is_refused(client, platform, detector, target):
    errors = refusal(send(client, [item(target, source={"name": "mystery", "version": "1"})], platform))
    assert errors == {"source": ["Unknown source 'mystery': no active detector has this name."]}
    assert Signal.objects.count() == 0


def test_an_inactive_detector_is_an_unknown_source(client, platform, detector, target):
    Detector.objects.filter(pk=detector.pk).update(active=False)
    assert "source" in refusal(send(client, [item(target)], platform))


def test_a_category_without_a_policy_is_refused(client, platform, target):
    Detector.objects.create(name="nudity-net")
    assert "category" in refusal(send(client, [item(target)], platform))


def test_bad_base64_is_refused_in_its_place_and_the_others_go_ahead(client, platform, detector, target):
    response = send(
        client,
        [item(target, evidence="not base64!"), item(target, idempotency_key="k-2")],
        platform,
    )
    errors = refusal(response, 0)
    assert errors == {"evidence": ["Must be the file's bytes as a base64 string."]}
    assert response.json()["results"][1]["status"] == "created"
    assert Signal.objects.get().idempotency_key == "k-2"


def test_a_file_that_is_not_an_image_or_pdf_is_refused(client, platform, detector, target):
    errors = refusal(
        send(client, [item(target, evidence=base64.b64encode(b"MZ\x90\x00 not a picture").decode())], platform)
    )
    assert "evidence" in errors


def test_a_duplicate_idempotency_key_stores_nothing_new(client, platform, detector, target):
    first = send(client, [item(target)], platform).json()["results"][0]
    response = send(client, [item(target, score=0.99)], platform)
    again = response.json()["results"][0]
    assert again["status"] == "duplicate"
    assert (again["signal_id"], again["report_id"]) == (first["signal_id"], first["report_id"])
    assert Signal.objects.count() == 1
    assert AuditEvent.objects.filter(event_type="signal.received").count() == 1


def test_a_duplicate_key_within_one_batch(client, platform, detector, target):
    results = send(client, [item(target), item(target)], platform).json()["results"]
    assert [r["status"] for r in results] == ["created", "duplicate"]
    assert results[1]["signal_id"] == results[0]["signal_id"]
    assert Signal.objects.count() == 1


def test_an_oversized_batch_is_a_400_and_stores_nothing(client, platform, detector, target):
    signals = [item(target, idempotency_key=f"k-{n}") for n in range(BATCH_MAX + 1)]
    response = send(client, signals, platform)
    assert response.status_code == 400
    assert "signals" in response.json()["errors"]
    assert Signal.objects.count() == 0


@pytest.mark.parametrize("body", ['{"signals": []}', '{"signals": {}}', "[]", '{"signal": []}'])
def test_a_malformed_batch_is_a_400(client, platform, body):
    assert send(client, body, platform).status_code == 400


def test_an_unknown_field_in_an_item_is_refused(client, platform, detector, target):
    errors = refusal(send(client, [item(target, scroe=0.5)], platform))
    assert "scroe" in errors


def test_target_id_and_target_are_one_or_the_other(client, platform, detector, target):
    assert "target" in refusal(send(client, [item()], platform))
    both = item(target, target={"kind": "file", "external_id": "x"})
    assert "target" in refusal(send(client, [both], platform))


def test_an_unknown_target_id_is_refused(client, platform, detector):
    body = item(target_id="3f2b9c1e-8d4a-4c61-9f0e-2a7b5d6c8e91")
    assert "target" in refusal(send(client, [body], platform))


def test_people_cannot_send_signals(client, user, detector, target):
    response = send(client, [item(target)], {"Authorization": f"Token {api_token_key(user)}"})
    assert response.status_code == 403
    assert send(client, [item(target)], {}).status_code in (401, 403)


def test_the_trailing_slash_is_accepted(client, platform, detector, target):
    assert send(client, [item(target)], platform, url=URL + "/").status_code == 200


def test_the_schema_documents_the_endpoint(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    operation = schema["paths"]["/api/signals"]["post"]
    assert operation["operationId"] == "signals_ingest"
    assert operation["security"] == [{"platformKey": []}]
    assert "SignalItem" in json.dumps(schema["components"]["schemas"])


def test_target_state_stays_visible_below_the_action_threshold(client, platform, detector, target):
    send(client, [item(target, category="child_safety", score=0.8)], platform)
    target.refresh_from_db()
    assert target.state == TargetState.VISIBLE
    report = Report.objects.get()
    # Zero-tolerance categories go to compliance from the start, quarantine or not.
    assert report.escalated
