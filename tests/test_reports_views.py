"""The reporter's pages: the filing form (every bad input answered with a message and nothing
stored) and "My reports" (own reports only, status badges with words, paginated, fixed query cost)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertInHTML

from audit.models import AuditEvent
from config.dates import long_date
from reports.categories import Category
from reports.models import Evidence, Report, ReportStatus, TargetKind, TargetState
from reports.services import report_file
from tests.conftest import png_bytes
from tests.factories import ReportFactory, TargetFactory, UserFactory
from tests.test_uploads import pdf as one_page_pdf

pytestmark = pytest.mark.django_db

# The paths are the published contract (docs/architecture.md, "URLs"), so they are written out, not reversed.
NEW = "/report/new/"
MINE = "/report/mine/"


@pytest.fixture
def signed_in(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def target(other_user):
    return TargetFactory(owner=other_user, title="Message in #lobby", snapshot_text="log off, loser")


def new_url(target) -> str:
    return f"{NEW}?target={target.public_id}"


def form_data(**overrides) -> dict:
    data = {
        "category": Category.HARASSMENT,
        "reason": "They call me names in #lobby every evening.",
        "incident_at": "",
        "good_faith": "on",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def nothing_stored() -> bool:
    return not Report.objects.exists() and not AuditEvent.objects.exists() and not Evidence.objects.exists()


# --- The filing form ------------------------------------------------------------------------------


def test_the_form_shows_the_target_and_every_field(signed_in, target):
    response = signed_in.get(new_url(target))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Report this chat message" in html and "log off, loser" in html
    assert f"by @{target.owner.username}" in html
    for value, label in Category.choices:
        assert f'value="{value}"' in html and str(label) in html
    assert 'name="reason"' in html and 'maxlength="1000"' in html and 'data-counter="reason-counter"' in html
    assert 'id="reason-counter"' in html  # the live counter's output (static/js/app.js fills it)
    assert 'type="datetime-local"' in html and 'name="incident_at"' in html
    assert 'name="is_pattern"' in html and "This is part of a repeated pattern" in html
    assert 'name="evidence"' in html and "multiple" in html and "application/pdf" in html
    assert 'name="good_faith"' in html and "in good faith" in html
    assert 'enctype="multipart/form-data"' in html


@pytest.mark.parametrize("kind", TargetKind.values)
def test_every_kind_of_target_can_be_reported_through_the_form(signed_in, other_user, kind):
    target = TargetFactory(kind=kind, owner=other_user)
    label = TargetKind(kind).label.lower()
    assert f"Report this {label}" in signed_in.get(new_url(target)).content.decode()
    response = signed_in.post(new_url(target), form_data())
    assert response.status_code == 302 and response.url == MINE
    assert Report.objects.get().report_type == kind


def test_filing_redirects_to_my_reports_with_the_confirmation(signed_in, user, target):
    response = signed_in.post(
        new_url(target),
        form_data(category=Category.VIOLENCE, incident_at="2024-05-01T21:30", is_pattern="on"),
        follow=True,
    )
    assert response.redirect_chain == [(MINE, 302)]
    html = response.content.decode()
    report = Report.objects.get()
    # The confirmation names the reference and the deadline.
    confirmation = f"Report {report.short_id} sent. We will review it by {long_date(report.due_at)}"
    assert confirmation in html
    assert (report.reporter, report.target, report.category) == (user, target, Category.VIOLENCE)
    assert report.is_pattern and report.incident_at.isoformat().startswith("2024-05-01T21:30")
    assert reverse("reports:detail", args=[report.id]) in html
    assert AuditEvent.objects.get().event_type == "report.created"


def test_filing_with_an_image_stores_it_reencoded(signed_in, target):
    photo = SimpleUploadedFile("photo.jpg", png_bytes(exif=True), "image/jpeg")
    pdf = SimpleUploadedFile("statement.pdf", one_page_pdf(), "application/pdf")
    response = signed_in.post(new_url(target), form_data(evidence=[photo, pdf]))
    assert response.status_code == 302
    rows = {row.original_name: row for row in Evidence.objects.all()}
    assert rows["photo.jpg"].content_type == "image/jpeg" and rows["statement.pdf"].content_type == "application/pdf"
    with rows["photo.jpg"].file.open("rb") as handle:
        assert b"SpyCam" not in handle.read()


def test_the_confirmation_mail_goes_out_after_filing(signed_in, user, target, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        signed_in.post(new_url(target), form_data())
    [message] = mail.outbox
    assert message.to == [user.email] and Report.objects.get().short_id in message.subject


def test_a_mail_failure_still_files_the_report(signed_in, target, settings, django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = "tests.test_reports_services.BrokenMailBackend"
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in.post(new_url(target), form_data(), follow=True)
    assert f"Report {Report.objects.get().short_id} sent." in response.content.decode()
    assert Report.objects.count() == 1 and mail.outbox == []


# --- Bad input: each answered with a clear message, nothing stored ----------------------------------


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"reason": ""}, "This field is required."),
        ({"reason": "   "}, "This field is required."),
        ({"reason": "x" * 1001}, "Ensure this value has at most 1000 characters (it has 1001)."),
        ({"category": ""}, "This field is required."),
        ({"category": "bad_vibes"}, "Select a valid choice. bad_vibes is not one of the available choices."),
        ({"good_faith": None}, "Please confirm that the report is accurate and made in good faith."),
        ({"incident_at": "yesterday-ish"}, "Enter a valid date/time."),
        (
            {"incident_at": (timezone.localtime() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")},
            "The time it happened cannot be in the future.",
        ),
        (
            {"evidence": [SimpleUploadedFile("notes.png", b"plain text, not a picture")]},
            "“notes.png” is not an image (PNG, JPEG, GIF, WebP) or a PDF, whatever its name says.",
        ),
        (
            {"evidence": [SimpleUploadedFile("cut.png", png_bytes()[:-30])]},
            "“cut.png” is a damaged image that could not be read.",
        ),
        (
            {"evidence": [SimpleUploadedFile(f"s{i}.png", png_bytes()) for i in range(6)]},
            "Attach at most 5 files.",
        ),
    ],
    ids=[
        "empty-reason",
        "blank-reason",
        "reason-too-long",
        "no-category",
        "unknown-category",
        "no-good-faith",
        "malformed-time",
        "future-time",
        "text-named-png",
        "corrupt-image",
        "six-files",
    ],
)
def test_bad_input_is_answered_with_a_message_and_nothing_is_stored(signed_in, target, overrides, message):
    response = signed_in.post(new_url(target), form_data(**overrides))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert nothing_stored()


def test_a_reason_of_exactly_1000_characters_is_accepted(signed_in, target):
    assert signed_in.post(new_url(target), form_data(reason="x" * 1000)).status_code == 302


def test_line_breaks_count_as_one_character_as_in_the_counter(signed_in, target):
    """Browsers send each line break as CRLF; the live counter (and maxlength) count it as one."""
    reason = ("a" * 99 + "\r\n") * 10  # 1,000 characters as the user sees them, 1,010 bytes sent
    response = signed_in.post(new_url(target), form_data(reason=reason))
    assert response.status_code == 302
    assert Report.objects.get().reason == ("a" * 99 + "\n") * 9 + "a" * 99


def test_evidence_over_10_mb_is_refused(signed_in, target, settings):
    settings.EVIDENCE_MAX_BYTES = 2000  # the same check as at 10 MB, without sending 10 MB
    noise = SimpleUploadedFile("big.png", png_bytes(size=(200, 200)) + b"\0" * 2000)
    response = signed_in.post(new_url(target), form_data(evidence=[noise]))
    assert response.status_code == 400
    assert "“big.png” is larger than 2.0\xa0KB." in response.content.decode()
    assert nothing_stored()


@pytest.mark.parametrize("query", ["", "?target=", "?target=not-a-uuid", "?target=12345", f"?target={uuid.uuid4()}"])
@pytest.mark.parametrize("method", ["get", "post"])
def test_an_unknown_or_malformed_target_is_not_found(signed_in, query, method):
    response = getattr(signed_in, method)(f"{NEW}{query}", form_data() if method == "post" else None)
    assert response.status_code == 404
    assert "There is nothing here" in response.content.decode()
    assert nothing_stored()


@pytest.mark.parametrize("state", [TargetState.REMOVED, TargetState.QUARANTINED])
def test_content_already_taken_down_is_not_found(signed_in, other_user, state):
    target = TargetFactory(owner=other_user, state=state)
    assert signed_in.get(new_url(target)).status_code == 404
    assert signed_in.post(new_url(target), form_data()).status_code == 404
    assert nothing_stored()


def test_your_own_content_cannot_be_reported(signed_in, user):
    own = TargetFactory(owner=user)
    page = signed_in.get(new_url(own))
    assert page.status_code == 200
    html = page.content.decode()
    assert "You cannot report your own content." in html and 'name="reason"' not in html
    response = signed_in.post(new_url(own), form_data())
    assert response.status_code == 400
    assert "You cannot report your own content." in response.content.decode()
    assert nothing_stored()


def test_a_second_open_report_gets_you_already_reported_this(signed_in, target):
    assert signed_in.post(new_url(target), form_data()).status_code == 302
    response = signed_in.post(new_url(target), form_data(reason="Again, and worse."))
    assert response.status_code == 400
    assert "You already reported this; we will review it." in response.content.decode()
    assert Report.objects.count() == 1 and AuditEvent.objects.count() == 1


def test_more_than_the_hourly_limit_gets_a_message(signed_in, user, other_user, settings):
    settings.REPORTS_PER_HOUR_LIMIT = 2
    for _ in range(2):
        report_file(actor=user, target=TargetFactory(owner=other_user), category=Category.SPAM, reason="Spam bot.")
    response = signed_in.post(new_url(TargetFactory(owner=other_user)), form_data())
    assert response.status_code == 400
    assert "You have sent 2 reports in the last hour, the most we accept." in response.content.decode()
    assert Report.objects.count() == 2


def test_user_text_is_escaped_on_the_form(signed_in, other_user):
    target = TargetFactory(
        owner=other_user, title="<script>alert(1)</script>", snapshot_text="<img src=x onerror=alert(2)>"
    )
    html = signed_in.get(new_url(target)).content.decode()
    assert "<script>alert(1)" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# --- My reports -------------------------------------------------------------------------------------


def test_my_reports_lists_only_my_own_with_badges_and_words(signed_in, user, other_user):
    mine = {status: ReportFactory(reporter=user, status=status) for status in ReportStatus.values}
    theirs = ReportFactory(reporter=other_user, target=TargetFactory(title="Someone else's case"))
    response = signed_in.get(MINE)
    assert response.status_code == 200
    html = response.content.decode()
    for status, report in mine.items():
        assert reverse("reports:detail", args=[report.id]) in html
        label = ReportStatus(status).label
        assertInHTML(f'<span class="badge badge-{status}" data-status="{status}">{label}</span>', html)
    assert reverse("reports:detail", args=[theirs.id]) not in html and "Someone else" not in html


def test_my_reports_is_newest_first_and_paginated_by_20(signed_in, user):
    reports = [ReportFactory(reporter=user) for _ in range(23)]
    Report.objects.filter(pk=reports[0].pk).update(created_at=timezone.now() - timedelta(days=3))
    first_page = signed_in.get(MINE).content.decode()
    assert first_page.count("badge-pending") == 20
    assert "Page 1 of 2" in first_page and "?page=2" in first_page
    assert reverse("reports:detail", args=[reports[0].id]) not in first_page  # the oldest
    second_page = signed_in.get(MINE, {"page": 2}).content.decode()
    assert second_page.count("badge-pending") == 3
    assert reverse("reports:detail", args=[reports[0].id]) in second_page
    assert signed_in.get(MINE, {"page": "999"}).status_code == 200  # out of range: the last page


def test_my_reports_costs_the_same_queries_for_1_or_20_reports(signed_in, user):
    ReportFactory(reporter=user)
    with CaptureQueriesContext(connection) as one:
        signed_in.get(MINE)
    for _ in range(19):
        ReportFactory(reporter=user, target=TargetFactory(kind=TargetKind.PROFILE))
    with CaptureQueriesContext(connection) as twenty:
        signed_in.get(MINE)
    # session, user, sign-in block, role, 2 × permissions, count, page: none per row
    assert len(one) == len(twenty) <= 8, [q["sql"] for q in twenty.captured_queries]


def test_my_reports_when_there_are_none(signed_in):
    assert "You have not sent any reports." in signed_in.get(MINE).content.decode()


def test_my_reports_does_not_show_other_peoples_reports_even_to_staff(client, moderator, user):
    ReportFactory(reporter=user)
    client.force_login(moderator)
    assert "You have not sent any reports." in client.get(MINE).content.decode()


def test_the_reported_person_cannot_see_who_reported_them(client, user, other_user):
    report = ReportFactory(reporter=user, target=TargetFactory(owner=other_user))
    client.force_login(other_user)
    assert str(report.id) not in client.get(MINE).content.decode()
    assert client.get(reverse("reports:detail", args=[report.id])).status_code == 404


def test_a_complaint_target_is_not_offered_on_the_demo_platform(signed_in, other_user):
    TargetFactory(owner=None, title="Complaint about a link")
    TargetFactory(owner=other_user, title="Message in #music")
    html = signed_in.get(reverse("reports:demo")).content.decode()
    assert "Message in #music" in html and "Complaint about a link" not in html


def test_the_demo_platform_labels_what_you_already_reported(signed_in, user, other_user):
    reported = TargetFactory(owner=other_user, title="Reported one")
    ReportFactory(reporter=user, target=reported)
    fresh = TargetFactory(owner=other_user, title="Fresh one")
    own = TargetFactory(owner=user, title="My own one")
    html = signed_in.get(reverse("reports:demo")).content.decode()
    assert new_url(fresh) in html
    assert new_url(reported) not in html and new_url(own) not in html
    assert "Your content" in html and ">Reported<" in html


def test_another_users_reports_do_not_mark_targets_as_reported_for_me(signed_in, other_user):
    target = TargetFactory(owner=UserFactory())
    ReportFactory(reporter=other_user, target=target)
    assert new_url(target) in signed_in.get(reverse("reports:demo")).content.decode()
