"""Property-based tests (hypothesis): whatever a user types or uploads, and in whatever order
moderators act, the services either do the documented thing or refuse cleanly, storing nothing."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import OperationalError
from django.test import RequestFactory
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit.models import AuditEvent
from config.middleware import DatabaseUnavailableMiddleware
from moderation import workflow
from moderation.services import TransitionRefused, report_review
from reports.categories import Category
from reports.forms import ReportForm
from reports.models import Report, ReportStatus
from reports.services import report_file
from reports.uploads import clean_upload
from tests.factories import ReportFactory, TargetFactory

pytestmark = pytest.mark.django_db
DB_SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
PREFIXES = [b"", b"\x89PNG\r\n\x1a\n", b"%PDF-1.7\n", b"GIF89a", b"\xff\xd8\xff\xe0", b"RIFF\x00\x00\x00\x00WEBP"]


FILE_NAMES = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_. ", min_size=1, max_size=40).filter(
    lambda name: name.strip(". ")
)


@given(prefix=st.sampled_from(PREFIXES), body=st.binary(max_size=3000), name=FILE_NAMES)
@settings(max_examples=300, deadline=None)
def test_any_upload_is_accepted_as_image_or_pdf_or_refused_cleanly(prefix, body, name):
    upload = SimpleUploadedFile(name, prefix + body)
    try:
        clean = clean_upload(upload)
    except ValidationError as error:
        assert error.messages and all(isinstance(m, str) for m in error.messages)
    else:
        assert clean.content_type in {"image/png", "image/jpeg", "application/pdf"}
        assert len(clean.sha256) == 64


@given(reason=st.text(max_size=1100), category=st.sampled_from([*Category.values, "", "nonsense"]))
@DB_SETTINGS
def test_filing_any_text_either_stores_it_or_refuses_and_stores_nothing(user, settings, reason, category):
    settings.REPORTS_PER_HOUR_LIMIT = 10_000
    before_reports, before_events = Report.objects.count(), AuditEvent.objects.count()
    try:
        report = report_file(actor=user, target=TargetFactory(), category=category, reason=reason)
    except ValidationError:
        assert Report.objects.count() == before_reports and AuditEvent.objects.count() == before_events
        assert not reason.strip() or len(reason) > 1000 or category not in Category.values or "\x00" in reason
    else:
        assert report.reason == reason.strip() and 0 < len(reason) <= 1000
        assert AuditEvent.objects.count() == before_events + 1


@given(moves=st.lists(st.sampled_from(ReportStatus.values), min_size=1, max_size=6))
@DB_SETTINGS
def test_any_sequence_of_reviews_follows_the_transition_table(moderator, moves):
    report = ReportFactory()
    for move in moves:
        current = Report.objects.get(pk=report.pk).status
        try:
            report_review(actor=moderator, report_id=report.pk, status=move)
        except TransitionRefused:
            assert not workflow.can_move(current, move)
            assert Report.objects.get(pk=report.pk).status == current
        else:
            assert workflow.can_move(current, move)
            assert Report.objects.get(pk=report.pk).status == move


@given(
    data=st.dictionaries(
        st.sampled_from(["category", "reason", "incident_at", "is_pattern", "good_faith"]), st.text(max_size=50)
    )
)
@settings(max_examples=200, deadline=None)
def test_the_filing_form_validates_any_input_without_crashing(data):
    form = ReportForm(data=data, files={})
    assert form.is_valid() in (True, False)
    if not form.is_valid():
        assert form.errors


def test_a_database_outage_answers_503_with_retry_after():
    middleware = DatabaseUnavailableMiddleware(lambda request: None)
    page = middleware.process_exception(RequestFactory().get("/report/mine/"), OperationalError("down"))
    api = middleware.process_exception(RequestFactory().post("/api/reports"), OperationalError("down"))
    assert page.status_code == api.status_code == 503 and page["Retry-After"] == api["Retry-After"] == "5"
    assert b"Nothing was saved" in page.content and b"Traceback" not in page.content
    assert api["Content-Type"] == "application/json" and b"try again" in api.content
    assert middleware.process_exception(RequestFactory().get("/"), ValueError("other")) is None
