"""The links in our mail are absolute (SITE_URL), because mail has no request to take the host from,
and each one opens the page it promises: a suspended user's appeal link works without signing in,
a reporter's links open their report, where a dismissal is appealed and questions are answered;
someone who complained without an account appeals a dismissal from a signed link."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse

from audit.models import AuditEvent
from moderation import services
from moderation.enforcement.actions import ActionKind
from moderation.enforcement.models import Appeal
from moderation.enforcement.notices import complaint_appeal_token
from moderation.enforcement.services import ActionRequest, appeal_decide, complaint_appeal_file, decision_apply
from reports import notify
from reports.models import Report, ReportChannel, ReportStatus
from reports.services import report_file
from tests.factories import ReportFactory, TargetFactory

pytestmark = pytest.mark.django_db

SITE = "https://reports.example.com"


@pytest.fixture(autouse=True)
def _site_url(settings):
    settings.SITE_URL = SITE


def links(message) -> list[str]:
    return re.findall(r"https?://\S+", message.body)


def path_of(link: str) -> str:
    assert link.startswith(SITE + "/"), link
    return link.removeprefix(SITE).split("#", 1)[0]


def test_the_statement_of_reasons_links_to_an_appeal_page_that_opens_without_signing_in(
    client, moderator, user, settings, django_capture_on_commit_callbacks
):
    report = ReportFactory(reporter=user)
    owner = report.target.owner
    with django_capture_on_commit_callbacks(execute=True):
        decision_apply(
            actor=moderator,
            report_id=report.pk,
            actions=[ActionRequest(kind=ActionKind.WARNING)],
            ground_type="terms",
            ground="Terms of service §4.2 (harassment)",
            facts="Repeated insults in the lobby.",
            ladder_override_reason="Chosen for the test.",
        )
    [statement] = [m for m in mail.outbox if m.to == [owner.email]]
    # Our own link (the appeal), then the other routes' addresses (settings REDRESS_*), not ours.
    appeal_link, *redress = links(statement)
    assert redress == [settings.REDRESS_OUT_OF_COURT_URL]
    page = client.get(path_of(appeal_link))  # nobody signed in: a suspended account cannot
    assert page.status_code == 200 and "appeal" in page.content.decode().lower()


def test_a_dismissal_tells_the_reporter_how_to_appeal_on_their_report_page(
    client, moderator, user, settings, django_capture_on_commit_callbacks
):
    settings.APPEAL_WINDOW_DAYS = 90
    report = ReportFactory(reporter=user)
    with django_capture_on_commit_callbacks(execute=True):
        services.report_review(actor=moderator, report_id=report.pk, status=ReportStatus.DISMISSED)
    [outcome] = mail.outbox
    assert "no violation was found" in outcome.body and "within 90 days" in outcome.body
    [report_link] = links(outcome)
    assert report_link.endswith("#appeal")
    client.force_login(user)
    page = client.get(path_of(report_link)).content.decode()
    assert 'id="appeal"' in page and "within 90 days of the decision" in page


def test_an_acted_on_report_has_its_link_but_no_appeal_text(moderator, user, django_capture_on_commit_callbacks):
    report = ReportFactory(reporter=user)
    with django_capture_on_commit_callbacks(execute=True):
        services.report_review(actor=moderator, report_id=report.pk, status=ReportStatus.RESOLVED)
    [outcome] = mail.outbox
    assert "action was taken" in outcome.body and "appeal" not in outcome.body.lower()
    assert [path_of(link) for link in links(outcome)] == [f"/report/{report.pk}/"]


def test_the_confirmation_links_to_the_report_for_an_account_and_to_nothing_for_the_complaint_form(
    user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        report = report_file(actor=user, target=TargetFactory(), category="harassment", reason="Insults again.")
    [confirmation] = mail.outbox
    assert [path_of(link) for link in links(confirmation)] == [f"/report/{report.pk}/"]

    mail.outbox.clear()
    complaint = ReportFactory(reporter=None, reporter_email="someone@example.org", channel=ReportChannel.THIRD_PARTY)
    with django_capture_on_commit_callbacks(execute=True):
        assert notify.report_received(report=complaint)
    [message] = mail.outbox
    assert links(message) == []  # no account, so no page to follow


def test_a_question_links_to_where_it_is_answered(client, moderator, user, django_capture_on_commit_callbacks):
    report = ReportFactory(reporter=user)
    with django_capture_on_commit_callbacks(execute=True):
        services.report_request_info(actor=moderator, report_id=report.pk, question="Which room was it?")
    [question] = mail.outbox
    [link] = links(question)
    assert link.endswith("#questions")
    client.force_login(user)
    page = client.get(path_of(link)).content.decode()
    assert "Which room was it?" in page and 'id="questions"' in page


def test_a_dismissed_complaint_without_an_account_is_appealed_from_the_signed_link_in_its_mail(
    client, moderator, compliance, django_capture_on_commit_callbacks
):
    """DSA Art. 20(1): notice senders may complain about the decision on their notice, account or not."""
    complaint = ReportFactory(reporter=None, reporter_email="someone@example.org", channel=ReportChannel.THIRD_PARTY)
    with django_capture_on_commit_callbacks(execute=True):
        services.report_review(actor=moderator, report_id=complaint.pk, status=ReportStatus.DISMISSED)
    [outcome] = mail.outbox
    assert outcome.to == ["someone@example.org"] and "no account needed" in outcome.body
    [link] = links(outcome)
    url = path_of(link)

    page = client.get(url)  # nobody signed in
    assert page.status_code == 200 and "Appeal this decision" in page.content.decode()
    assert client.post(url, {"text": "  "}).status_code == 400
    assert not Appeal.objects.exists()
    response = client.post(url, {"text": "The post is still up and it names me."}, follow=True)
    assert "Appeal sent" in response.content.decode()
    appeal = Appeal.objects.get()
    assert appeal.report == complaint and appeal.appellant is None and appeal.appellant_email == "someone@example.org"
    assert AuditEvent.objects.get(event_type="appeal.filed").actor_label == "public complaint form"
    # Once per decision: the page now shows the appeal, and a second post files nothing.
    assert "You appealed on" in client.post(url, {"text": "Again."}).content.decode()
    assert Appeal.objects.count() == 1

    # Staff see who appealed without an account; the decision goes to the address by mail.
    client.force_login(compliance)
    assert "a complainant without an account" in client.get(reverse("enforcement:appeals")).content.decode()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        appeal_decide(actor=compliance, appeal_id=appeal.pk, outcome="upheld", reason="It names nobody.")
    [decision] = mail.outbox
    assert decision.to == ["someone@example.org"] and "It names nobody." in decision.body
    client.logout()
    assert "It names nobody." in client.get(url).content.decode()


def test_a_complaint_link_is_refused_when_forged_or_for_another_address(client):
    complaint = ReportFactory(reporter=None, reporter_email="someone@example.org", status=ReportStatus.DISMISSED)
    assert client.get(reverse("enforcement:complaint_appeal", args=["forged"])).status_code == 404
    complaint.reporter_email = "other@example.org"  # a token naming an address the complaint did not come from
    token = complaint_appeal_token(report=complaint)
    assert client.get(reverse("enforcement:complaint_appeal", args=[token])).status_code == 404
    with pytest.raises(Report.DoesNotExist):
        complaint_appeal_file(report_id=complaint.pk, email="other@example.org", text="Look again.")


def test_an_acted_on_complaint_has_no_appeal_link(moderator, django_capture_on_commit_callbacks):
    complaint = ReportFactory(reporter=None, reporter_email="someone@example.org", channel=ReportChannel.THIRD_PARTY)
    with django_capture_on_commit_callbacks(execute=True):
        services.report_review(actor=moderator, report_id=complaint.pk, status=ReportStatus.RESOLVED)
    [outcome] = mail.outbox
    assert links(outcome) == [] and "appeal" not in outcome.body.lower()
    with pytest.raises(ValidationError, match="Only a dismissed report"):
        complaint_appeal_file(report_id=complaint.pk, email="someone@example.org", text="Look again.")
