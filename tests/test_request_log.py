"""One log line per request (config/requestlog.py): JSON in production with the request id, method,
route, status, duration and account id, and nothing personal; the request id taken from
X-Request-ID when it is a UUID, returned in the response, and carried by the audit events the
request wrote (audit/correlation.py). The JSON lines are read from a real gunicorn's output.
"""

from __future__ import annotations

import json
import logging
import uuid

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.urls import reverse
from pythonjsonlogger.json import JsonFormatter

from audit.models import AuditEvent
from moderation.enforcement.models import Sanction
from reports.categories import Category
from reports.models import Report
from tests.factories import PASSWORD, ReportFactory, TargetFactory, UserFactory
from tests.harness import AppServer, Http, app_environment, database_url, free_port
from tests.test_enforcement import decide

REASON = "The man in the lobby (zelda.private@example.test) keeps sending xyzzy threats."


def production_json(record: logging.LogRecord) -> dict:
    """The record as the production formatter (settings.LOGGING's "json") writes it."""
    options = {key: value for key, value in django_settings.LOGGING["formatters"]["json"].items() if key != "()"}
    return json.loads(JsonFormatter(**options).format(record))


def request_lines(caplog) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == "reportdesk.request"]


@pytest.mark.django_db
def test_a_request_logs_one_json_line_with_its_id_route_status_time_and_account(client, caplog, other_user):
    reporter = UserFactory(username="zelda_reporter_4711", email="zelda.private@example.test")
    target = TargetFactory(owner=other_user)
    client.force_login(reporter)
    given = uuid.uuid4()
    with caplog.at_level(logging.INFO, logger="reportdesk.request"):
        response = client.post(
            f"/report/new/?target={target.public_id}",
            {"category": Category.HARASSMENT, "reason": REASON, "good_faith": "on"},
            HTTP_X_REQUEST_ID=str(given),
        )
    assert response.status_code == 302 and Report.objects.filter(reporter=reporter).exists()
    assert response["X-Request-ID"] == str(given)
    [record] = request_lines(caplog)
    line = production_json(record)
    assert {key: line[key] for key in ("request_id", "method", "route", "status", "user_id", "level")} == {
        "request_id": str(given),
        "method": "POST",
        "route": "reports:new",
        "status": 302,
        "user_id": reporter.pk,
        "level": "INFO",
    }
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] > 0
    text = json.dumps(line)
    for personal in ("zelda", "xyzzy", "lobby", str(target.public_id), "example.test"):
        assert personal not in text, personal


@pytest.mark.django_db
def test_a_request_id_that_is_not_a_uuid_is_replaced(client):
    for sent in ("not-a-uuid", "x" * 5000, "{12345678-1234-1234-1234-123456789012}", "<script>"):
        answered = client.get("/", HTTP_X_REQUEST_ID=sent)["X-Request-ID"]
        assert answered != sent and uuid.UUID(answered).version == 4
    # A UUID without dashes (nginx's $request_id) is taken, in the canonical form.
    assert client.get("/", HTTP_X_REQUEST_ID="0123456789abcdef0123456789abcdef")["X-Request-ID"] == str(
        uuid.UUID("0123456789abcdef0123456789abcdef")
    )


@pytest.mark.django_db
def test_anonymous_requests_and_unknown_paths_log_no_account_and_no_path(client, caplog):
    with caplog.at_level(logging.INFO, logger="reportdesk.request"):
        client.get(f"/appeal/{'s' * 40}:secret-token/")
        client.get("/no/such/page/12345/")
    lines = [production_json(record) for record in request_lines(caplog)]
    assert [(line["route"], line["status"], line["user_id"]) for line in lines] == [
        ("enforcement:appeal_link", 404, None),
        ("unmatched", 404, None),
    ]
    assert "secret-token" not in json.dumps(lines) and "12345" not in json.dumps(lines)


@pytest.mark.django_db
def test_healthy_probes_are_not_logged(client, caplog):
    with caplog.at_level(logging.INFO, logger="reportdesk.request"):
        client.get("/healthz")
        client.get("/readyz")
    assert request_lines(caplog) == []


@pytest.mark.django_db
def test_the_audit_events_of_a_request_carry_its_request_id(client, user, other_user, moderator):
    target = TargetFactory(owner=other_user)
    client.force_login(user)
    filing = uuid.uuid4()
    client.post(
        f"/report/new/?target={target.public_id}",
        {"category": Category.HARASSMENT, "reason": "Insults every evening.", "good_faith": "on"},
        HTTP_X_REQUEST_ID=str(filing),
    )
    report = Report.objects.get(reporter=user)
    assert AuditEvent.objects.get(event_type="report.created").correlation_id == filing

    # A review of the report and of the other open reports on its target: one batch, which in a
    # request is the request (its log line and its events are found with one id).
    second = ReportFactory(target=target)
    client.force_login(moderator)
    response = client.post(
        reverse("moderation:review", args=[report.pk]),
        {"status": "reviewed", "expected_status": "pending", "apply_to_target": "on"},
    )
    reviewed = dict(AuditEvent.objects.filter(event_type="report.reviewed").values_list("object_id", "correlation_id"))
    assert reviewed == {
        str(report.pk): uuid.UUID(response["X-Request-ID"]),
        str(second.pk): uuid.UUID(response["X-Request-ID"]),
    }

    # Outside a request nothing is bound: a decision's own id (passed explicitly) is its correlation.
    decide(moderator, ReportFactory(), "remove_content")
    sanction = Sanction.objects.get()
    assert AuditEvent.objects.get(event_type="sanction.applied").correlation_id == sanction.decision_id


@pytest.mark.django_db(transaction=True)
def test_gunicorn_writes_one_json_line_per_request_and_nothing_personal(tmp_path, settings):
    # The server checks passwords with Django's default hashers, not the tests' fast MD5 one.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    reporter = UserFactory(username="zelda_reporter_4711", email="zelda.private@example.test")
    report = ReportFactory(reporter=reporter, reason=REASON)
    log = tmp_path / "app.log"
    env = app_environment(
        database_url=database_url(connection.settings_dict),
        var_dir=tmp_path / "var",
        LOG_FORMAT="json",
        LOG_LEVEL="INFO",
    )
    given = uuid.uuid4()
    with AppServer(port=free_port(range(8300, 8350)), env=env, workers=1, log_path=log) as server:
        http = Http(server.url)
        http.sign_in(reporter.username, PASSWORD)
        answer = http.get(f"/report/{report.pk}/", headers={"X-Request-ID": str(given)})
        assert answer.status == 200 and answer.headers["x-request-id"] == str(given)
    lines = []
    for raw in log.read_text().splitlines():
        try:
            lines.append(json.loads(raw))
        except ValueError:
            continue  # gunicorn's own start and stop lines
    ours = [line for line in lines if line.get("request_id") == str(given)]
    assert len(ours) == 1
    assert ours[0]["logger"] == "reportdesk.request" and ours[0]["route"] == "reports:detail"
    assert ours[0]["status"] == 200 and ours[0]["user_id"] == reporter.pk and ours[0]["method"] == "GET"
    requests = [line for line in lines if line.get("logger") == "reportdesk.request"]
    assert len(requests) >= 3  # the start-up probe, the sign-in page and post, the report page
    everything = log.read_text()
    for personal in ("zelda", "xyzzy", str(report.pk), "example.test"):
        assert personal not in everything, personal
