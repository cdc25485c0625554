"""Issue 17, item 2: compliance opens the file attached to an appeal (a permission-checked view, like
evidence), and the appeal's page links the report, its evidence and the appellant's account.
Item 10 (moderator side): the appeals list searches by person and decision and sorts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from moderation.enforcement import services as enforcement
from moderation.enforcement.actions import ActionKind
from moderation.enforcement.models import Appeal, AppealStatus
from moderation.services import report_review
from reports.models import ReportStatus
from tests.conftest import png_bytes
from tests.factories import AppealFactory, EvidenceFactory, ReportFactory, SanctionFactory, UserFactory
from tests.html import attr, elements, one, text
from tests.test_enforcement import decide

pytestmark = pytest.mark.django_db


def _suspension_appeal(moderator, *, attachment=None, reports=1):
    """A suspension settling `reports` reports on one target, each with evidence, appealed."""
    first = ReportFactory()
    for _ in range(reports - 1):
        ReportFactory(target=first.target)
    for report in first.target.reports.all():
        EvidenceFactory(report=report, original_name=f"evidence-{report.short_id}.png")
    sanctions = decide(
        moderator,
        first,
        ActionKind.SUSPENSION,
        ends_at=timezone.now() + timedelta(days=7),
        apply_to_all_open=True,
    )
    return enforcement.appeal_file(
        actor=first.target.owner, sanction_id=sanctions[0].pk, text="It was a joke.", attachment=attachment
    )


def test_compliance_opens_the_attached_image_inline_or_as_a_download(client, moderator, compliance):
    appeal = _suspension_appeal(moderator, attachment=SimpleUploadedFile("proof.png", png_bytes(), "image/png"))
    url = reverse("enforcement:appeal_attachment", args=[appeal.pk])
    client.force_login(compliance)

    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert (
        response["Content-Disposition"].startswith("inline;")
        and 'filename="proof.png"' in response["Content-Disposition"]
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert response["Cache-Control"] == "private, no-store"
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")

    download = client.get(url, {"download": "1"})
    assert download["Content-Type"] == "application/octet-stream"
    assert download["Content-Disposition"].startswith("attachment;")


def test_a_pdf_is_always_a_download(client, moderator, compliance):
    appeal = _suspension_appeal(moderator)
    appeal.attachment.save("statement.pdf", ContentFile(b"%PDF-1.4 test"), save=False)
    Appeal.objects.filter(pk=appeal.pk).update(
        attachment=appeal.attachment.name, attachment_name="statement.pdf", attachment_content_type="application/pdf"
    )
    client.force_login(compliance)
    response = client.get(reverse("enforcement:appeal_attachment", args=[appeal.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    assert (
        response["Content-Disposition"].startswith("attachment;") and "statement.pdf" in response["Content-Disposition"]
    )
    assert response["X-Content-Type-Options"] == "nosniff"


def test_only_who_decides_appeals_opens_the_file(client, moderator, compliance, user):
    appeal = _suspension_appeal(moderator, attachment=SimpleUploadedFile("proof.png", png_bytes(), "image/png"))
    url = reverse("enforcement:appeal_attachment", args=[appeal.pk])
    assert client.get(url)["Location"].startswith(reverse("login"))
    for who in (user, moderator):
        client.force_login(who)
        assert client.get(url).status_code == 403
    client.force_login(compliance)
    without = _suspension_appeal(moderator)
    assert client.get(reverse("enforcement:appeal_attachment", args=[without.pk])).status_code == 404


def test_the_appeal_page_links_the_file_the_reports_their_evidence_and_the_appellant(client, moderator, compliance):
    appeal = _suspension_appeal(
        moderator, attachment=SimpleUploadedFile("proof.png", png_bytes(), "image/png"), reports=2
    )
    client.force_login(compliance)
    html = client.get(reverse("enforcement:appeal", args=[appeal.pk])).content.decode()
    hrefs = {attr(link, "href"): text(link) for link in elements(html, "a")}

    attachment = reverse("enforcement:appeal_attachment", args=[appeal.pk])
    assert hrefs[attachment + "?download=1"] == "proof.png"
    assert hrefs[attachment] == "open the image"
    assert hrefs[reverse("enforcement:account", args=[appeal.appellant_id])] == f"@{appeal.appellant.username}"
    reports = list(appeal.sanction.reports.order_by("created_at"))
    assert len(reports) == 2
    for report in reports:
        assert hrefs[reverse("moderation:report", args=[report.pk])] == f"Report {report.short_id}"
        evidence = report.evidence.get()
        assert hrefs[reverse("moderation:evidence", args=[evidence.pk]) + "?download=1"] == evidence.original_name


def test_a_dismissed_reports_appeal_links_that_report(client, moderator, compliance):
    reporter = UserFactory()
    report = ReportFactory(reporter=reporter)
    EvidenceFactory(report=report, original_name="chat-log.png")
    report_review(actor=moderator, report_id=report.pk, status=ReportStatus.DISMISSED, admin_notes="No violation.")
    appeal = enforcement.appeal_file(actor=reporter, report_id=report.pk, text="Please look again.")
    client.force_login(compliance)
    html = client.get(reverse("enforcement:appeal", args=[appeal.pk])).content.decode()
    section = one(html, "section", aria_labelledby="h-appeal-reports")
    links = {attr(link, "href") for link in elements(section, "a")}
    assert reverse("moderation:report", args=[report.pk]) in links
    assert reverse("moderation:evidence", args=[report.evidence.get().pk]) + "?download=1" in links
    # Nothing attached: the page says so and links no file.
    assert "AttachmentNone" in text(elements(html, "dl", class_="facts")[0])
    assert reverse("enforcement:appeal_attachment", args=[appeal.pk]) not in html


def test_the_appeal_page_costs_the_same_queries_for_one_report_or_six(client, moderator, compliance):
    few, many = _suspension_appeal(moderator, reports=1), _suspension_appeal(moderator, reports=6)
    client.force_login(compliance)
    counts = []
    for appeal in (few, many):
        client.get(reverse("enforcement:appeal", args=[appeal.pk]))
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("enforcement:appeal", args=[appeal.pk])).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


# --- the appeals list: search by person or decision, sort (item 10) ------------------------------


APPEALS = reverse("enforcement:appeals")


def _rows(response) -> list[str]:
    """The appeal ids of the list's rows, in order."""
    html = response.content.decode()
    return [
        attr(link, "href").rstrip("/").rsplit("/", 1)[-1]
        for row in elements(html, "tr")
        for link in elements(row, "a")[:1]
        if attr(link, "href").startswith("/moderation/appeals/")
    ]


def test_the_appeals_list_finds_a_person_by_name_or_address(client, compliance):
    nadia = AppealFactory(appellant=UserFactory(username="nadia_k", email="nk@mail.example"))
    other = AppealFactory(appellant=UserFactory(username="bruno"))
    report = ReportFactory(reporter=None, reporter_email="complainant@mail.example")
    by_mail = AppealFactory(appellant=None, appellant_email="complainant@mail.example", sanction=None, report=report)
    client.force_login(compliance)
    assert _rows(client.get(APPEALS, {"q": "nadia"})) == [str(nadia.pk)]
    assert _rows(client.get(APPEALS, {"q": "@nadia_k"})) == [str(nadia.pk)]
    assert _rows(client.get(APPEALS, {"q": "NK@mail.example"})) == [str(nadia.pk)]
    assert _rows(client.get(APPEALS, {"q": "complainant@mail.example"})) == [str(by_mail.pk)]
    assert str(other.pk) in _rows(client.get(APPEALS))


def test_the_appeals_list_finds_a_decision_by_sanction_report_or_kind(client, compliance):
    timeout = AppealFactory(sanction=SanctionFactory(kind=ActionKind.TIMEOUT))
    warned_report = ReportFactory()
    warning = AppealFactory(sanction=SanctionFactory(kind=ActionKind.WARNING, reports=[warned_report]))
    dismissed = ReportFactory(status=ReportStatus.DISMISSED)
    on_report = AppealFactory(appellant=dismissed.reporter, sanction=None, report=dismissed)
    client.force_login(compliance)
    assert _rows(client.get(APPEALS, {"q": str(timeout.sanction_id)})) == [str(timeout.pk)]
    assert _rows(client.get(APPEALS, {"q": str(timeout.sanction_id)[:8]})) == [str(timeout.pk)]
    assert _rows(client.get(APPEALS, {"q": dismissed.short_id})) == [str(on_report.pk)]
    assert _rows(client.get(APPEALS, {"q": str(warned_report.pk)})) == [
        str(warning.pk)
    ]  # a report the sanction settled
    assert _rows(client.get(APPEALS, {"kind": ActionKind.TIMEOUT})) == [str(timeout.pk)]
    html = client.get(APPEALS).content.decode()
    assert [text(option) for option in elements(one(html, "select", name="kind"), "option")][:3] == [
        "Any decision",
        "Warning",
        "Timeout (temporary restriction)",
    ]


def test_the_appeals_list_sorts_by_due_date_filed_date_or_status(client, compliance):
    now = timezone.now()
    early_due = AppealFactory(due_at=now + timedelta(days=1))
    late_due = AppealFactory(due_at=now + timedelta(days=9))
    decided = AppealFactory(due_at=now + timedelta(days=5), status=AppealStatus.UPHELD)
    Appeal.objects.filter(pk=early_due.pk).update(created_at=now - timedelta(days=3))
    Appeal.objects.filter(pk=late_due.pk).update(created_at=now - timedelta(days=1))
    Appeal.objects.filter(pk=decided.pk).update(created_at=now - timedelta(days=2))
    client.force_login(compliance)
    any_status = {"status": ""}
    assert _rows(client.get(APPEALS, {**any_status, "sort": "due"})) == [
        str(early_due.pk),
        str(decided.pk),
        str(late_due.pk),
    ]
    assert _rows(client.get(APPEALS, {**any_status, "sort": "newest"})) == [
        str(late_due.pk),
        str(decided.pk),
        str(early_due.pk),
    ]
    assert _rows(client.get(APPEALS, {**any_status, "sort": "status"})) == [
        str(early_due.pk),
        str(late_due.pk),
        str(decided.pk),
    ]
    # An unknown order falls back to the due date rather than failing.
    assert _rows(client.get(APPEALS, {**any_status, "sort": "sideways"}))[0] == str(early_due.pk)
