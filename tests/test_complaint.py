"""/complaint/: a complaint or removal request without an account (DSA Art. 16 notice)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from audit.models import AuditEvent
from config.dates import long_date
from reports.categories import Category
from reports.models import Report, ReportChannel, ReportStatus, Target, TargetKind
from reports.services import complaint_file

pytestmark = pytest.mark.django_db

URL = "/complaint/"  # the published path
BROKEN_MAIL = "tests.test_reports_services.BrokenMailBackend"


def complaint_data(**overrides) -> dict:
    data = {
        "name": "Rita Rights-Holder",
        "email": "rita@example.test",
        "content_kind": TargetKind.VIDEO_STORY,
        "location": "https://chat.example/stories/8812 (posted by @copycat)",
        "category": Category.COPYRIGHT,
        "description": "This story is my paid course video, re-uploaded in full without my permission.",
        "good_faith": "on",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def nothing_stored() -> bool:
    return not Report.objects.exists() and not Target.objects.exists() and not AuditEvent.objects.exists()


def test_the_form_is_open_to_anyone_without_an_account(client):
    response = client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    for field in ("name", "email", "content_kind", "location", "category", "description", "good_faith"):
        assert f'name="{field}"' in html
    assert 'data-counter="description-counter"' in html and 'id="description-counter"' in html
    assert "except for reports of child sexual abuse" in html


def test_the_form_preselects_no_kind_and_marks_required_fields(client):
    from tests.html import attr, elements, one

    html = client.get(URL).content.decode()
    kind = one(html, "select", name="content_kind")
    options = elements(kind, "option")
    assert attr(options[0], "value") == "" and "selected" in dict(options[0].attributes)
    for name in ("content_kind", "category", "location", "description", "good_faith"):
        [field] = [e for e in elements(html, name=name) if e.name in ("input", "select", "textarea")]
        assert "required" in dict(field.attributes), name
    assert elements(html, "span", class_="asteriskField")  # and visibly, with the legend saying what * means
    assert "are required." in html
    # Nothing chosen is an error for that field, not a silent "Chat message".
    response = client.post(URL, complaint_data(content_kind=""))
    assert response.status_code == 400 and not Report.objects.exists()


def test_the_error_summary_lists_the_problems_in_the_order_of_the_page(client):
    """Sent empty: the summary names the fields as they come down the page (kind, what is wrong,
    where, why, the good-faith box), not "where" before "what is wrong"."""
    from tests.html import attr, elements, one

    empty = complaint_data(
        name="", email="", content_kind="", location="", category="", description="", good_faith=None
    )
    html = client.post(URL, empty).content.decode()
    summary = one(html, "div", id="error-summary")
    linked = [attr(link, "href") for link in elements(summary, "a")]
    assert linked == ["#id_content_kind", "#id_category", "#id_location", "#id_description", "#id_good_faith"]
    on_page = [attr(field, "id") for field in elements(html) if attr(field, "id") in {href[1:] for href in linked}]
    assert on_page == [href[1:] for href in linked]


def test_the_thank_you_page_without_a_complaint_goes_back_to_the_form(client):
    response = client.get("/complaint/received/")
    assert response.status_code == 302 and response.url == URL


def test_a_complaint_is_stored_audited_and_confirmed_by_email(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(URL, complaint_data())
    # POST, redirect, GET: the thank-you page names the reference and the deadline, and refreshing
    # it sends nothing again.
    assert response.status_code == 302 and response.url == "/complaint/received/"
    report = Report.objects.select_related("target").get()
    for _ in range(2):
        html = client.get(response.url).content.decode()
        assert "we received your complaint" in html and report.short_id in html and str(report.id) in html
        assert f"We will act by</dt><dd><strong>{long_date(report.due_at)}</strong>" in html
        assert "We sent a confirmation to rita@example.test" in html
    assert Report.objects.count() == 1

    assert report.reporter is None and report.channel == ReportChannel.THIRD_PARTY
    assert (report.reporter_name, report.reporter_email) == ("Rita Rights-Holder", "rita@example.test")
    assert report.status == ReportStatus.PENDING and report.category == Category.COPYRIGHT
    assert report.report_type == TargetKind.VIDEO_STORY and report.due_at - report.created_at > timedelta(days=6)
    assert report.target.owner is None and report.target.kind == TargetKind.VIDEO_STORY
    assert report.target.metadata["reported_location"].startswith("https://chat.example/stories/8812")

    event = AuditEvent.objects.get()
    assert event.event_type == "report.created" and event.object_id == str(report.id)
    assert event.actor is None and event.actor_label == "public complaint form"
    assert event.data["channel"] == "third_party" and event.data["anonymous"] is False
    assert "rita" not in str(event.after) + str(event.data)  # no personal data in the permanent record

    [message] = mail.outbox
    assert message.to == ["rita@example.test"]
    assert message.subject == f"We received your report {report.short_id}"
    assert "Hello Rita Rights-Holder" in message.body and str(report.id) in message.body


@pytest.mark.parametrize(
    "missing",
    [{"name": "", "email": ""}, {"name": ""}, {"email": ""}],
    ids=["anonymous", "no-name", "no-email"],
)
def test_name_and_email_are_required_outside_child_safety(client, missing):
    response = client.post(URL, complaint_data(category=Category.HARASSMENT, **missing))
    assert response.status_code == 400
    assert "Give your name and email so we can reply (only child-safety reports may be anonymous)." in (
        response.content.decode()
    )
    assert nothing_stored()


def test_a_child_safety_report_may_be_anonymous(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            URL,
            complaint_data(
                name="",
                email="",
                category=Category.CHILD_SAFETY,
                content_kind=TargetKind.MESSAGE,
                description="An adult asks a 12-year-old for photos in #lobby.",
            ),
            follow=True,
        )
    assert response.status_code == 200
    assert "You sent this anonymously, so we cannot reply to you." in response.content.decode()
    report = Report.objects.get()
    assert report.reporter_name == report.reporter_email == ""
    assert report.escalated  # zero tolerance: straight to compliance
    assert report.due_at - report.created_at == pytest.approx(timedelta(hours=24), abs=timedelta(seconds=5))
    assert AuditEvent.objects.get().data["anonymous"] is True
    assert mail.outbox == []


def test_a_child_safety_report_may_still_leave_an_email(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(URL, complaint_data(name="", category=Category.CHILD_SAFETY))
    assert Report.objects.get().reporter_email == "rita@example.test"
    assert [m.to for m in mail.outbox] == [["rita@example.test"]]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"good_faith": None}, "Please confirm that the complaint is accurate and made in good faith."),
        ({"description": ""}, "This field is required."),
        ({"description": "x" * 1001}, "Ensure this value has at most 1000 characters (it has 1001)."),
        ({"location": " "}, "This field is required."),
        ({"email": "not-an-address"}, "Enter a valid email address."),
        ({"category": "bad_vibes"}, "Select a valid choice."),
        ({"content_kind": "hologram"}, "Select a valid choice."),
    ],
    ids=[
        "no-good-faith",
        "no-description",
        "description-too-long",
        "no-location",
        "bad-email",
        "bad-category",
        "bad-kind",
    ],
)
def test_bad_input_is_answered_and_nothing_stored(client, overrides, message):
    response = client.post(URL, complaint_data(**overrides))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert nothing_stored()


def test_the_service_applies_the_same_rules_without_the_form():
    with pytest.raises(ValidationError) as caught:
        complaint_file(
            name="",
            email="",
            content_kind="hologram",
            location="",
            description="",
            category=Category.SPAM,
            good_faith=False,
            client_address="198.51.100.7",
        )
    assert set(caught.value.message_dict) == {"content_kind", "location", "reason", "good_faith", "email"}
    assert nothing_stored()


def test_a_mail_failure_does_not_lose_the_complaint(client, settings, django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = BROKEN_MAIL
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(URL, complaint_data(), follow=True)
    assert response.status_code == 200 and "we received your complaint" in response.content.decode()
    assert Report.objects.filter(reporter_email="rita@example.test").exists()
    assert AuditEvent.objects.count() == 1


def test_what_the_complainant_typed_is_escaped(client):
    response = client.post(
        URL,
        complaint_data(name="<script>alert(1)</script>", location="<img src=x onerror=alert(1)>"),
        follow=True,
    )
    assert response.status_code == 200
    assert "<script>alert(1)" not in response.content.decode()
    assert Report.objects.get().reporter_name == "<script>alert(1)</script>"  # stored as typed, escaped when shown


def test_line_breaks_in_the_description_count_once(client):
    description = ("b" * 99 + "\r\n") * 10
    assert client.post(URL, complaint_data(description=description)).status_code == 302
    assert "\r" not in Report.objects.get().reason
