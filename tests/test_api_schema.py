"""The published schema: drf-spectacular's own check, the documentation page, and a schemathesis run
against the live schema that must find no server error and no response that breaks the schema."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import uuid
from io import StringIO

import pytest
from django.core.management import call_command

from moderation.signals.models import Detector, SignalPolicy
from reports.categories import Category
from reports.models import TargetKind
from tests.factories import ReportFactory, TargetFactory, UserFactory, api_token_key, platform_key

CONTRACT_PATHS = {
    "/api/reports": {"post"},
    "/api/reports/mine": {"get"},
    "/api/reports/{reportId}": {"get"},
    "/api/targets": {"post"},
    "/api/hashes/check": {"post"},
    "/api/stories": {"post"},
    "/api/stories/{storyId}": {"get"},
    "/api/signals": {"post"},
    "/api/admin/reports": {"get"},
    "/api/admin/reports/{reportId}": {"get"},
    "/api/admin/reports/{reportId}/review": {"post"},
    "/api/accounts/{accountId}/restrictions": {"get"},
}


def test_schema_passes_drf_spectacular_validation_without_warnings(tmp_path):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out), stdout=StringIO())
    text = out.read_text()
    assert text.startswith("openapi: 3.")
    for path in CONTRACT_PATHS:
        assert f"  {path}:" in text


@pytest.mark.django_db
def test_schema_is_served_with_every_contract_path_once(client):
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    paths = schema["paths"]
    assert {path: set(ops) for path, ops in paths.items()} == CONTRACT_PATHS
    # The trailing-slash twins work but are not listed twice.
    assert not any(path.endswith("/") for path in paths)
    schemes = schema["components"]["securitySchemes"]
    assert {"tokenAuth", "platformKey", "cookieAuth"} <= set(schemes)
    assert schema["paths"]["/api/targets"]["post"]["security"] == [{"platformKey": []}]
    # Without a trailing slash too.
    assert client.get("/api/schema?format=json").status_code == 200


@pytest.mark.django_db
def test_every_request_body_allows_only_its_documented_fields(client):
    """Each write endpoint's body refuses unknown fields (StrictSerializer), and the schema says so."""
    schema = client.get("/api/schema/?format=json").json()
    bodies = [
        operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
        for methods in schema["paths"].values()
        for operation in methods.values()
        if "requestBody" in operation
    ]
    assert sorted(bodies) == [
        "HashCheckRequest",
        "ReportCreateRequest",
        "ReviewRequest",
        "SignalBatchRequest",
        "StorySubmitRequest",
        "TargetRegisterRequest",
    ]
    for name in bodies:
        assert schema["components"]["schemas"][name]["additionalProperties"] is False, name
    filing = schema["components"]["schemas"]["ReportCreateRequest"]["properties"]
    assert {"is_pattern", "incident_at", "category"} <= set(filing)


@pytest.mark.django_db
def test_docs_page_is_self_hosted_and_keeps_the_content_security_policy(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower() and "https://" not in html
    # No inline script or style: every <script> has a src, and there is no <style> element.
    assert "<style" not in html
    assert all("src=" in tag for tag in re.findall(r"<script[^>]*>", html))
    assert "script-src 'self'" in response["Content-Security-Policy"]
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "/api/schema" in script.content.decode()
    # The sidecar's files are served by us.
    assert client.get("/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui.css").status_code == 200


# --- schemathesis against the live server ---------------------------------------------------------
# The schemathesis CLI (its examples, coverage, fuzzing and stateful phases) runs against the live
# server, signed in: a moderator's token for the people's endpoints, a platform key for the platform's. The
# documented examples name the ids below; the fixture creates them so that the examples succeed.
EXAMPLE_TARGET = uuid.UUID("3f2b9c1e-8d4a-4c61-9f0e-2a7b5d6c8e91")
EXAMPLE_REPORT = uuid.UUID("9b1d3c5e-7f2a-4b6c-8d0e-1f3a5b7c9d2e")
EXAMPLE_ACCOUNT = 42
MAX_EXAMPLES = 20
# The endpoints for the platform's servers, called with the platform key (the rest with a person's token).
PLATFORM_PATHS = ["/api/targets", "/api/hashes/check", "/api/stories", "/api/stories/{storyId}"]
# POST /api/signals answers each item in its place: an item off the schema is refused in its answer
# (200, status "refused", errors per field) while the rest of the batch goes ahead, by design
# (moderation/signals/api.py). So the negative-data check, which expects a 400 for any body off the
# schema, is off for that operation alone; a body whose shape is wrong as a whole is still a 400.
SIGNALS_PATH = "/api/signals"
# Every check but positive_data_acceptance, which expects any schema-valid body to be accepted: the
# contract requires a 400 for a well-formed but unknown target_id, which no schema can express.
EXCLUDED_CHECKS = "positive_data_acceptance"


@pytest.fixture
def api_keys(live_server, settings):
    # Hundreds of requests in seconds: the per-person and per-key limits are tested elsewhere.
    settings.REPORTS_PER_HOUR_LIMIT = 100_000
    settings.API_TOKEN_RATE = "off"
    settings.PLATFORM_KEY_RATE = "off"
    moderator = UserFactory(username="st_moderator", role="moderator")
    owner = UserFactory(id=EXAMPLE_ACCOUNT, username="st_owner")
    TargetFactory(public_id=EXAMPLE_TARGET, kind=TargetKind.MESSAGE, owner=owner)
    for kind in TargetKind.values:
        TargetFactory(kind=kind, owner=owner)
    ReportFactory(id=EXAMPLE_REPORT, category=Category.HARASSMENT, target__owner=owner)
    ReportFactory.create_batch(3, reporter=moderator, target__owner=owner)
    # The detectors the signals endpoint's examples name, with catch-all policies.
    for name in ("nudity-classifier", "age-estimator"):
        detector = Detector.objects.create(name=name)
        SignalPolicy.objects.create(detector=detector, floor="0.2", review_threshold="0.5")
    return {"person": f"Token {api_token_key(moderator)}", "platform": f"Platform {platform_key()}"}


@pytest.fixture
def fast_live_server(live_server, monkeypatch):
    """The live server with Nagle's algorithm off on its connections.

    Django's test server writes a response's headers and body in separate small sends; with Nagle
    on, the body waits for the client's delayed ACK (40 ms a request), which would make the run
    three times slower than the application.
    """
    httpd = live_server.thread.httpd
    accept = httpd.get_request

    def get_request():
        connection, address = accept()
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return connection, address

    monkeypatch.setattr(httpd, "get_request", get_request)
    return live_server


@pytest.mark.django_db(transaction=True)
def test_schemathesis_run_finds_no_server_error_and_no_response_off_the_schema(fast_live_server, api_keys, tmp_path):
    live_server = fast_live_server
    config = tmp_path / "schemathesis.toml"
    config.write_text(
        # Every check but positive_data_acceptance (EXCLUDED_CHECKS), set here rather than on the
        # command line, where it would override the one operation's own setting below.
        f"[checks]\nenabled = true\n{EXCLUDED_CHECKS}.enabled = false\n\n"
        "[[operations]]\n"
        f"include-path = {json.dumps(PLATFORM_PATHS)}\n"
        f'headers = {{ Authorization = "{api_keys["platform"]}" }}\n'
        "\n[[operations]]\n"
        f'include-path = "{SIGNALS_PATH}"\n'
        f'headers = {{ Authorization = "{api_keys["platform"]}" }}\n'
        "checks.negative_data_rejection.enabled = false\n"
        "\n[[operations]]\n"
        f"exclude-path = {json.dumps([*PLATFORM_PATHS, SIGNALS_PATH])}\n"
        f'headers = {{ Authorization = "{api_keys["person"]}" }}\n'
    )
    report_path = tmp_path / "report.json"
    command = [
        *(sys.executable, "-m", "schemathesis.cli"),
        *("--config-file", str(config), "run", f"{live_server.url}/api/schema/?format=json"),
        *("--max-examples", str(MAX_EXAMPLES), "--seed", "20261121", "--workers", "1"),
        *("--generation-database", "none", "--no-color", "--request-timeout", "20"),
        *("--report", "json", "--report-json-path", str(report_path)),
    ]
    run = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=tmp_path)  # noqa: S603
    output = run.stdout[-6000:] + run.stderr[-2000:]
    report = json.loads(report_path.read_text())
    assert report["complete"] and report["stop_reason"] == "completed", output
    assert report["operations"]["tested"] == len(CONTRACT_PATHS) == report["operations"]["total"], output
    assert report["errors"] == [], output
    assert report["failures"] == [], output
    assert run.returncode == 0, output
    assert report["test_cases"]["generated"] >= 200, output
    # It was signed in and reached the endpoints' logic, not only the authentication layer.
    warnings = report["warnings"]
    assert not warnings["missing_auth"] and not warnings["rate_limited"], output
    phases = ", ".join(f"{name} {phase['status']}" for name, phase in report["phases"].items())
    print(
        f"schemathesis: {report['operations']['tested']} operations, "
        f"{report['test_cases']['generated']} test cases, {len(report['failures'])} failures ({phases})"
    )
