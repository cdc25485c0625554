"""Stored XSS, outside the browser: a case whose every free-text field, name and file name carries
script payloads (shared with tests/browser/test_xss.py, which opens every page that shows it), and
the ways its data leaves the system as files: evidence downloads, the audit CSV export and the DSA
statements of reasons. They must keep the payloads as inert text.
"""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone

from moderation import services as moderation
from moderation.enforcement import services as enforcement
from moderation.enforcement.actions import ActionKind
from moderation.enforcement.models import Appeal
from moderation.enforcement.services import ActionRequest
from reports import services as reports
from reports.categories import Category
from reports.models import InfoRequest
from tests.conftest import png_bytes
from tests.factories import TargetFactory, UserFactory

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert('xss-script')</script>"
IMG = '"><img src=x onerror=alert("xss-img")>'
ATTR = "' onmouseover=alert('xss-attr') x='"
SVG = "<svg onload=alert('xss-svg')>"
JS_URL = "javascript:alert('xss-url')"
FORMULA = '=HYPERLINK("http://evil.example","x")'


@pytest.fixture
def world(settings) -> dict:
    return hostile_case(settings)


def hostile_case(settings) -> dict:
    """Every free-text field, name and file name on a real case, written through the services."""
    settings.REPORTS_PER_HOUR_LIMIT = 100
    reporter = UserFactory(username=SCRIPT)
    second_reporter = UserFactory(username=IMG, first_name=ATTR, last_name=SVG)
    owner = UserFactory(username=FORMULA)
    moderator = UserFactory(username="mod_xss", role="moderator")
    compliance = UserFactory(username="compliance_xss", role="compliance")
    target = TargetFactory(
        owner=owner,
        title=SCRIPT,
        snapshot_text=f"{IMG} {JS_URL}",
        external_id=ATTR,
        metadata={"room": IMG, "url": JS_URL, SCRIPT: ATTR, "session_id": SVG},
    )
    report = reports.report_file(
        actor=reporter,
        target=target,
        category=Category.HARASSMENT,
        reason=f"{SCRIPT} {IMG} {ATTR}",
        evidence=[SimpleUploadedFile(f"{SVG}.png", png_bytes(), "image/png")],
    )
    second = reports.report_file(
        actor=second_reporter,
        target=target,
        category=Category.HATE_SPEECH,
        reason=f"{SVG} {JS_URL}",
        evidence=[SimpleUploadedFile(f"{IMG}.png", png_bytes(), "image/png")],
    )
    complaint = reports.complaint_file(
        name=SCRIPT,
        email="ann@example.test",
        content_kind="message",
        location=f"{JS_URL} {IMG}",
        description=f"{ATTR} {SVG}",
        category=Category.SPAM,
        good_faith=True,
        client_address="198.51.100.7",
    )
    moderation.report_escalate(actor=moderator, report_id=report.pk, reason=IMG)
    moderation.report_add_note(actor=moderator, report_id=report.pk, body=SCRIPT)
    moderation.report_add_note(actor=moderator, report_id=report.pk, body=FORMULA)
    question = moderation.report_request_info(actor=moderator, report_id=report.pk, question=SVG)
    reports.info_request_answer(actor=reporter, info_request_id=question.pk, answer=f"{SCRIPT} {ATTR}")
    moderation.report_review(actor=moderator, report_id=complaint.pk, status="reviewed", admin_notes=SVG)
    removal, _warning = enforcement.decision_apply(
        actor=compliance,
        report_id=report.pk,
        actions=[ActionRequest(kind=ActionKind.REMOVE_CONTENT), ActionRequest(kind=ActionKind.WARNING)],
        ground_type="terms",
        ground=f"Terms §4.2 {IMG}",
        facts=f"{ATTR} {SVG}",
        ladder_override_reason=SCRIPT,
    )
    appeal = enforcement.appeal_file(actor=owner, sanction_id=removal.pk, text=f"{IMG} {SCRIPT}")
    return {
        "reporter": reporter,
        "second_reporter": second_reporter,
        "owner": owner,
        "moderator": moderator,
        "compliance": compliance,
        "report": report,
        "second": second,
        "complaint": complaint,
        "sanction": removal,
        "appeal": appeal,
        "question": question,
    }


def test_evidence_files_with_hostile_names_are_downloads_in_a_sandbox(client, world):
    client.force_login(world["moderator"])
    evidence = world["second"].evidence.get()
    response = client.get(f"/moderation/evidence/{evidence.pk}/?download=1")
    response.close()
    assert response.status_code == 200
    # The name stays the uploader's, inside a correctly quoted string: nothing can break out of it.
    quoted = re.fullmatch(r'attachment; filename="((?:[^"\\\r\n]|\\.)*)"', response["Content-Disposition"])
    assert quoted and re.sub(r"\\(.)", r"\1", quoted.group(1)) == f"{IMG}.png"
    assert response["Content-Type"] == "application/octet-stream"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"


def test_the_csv_export_keeps_payloads_as_inert_text(client, world):
    client.force_login(world["compliance"])
    response = client.get("/audit/export.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    cells = [cell for row in rows[1:] for cell in row]
    text = "\n".join(cells)
    for payload in (SCRIPT, SVG, ATTR):
        assert payload in text, payload  # kept word for word (JSON-escaped quotes aside), not mangled
    # No cell starts a formula: the owner's name is prefixed with a quote.
    assert not [cell for cell in cells if cell[:1] in ("=", "+", "-", "@")]
    assert "'" + FORMULA in cells


def test_the_dsa_statements_keep_payloads_as_inert_text(world, tmp_path):
    output = tmp_path / "statements.json"
    since = timezone.now().date().isoformat()
    call_command("export_statements", "--since", since, "--output", str(output), stderr=io.StringIO())
    [statement] = json.loads(output.read_text(encoding="utf-8"))["statements"]
    values = json.dumps(statement, ensure_ascii=False)
    assert SVG in statement["decision_facts"] and ATTR in statement["decision_facts"]
    assert IMG in statement["incompatible_content_ground"]
    # Text, not HTML: nothing was entity-encoded on the way (the database would show "&lt;" literally).
    for entity in ("&lt;", "&gt;", "&quot;", "&#x27;", "&#39;", "&amp;"):
        assert entity not in values


def test_the_world_has_every_kind_of_payload(world):
    """Guard for the test above: the case really carries the payloads where the pages show them."""
    assert world["report"].evidence.get().original_name == f"{SVG}.png"
    assert InfoRequest.objects.get(pk=world["question"].pk).answer.startswith(SCRIPT)
    assert Appeal.objects.get(pk=world["appeal"].pk).text == f"{IMG} {SCRIPT}"
    assert world["complaint"].reporter_name == SCRIPT
