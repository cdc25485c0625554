"""POST /api/reports, GET /api/reports/mine and /api/reports/{id}: the contract field by field, the
limits at their edges, bad input of every kind (400, nothing stored), and the rate limits."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.models import AuditEvent
from reports.categories import Category, Severity
from reports.models import Report, ReportChannel, ReportStatus, TargetKind, TargetState
from tests.factories import (
    AccountStandingFactory,
    ReportFactory,
    TargetFactory,
    UserFactory,
    api_token_key,
    platform_key,
)

pytestmark = pytest.mark.django_db

URL = "/api/reports"


@pytest.fixture
def target(other_user):
    return TargetFactory(kind=TargetKind.MESSAGE, owner=other_user)


@pytest.fixture
def auth(user):
    return {"Authorization": f"Token {api_token_key(user)}"}


def post(client, body, headers, url=URL):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(url, data=data, content_type="application/json", headers=headers)


def valid(target, **overrides):
    body = {"report_type": "message", "target_id": str(target.public_id), "reason": "He insults me every day."}
    body.update(overrides)
    return body


class Nothing:
    """Counts reports and audit events before and after: a refused request stores nothing."""

    def __enter__(self):
        self.counts = (Report.objects.count(), AuditEvent.objects.count())
        return self

    def __exit__(self, *exc):
        if exc[0] is None:
            assert (Report.objects.count(), AuditEvent.objects.count()) == self.counts


def refused(response, *fields, status=400):
    assert response.status_code == status, response.content
    body = response.json()
    assert isinstance(body["detail"], str) and body["detail"]
    for field in fields:
        messages = body["errors"][field]
        assert messages and all(isinstance(message, str) and message for message in messages)
    return body


# --- the happy path ---------------------------------------------------------------------------------


def test_filing_returns_201_with_the_report_and_ties_it_to_the_token_user(client, user, target, auth):
    before = timezone.now()
    response = post(client, valid(target, category="harassment"), auth)
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {
        "id",
        "report_type",
        "target_id",
        "reason",
        "category",
        "status",
        "created_at",
        "incident_at",
        "is_pattern",
    }
    report = Report.objects.get()
    assert body["id"] == str(report.id)
    assert body["report_type"] == "message"
    assert body["target_id"] == str(target.public_id)
    assert body["reason"] == "He insults me every day."
    assert body["category"] == "harassment"
    assert body["status"] == "pending"
    assert body["incident_at"] is None
    assert report.reporter == user
    assert report.channel == ReportChannel.API
    assert report.created_at >= before
    # The deadline comes from the category's severity (harassment: high, 7 days).
    assert report.severity == Severity.HIGH
    assert timedelta(days=7) - timedelta(minutes=1) < report.due_at - report.created_at <= timedelta(days=7)
    assert timezone.datetime.fromisoformat(body["created_at"].replace("Z", "+00:00")) == report.created_at


def test_filing_writes_a_report_created_audit_event(client, user, target, auth):
    report_id = post(client, valid(target), auth).json()["id"]
    event = AuditEvent.objects.get(event_type="report.created", object_type="report", object_id=report_id)
    assert event.actor == user
    assert event.data["channel"] == "api"
    assert event.data["target"] == str(target.public_id)
    assert event.after["status"] == "pending"


def test_category_defaults_to_other_and_critical_categories_get_24_hours(client, target, auth, other_user):
    first = post(client, valid(target), auth).json()
    assert first["category"] == Category.OTHER_TOS
    second_target = TargetFactory(kind=TargetKind.VIDEO_SESSION, owner=other_user)
    body = valid(second_target, report_type="video_session", category="violence")
    report = Report.objects.get(pk=post(client, body, auth).json()["id"])
    assert report.severity == Severity.CRITICAL
    assert report.due_at - report.created_at <= timedelta(hours=24)


def test_incident_time_is_kept(client, target, auth):
    when = (timezone.now() - timedelta(hours=3)).replace(microsecond=0)
    body = post(client, valid(target, incident_at=when.isoformat()), auth).json()
    assert Report.objects.get(pk=body["id"]).incident_at == when


def test_the_documented_optional_fields_are_all_kept(client, target, auth):
    """is_pattern, incident_at and category, together (is_pattern was dropped in silence before)."""
    when = (timezone.now() - timedelta(days=1)).replace(microsecond=0)
    response = post(client, valid(target, is_pattern=True, incident_at=when.isoformat(), category="violence"), auth)
    assert response.status_code == 201, response.content
    assert response.json()["is_pattern"] is True
    report = Report.objects.get()
    assert report.is_pattern is True and report.incident_at == when and report.category == Category.VIOLENCE


def test_is_pattern_defaults_to_false(client, target, auth):
    assert post(client, valid(target), auth).json()["is_pattern"] is False
    assert Report.objects.get().is_pattern is False


@pytest.mark.parametrize("unknown", [{"is_patern": True}, {"evidence": []}, {"severity": "low", "status": "resolved"}])
def test_an_unknown_field_is_a_400_naming_it_and_nothing_is_stored(client, target, auth, unknown):
    with Nothing():
        body = refused(post(client, valid(target, **unknown), auth), *unknown)
    assert set(body["errors"]) == set(unknown)
    assert "is_pattern" in body["errors"][next(iter(unknown))][0]  # it names what the endpoint takes


@pytest.mark.parametrize("kind", TargetKind.values)
def test_every_report_type_can_be_filed(client, auth, other_user, kind):
    target = TargetFactory(kind=kind, owner=other_user)
    response = post(client, valid(target, report_type=kind), auth)
    assert response.status_code == 201, response.content
    assert response.json()["report_type"] == kind


def test_trailing_slash_is_accepted(client, target, auth):
    assert post(client, valid(target), auth, url=URL + "/").status_code == 201


# --- limits at their edges --------------------------------------------------------------------------


@pytest.mark.parametrize("length", [1, 2000])
def test_reason_of_1_and_2000_characters_is_accepted(client, target, auth, length):
    response = post(client, valid(target, reason="x" * length), auth)
    assert response.status_code == 201, response.content
    assert len(Report.objects.get().reason) == length


@pytest.mark.parametrize("reason", ["", "x" * 2001, "   \n  "], ids=["0 chars", "2001 chars", "only spaces"])
def test_reason_of_0_or_2001_characters_is_refused_and_nothing_stored(client, target, auth, reason):
    with Nothing():
        refused(post(client, valid(target, reason=reason), auth), "reason")


def test_web_form_limit_does_not_apply_to_the_api(client, target, auth):
    # The web form stops at 1,000 characters; the platform's contract allows 2,000.
    assert post(client, valid(target, reason="y" * 1500), auth).status_code == 201


# --- bad input: every kind is a 400 with a message per field, and stores nothing ------------------


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"report_type": "comment"}, "report_type"),
        ({"report_type": ""}, "report_type"),
        ({"report_type": 1}, "report_type"),
        ({"report_type": None}, "report_type"),
        ({"target_id": "not-a-uuid"}, "target_id"),
        ({"target_id": 12345}, "target_id"),
        ({"target_id": str(uuid.uuid4())}, "target_id"),
        ({"reason": 12345}, "reason"),
        ({"reason": ["a list"]}, "reason"),
        ({"reason": None}, "reason"),
        ({"reason": "nul \x00 byte"}, "reason"),
        ({"reason": "lone \ud800 surrogate"}, "reason"),
        ({"category": "rudeness"}, "category"),
        ({"category": 3}, "category"),
        ({"incident_at": "yesterday"}, "incident_at"),
        ({"incident_at": 1700000000}, "incident_at"),
        ({"incident_at": "0001-01-01T00:00:00+05:00"}, "incident_at"),
        ({"incident_at": "9999-12-31T23:59:59-05:00"}, "incident_at"),
        ({"is_pattern": "yes"}, "is_pattern"),
        ({"is_pattern": 1}, "is_pattern"),
        ({"is_pattern": None}, "is_pattern"),
    ],
)
def test_malformed_fields_are_refused_with_a_message_for_that_field(client, target, auth, change, field):
    body = valid(target, **change)
    with Nothing():
        refused(post(client, body, auth), field)


def test_future_incident_time_is_refused(client, target, auth):
    later = (timezone.now() + timedelta(days=2)).isoformat()
    with Nothing():
        refused(post(client, valid(target, incident_at=later), auth), "incident_at")


def test_missing_fields_each_get_a_message(client, auth):
    with Nothing():
        body = refused(post(client, {}, auth), "report_type", "target_id", "reason")
    assert "category" not in body["errors"]


def test_target_of_another_kind_is_unknown(client, target, auth):
    with Nothing():
        refused(post(client, valid(target, report_type="file"), auth), "target_id")


def test_removed_target_cannot_be_reported(client, other_user, auth):
    removed = TargetFactory(owner=other_user, state=TargetState.REMOVED)
    with Nothing():
        refused(post(client, valid(removed), auth), "target_id")


@pytest.mark.parametrize(
    "raw",
    ['{"report_type": ', "not json at all", '{"reason": NaN}', '{"a": 1e999}', "[" * 100_000 + "]" * 100_000],
    ids=["truncated", "text", "NaN", "infinity", "nested too deep"],
)
def test_json_that_does_not_parse_is_a_400(client, auth, raw):
    with Nothing():
        refused(post(client, raw, auth), "non_field_errors")


@pytest.mark.parametrize("raw", ["[]", '"a string"', "42", "null", "true", '[{"report_type": "message"}]'])
def test_a_body_that_is_not_an_object_is_a_400(client, auth, raw):
    with Nothing():
        refused(post(client, raw, auth), "non_field_errors")


def test_invalid_utf8_is_a_400(client, auth):
    with Nothing():
        refused(post(client, b'{"reason": "\xff\xfe"}', auth), "non_field_errors")


def test_a_form_encoded_body_is_415(client, target, auth):
    with Nothing():
        response = client.post(URL, data=valid(target), headers=auth)
    assert response.status_code == 415
    assert "detail" in response.json()


# --- refusals by the filing rules -------------------------------------------------------------------


def test_own_content_is_refused_on_target_id(client, user, auth):
    own = TargetFactory(owner=user)
    with Nothing():
        body = refused(post(client, valid(own), auth), "target_id")
    assert "own content" in body["errors"]["target_id"][0]


def test_second_open_report_on_the_same_target_is_409(client, target, auth):
    assert post(client, valid(target), auth).status_code == 201
    with Nothing():
        response = post(client, valid(target, reason="again"), auth)
    assert response.status_code == 409
    assert "already reported" in response.json()["detail"]


def test_paused_reporter_is_403_with_the_reason(client, user, target, auth):
    AccountStandingFactory(user=user, reports_paused_until=timezone.now() + timedelta(days=10))
    with Nothing():
        response = post(client, valid(target), auth)
    assert response.status_code == 403
    assert "paused" in response.json()["detail"]


def test_per_user_limit_is_429_with_retry_after(client, settings, auth, other_user):
    settings.REPORTS_PER_HOUR_LIMIT = 2
    for _ in range(2):
        assert post(client, valid(TargetFactory(owner=other_user)), auth).status_code == 201
    with Nothing():
        response = post(client, valid(TargetFactory(owner=other_user)), auth)
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 3600
    assert "2 reports" in response.json()["detail"]


def test_per_user_limit_counts_web_and_api_together(client, settings, user, auth, other_user):
    settings.REPORTS_PER_HOUR_LIMIT = 1
    ReportFactory(reporter=user, target__owner=other_user)  # filed on the web a minute ago
    with Nothing():
        assert post(client, valid(TargetFactory(owner=other_user)), auth).status_code == 429


def test_per_token_rate_is_429_with_retry_after(client, settings, target, auth):
    settings.API_TOKEN_RATE = "2/minute"
    assert client.get(URL + "/mine", headers=auth).status_code == 200
    assert post(client, valid(target), auth).status_code == 201
    with Nothing():
        response = post(client, valid(TargetFactory(owner=target.owner)), auth)
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 60


def test_per_token_rate_is_per_token(client, settings, user):
    settings.API_TOKEN_RATE = "1/minute"
    first = {"Authorization": f"Token {api_token_key(user, 'one')}"}
    second = {"Authorization": f"Token {api_token_key(user, 'two')}"}
    assert client.get(URL + "/mine", headers=first).status_code == 200
    assert client.get(URL + "/mine", headers=first).status_code == 429
    assert client.get(URL + "/mine", headers=second).status_code == 200


# --- who may file -------------------------------------------------------------------------------------


def test_anonymous_is_401_with_www_authenticate(client, target):
    with Nothing():
        response = post(client, valid(target), {})
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Token")


def test_platform_key_cannot_file_for_nobody(client, target):
    headers = {"Authorization": f"Platform {platform_key()}"}
    with Nothing():
        response = post(client, valid(target), headers)
    assert response.status_code == 403


def test_session_needs_csrf_and_then_files(user, target):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    with Nothing():
        assert post(browser, valid(target), {}).status_code == 403  # no CSRF token
    browser.get("/account/")  # sets the CSRF cookie
    token = browser.cookies["csrftoken"].value
    response = post(browser, valid(target), {"X-CSRFToken": token})
    assert response.status_code == 201, response.content
    assert Report.objects.get().reporter == user


# --- my reports -----------------------------------------------------------------------------------------


def test_mine_lists_only_the_callers_reports_with_statuses(client, user, auth, other_user):
    mine = [
        ReportFactory(reporter=user, target__owner=other_user, status=status)
        for status in (ReportStatus.PENDING, ReportStatus.RESOLVED)
    ]
    ReportFactory(reporter=other_user)
    response = client.get(URL + "/mine", headers=auth)
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert {item["id"]: item["status"] for item in body["results"]} == {str(r.id): r.status for r in mine}
    # Never the reviewer, their notes or the internal deadline.
    assert not {"admin_notes", "reviewed_by_id", "due_at", "reporter_id"} & set(body["results"][0])
    assert client.get(URL + "/mine/", headers=auth).json()["count"] == 2


def test_mine_is_paginated(client, user, auth, other_user):
    ReportFactory.create_batch(3, reporter=user, target__owner=other_user)
    first = client.get(URL + "/mine?page_size=2", headers=auth).json()
    assert first["count"] == 3 and len(first["results"]) == 2 and first["next"]
    second = client.get(URL + "/mine?page_size=2&page=2", headers=auth).json()
    assert len(second["results"]) == 1 and second["next"] is None
    assert client.get(URL + "/mine?page=0", headers=auth).status_code == 400
    assert client.get(URL + "/mine?page_size=abc", headers=auth).status_code == 400
    assert client.get(URL + "/mine?page=9", headers=auth).status_code == 404
    for bad in ("9" * 5000, "１", "1.5", "-1"):
        assert client.get(URL + f"/mine?page={bad}", headers=auth).status_code == 400


def test_mine_costs_a_fixed_number_of_queries(client, user, auth, other_user, django_assert_max_num_queries):
    ReportFactory.create_batch(2, reporter=user, target__owner=other_user)
    with django_assert_max_num_queries(6):
        client.get(URL + "/mine", headers=auth)
    ReportFactory.create_batch(20, reporter=user, target__owner=other_user)
    with django_assert_max_num_queries(6):
        assert len(client.get(URL + "/mine", headers=auth).json()["results"]) == 22


def test_one_of_mine_and_404_for_anyone_elses(client, user, auth, other_user):
    mine = ReportFactory(reporter=user, target__owner=other_user)
    theirs = ReportFactory(reporter=other_user)
    response = client.get(f"{URL}/{mine.id}", headers=auth)
    assert response.status_code == 200 and response.json()["id"] == str(mine.id)
    assert client.get(f"{URL}/{mine.id}/", headers=auth).status_code == 200
    for missing in (theirs.id, uuid.uuid4(), "not-a-uuid"):
        response = client.get(f"{URL}/{missing}", headers=auth)
        assert response.status_code == 404
        assert response.json() == {"detail": "No such report."}


def test_a_moderator_files_and_lists_like_anyone(client, other_user):
    moderator = UserFactory(username="mod_reporter", role="moderator")
    headers = {"Authorization": f"Token {api_token_key(moderator)}"}
    assert post(client, valid(TargetFactory(owner=other_user)), headers).status_code == 201
    assert client.get(URL + "/mine", headers=headers).json()["count"] == 1


def test_filing_costs_a_fixed_number_of_queries(client, user, auth, django_assert_num_queries):
    """Token, account, standing, sign-in block and the account's chosen language (for the
    confirmation mail) in one query; then the target, and in one transaction the reporter's row
    locked, the hourly limit read under the lock, the report, its audit event and its confirmation
    mail in the outbox (savepoint, lock, read, three inserts, release). With no evidence to decode
    the limit is not read before the transaction. The attempt count is in the cache, not the
    database; the mail is delivered after the commit (not counted here)."""
    first, second = TargetFactory(), TargetFactory()
    assert post(client, valid(first), auth).status_code == 201  # the token's last_used_at is written once
    with django_assert_num_queries(9) as captured:
        assert post(client, valid(second), auth).status_code == 201
    token_query = captured.captured_queries[0]["sql"]
    assert "reports_apitoken" in token_query
    assert "enforcement_sanction" in token_query and "enforcement_accountstanding" in token_query
    assert "reports_profile" in token_query


def test_filing_reads_the_target_once_even_after_commit(client, auth, django_capture_on_commit_callbacks):
    """The target is read with a few columns; nothing after (the confirmation mail, the response)
    goes back for one it left out."""
    with django_capture_on_commit_callbacks(execute=True), CaptureQueriesContext(connection) as captured:
        assert post(client, valid(TargetFactory()), auth).status_code == 201
    assert sum('FROM "reports_target"' in query["sql"] for query in captured.captured_queries) == 1
    assert len(mail.outbox) == 1
