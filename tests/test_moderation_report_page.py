"""One report's page: what it shows (snapshot, evidence, other reports, both accounts' histories,
timeline, history), every action through the page, conflicts, the reporter's answer, files, and a
fixed number of queries."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertInHTML

from audit.models import AuditEvent
from moderation import services
from moderation.models import ReportNote
from reports import services as report_services
from reports.models import InfoRequest, Report, ReportStatus, TargetState
from tests.conftest import png_bytes
from tests.factories import (
    EvidenceFactory,
    InfoRequestFactory,
    ReportFactory,
    ReportNoteFactory,
    SanctionFactory,
    TargetFactory,
    UserFactory,
)
from tests.html import attr, elements, one, text

pytestmark = pytest.mark.django_db


def page_url(report) -> str:
    return reverse("moderation:report", args=[report.pk])


def action(name: str, report) -> str:
    return reverse(f"moderation:{name}", args=[report.pk])


@pytest.fixture
def mod_client(client, moderator):
    client.force_login(moderator)
    return client


def test_the_three_panels_count_what_each_one_says(mod_client):
    """This target's other reports, the reported account's reports on other content, the
    reporter's other reports: counted in one query, each over its own reports only."""
    owner, reporter = UserFactory(), UserFactory()
    target = TargetFactory(owner=owner)
    report = ReportFactory(target=target, reporter=reporter)
    ReportFactory(target=target, status=ReportStatus.PENDING)
    ReportFactory(target=target, status=ReportStatus.DISMISSED, reporter=reporter)
    elsewhere = TargetFactory(owner=owner)
    for status in (ReportStatus.PENDING, ReportStatus.RESOLVED, ReportStatus.RESOLVED, ReportStatus.DISMISSED):
        ReportFactory(target=elsewhere, status=status)
    ReportFactory(reporter=reporter, status=ReportStatus.RESOLVED)
    ReportFactory(reporter=reporter, status=ReportStatus.DISMISSED, manifestly_unfounded=True)
    ReportFactory()  # nobody's business here

    context = mod_client.get(page_url(report)).context
    assert (context["others_count"], context["others_open_count"]) == (2, 1)
    assert context["account"]["counts"] == {"total": 4, "open": 1, "resolved": 2, "dismissed": 1}
    stats = context["reporter_stats"]
    assert {key: stats[key] for key in ("total", "open", "acted", "dismissed", "unfounded")} == {
        "total": 3,
        "open": 0,
        "acted": 1,
        "dismissed": 2,
        "unfounded": 1,
    }
    assert stats["acted_share"] == 33


def test_a_report_without_owner_or_reporter_counts_its_target_only(mod_client):
    report = ReportFactory(target=TargetFactory(owner=None), reporter=None, reporter_name="Anon", reporter_email="")
    context = mod_client.get(page_url(report)).context
    assert (context["others_count"], context["others_open_count"], context["account"]) == (0, 0, {})
    assert context["reporter_stats"] == {}


def test_the_page_shows_the_case_and_its_context(mod_client, moderator):
    owner, reporter = UserFactory(username="loud_owner"), UserFactory(username="kind_reporter")
    target = TargetFactory(owner=owner, snapshot_text="you are pathetic, log off")
    report = ReportFactory(target=target, reporter=reporter, reason="Insults every night in #lobby")
    other = ReportFactory(target=target, reason="Same person again")
    earlier = ReportFactory(target=TargetFactory(owner=owner), status=ReportStatus.RESOLVED)
    SanctionFactory(account=owner, reports=[earlier])
    ReportFactory(reporter=reporter, status=ReportStatus.RESOLVED)
    ReportFactory(reporter=reporter, status=ReportStatus.DISMISSED)
    ReportNoteFactory(report=report, author=moderator, body="Checked the room log at 21:00.")
    InfoRequestFactory(report=report, question="Which evening was the worst?", asked_by=moderator)
    services.report_escalate(actor=moderator, report_id=report.pk, reason="Might be a threat")

    html = mod_client.get(page_url(report)).content.decode()
    assert "Insults every night in #lobby" in html and "you are pathetic, log off" in html
    assert reverse("moderation:report", args=[other.pk]) in html  # other reports on the target
    assert reverse("moderation:report", args=[earlier.pk]) in html  # the account's earlier reports
    assert "Warning" in html and "Sanctions" in html  # and its sanctions
    assert re.search(r"<dt>Acted on</dt><dd>1</dd>.*?<dt>Dismissed</dt><dd>1</dd>", html, re.S)  # reporter
    assert "Checked the room log at 21:00." in html and "Which evening was the worst?" in html
    assert "Waiting for the reporter" in html
    # The history from the audit log, with the change spelled out.
    assert "A report was escalated to compliance review" in html and "Might be a threat" in html
    assertInHTML('<span class="badge badge-pending" data-status="pending">Pending</span>', html)


def test_review_through_the_page_and_the_report_leaves_the_open_queue(mod_client, moderator):
    report = ReportFactory()
    response = mod_client.post(
        action("review", report),
        {"status": "resolved", "admin_notes": "Removed by the platform.", "expected_status": "pending"},
    )
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.status == "resolved" and report.admin_notes == "Removed by the platform."
    assert report.reviewed_by == moderator
    queue = mod_client.get(reverse("moderation:queue"))
    assert str(report.pk) not in queue.content.decode()


def test_save_and_take_next(mod_client, moderator):
    report, following = ReportFactory(), ReportFactory()
    response = mod_client.post(
        action("review", report), {"status": "dismissed", "expected_status": "pending", "then": "next"}
    )
    assert response["Location"] == page_url(following)
    following.refresh_from_db()
    assert following.assignee == moderator
    response = mod_client.post(
        action("review", following), {"status": "dismissed", "expected_status": "pending", "then": "next"}
    )
    assert response["Location"].startswith(reverse("moderation:queue"))


def test_review_can_settle_the_other_open_reports_on_the_target(mod_client):
    target = TargetFactory()
    report, second, third = (ReportFactory(target=target) for _ in range(3))
    closed = ReportFactory(target=target, status=ReportStatus.DISMISSED)
    mod_client.post(
        action("review", report),
        {"status": "dismissed", "admin_notes": "Banter", "expected_status": "pending", "apply_to_target": "on"},
    )
    assert set(Report.objects.filter(target=target).values_list("status", flat=True)) == {"dismissed"}
    events = AuditEvent.objects.filter(event_type="report.reviewed")
    assert events.count() == 3 and len({e.correlation_id for e in events}) == 1
    assert closed.pk not in {uuid for uuid in events.values_list("object_id", flat=True)}
    assert second and third


def test_a_stale_review_is_refused_with_who_decided_and_the_notes_kept(mod_client):
    colleague = UserFactory(username="quick_colleague", role="moderator")
    report = ReportFactory()
    services.report_review(actor=colleague, report_id=report.pk, status="dismissed")
    response = mod_client.post(
        action("review", report),
        {"status": "resolved", "admin_notes": "My careful notes", "expected_status": "pending"},
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert "quick_colleague" in html and "already marked dismissed" in html
    report.refresh_from_db()
    assert report.status == "dismissed" and report.admin_notes == ""
    assert AuditEvent.objects.filter(event_type="report.reviewed").count() == 1
    # The words typed are offered back as a note, not lost.
    assert [text(box).strip() for box in elements(html, "textarea") if text(box).strip()] == ["My careful notes"]


def test_review_form_errors_keep_the_page(mod_client):
    report = ReportFactory()
    response = mod_client.post(action("review", report), {"status": "", "expected_status": "pending"})
    assert response.status_code == 400 and "This field is required" in response.content.decode()
    response = mod_client.post(
        action("review", report), {"status": "resolved", "admin_notes": "x" * 5001, "expected_status": "pending"}
    )
    assert response.status_code == 400
    # A note typed with Windows line breaks counts each break once, as the browser's counter did.
    notes = "line\r\n" * 833 + "x"  # 4,999 characters once normalised
    response = mod_client.post(
        action("review", report), {"status": "resolved", "admin_notes": notes, "expected_status": "pending"}
    )
    assert response.status_code == 302


def test_assign_to_me_someone_and_unassign(mod_client, moderator):
    colleague = UserFactory(role="moderator")
    report = ReportFactory()
    mod_client.post(action("assign", report), {"assignee": moderator.pk, "expected_assignee": ""})
    report.refresh_from_db()
    assert report.assignee == moderator
    mod_client.post(action("assign", report), {"assignee": colleague.pk, "expected_assignee": moderator.pk})
    report.refresh_from_db()
    assert report.assignee == colleague
    mod_client.post(action("assign", report), {"assignee": "", "expected_assignee": colleague.pk})
    report.refresh_from_db()
    assert report.assignee is None
    assert AuditEvent.objects.filter(event_type="report.assigned").count() == 3


def test_assigning_a_report_someone_took_meanwhile_is_refused(mod_client, moderator):
    colleague = UserFactory(username="fast_taker", role="moderator")
    report = ReportFactory()
    services.report_assign(actor=colleague, report_id=report.pk, assignee=colleague)
    response = mod_client.post(action("assign", report), {"assignee": moderator.pk, "expected_assignee": ""})
    assert response.status_code == 409 and "fast_taker" in response.content.decode()
    report.refresh_from_db()
    assert report.assignee == colleague


def test_escalate_note_and_question_through_the_page(mod_client):
    report = ReportFactory()
    assert mod_client.post(action("escalate", report), {"reason": ""}).status_code == 400
    mod_client.post(action("escalate", report), {"reason": "Credible threat"})
    mod_client.post(action("note", report), {"body": "Asked the platform for the room log."})
    mod_client.post(action("ask", report), {"question": "Did they contact you elsewhere too?"})
    report.refresh_from_db()
    assert report.escalated and report.escalation_reason == "Credible threat"
    assert ReportNote.objects.get(report=report).body == "Asked the platform for the room log."
    assert InfoRequest.objects.get(report=report).question == "Did they contact you elsewhere too?"
    assert set(AuditEvent.objects.values_list("event_type", flat=True)) == {
        "report.escalated",
        "report.note_added",
        "report.info_requested",
    }


def test_reopen_is_offered_to_admins_only(client, moderator, admin_user):
    report = ReportFactory(status=ReportStatus.RESOLVED, reviewed_by=moderator, reviewed_at=timezone.now())
    client.force_login(moderator)
    assert "Reopen this report" not in client.get(page_url(report)).content.decode()
    assert client.post(action("reopen", report), {"reason": "no"}).status_code == 403
    client.force_login(admin_user)
    assert "Reopen this report" in client.get(page_url(report)).content.decode()
    assert client.post(action("reopen", report), {"reason": ""}).status_code == 400
    client.post(action("reopen", report), {"reason": "The appeal brought new facts."})
    report.refresh_from_db()
    assert report.status == ReportStatus.REVIEWED


def test_compliance_can_clear_an_escalation_a_moderator_cannot(client, moderator, compliance):
    report = ReportFactory(escalated=True, escalation_reason="Check")
    client.force_login(moderator)
    assert client.post(action("deescalate", report), {"reason": "fine"}).status_code == 403
    client.force_login(compliance)
    client.post(action("deescalate", report), {"reason": "Not a legal matter"})
    report.refresh_from_db()
    assert not report.escalated


def test_the_reporters_answer_appears_in_the_timeline(client, moderator):
    reporter = UserFactory()
    report = ReportFactory(reporter=reporter)
    services.report_request_info(actor=moderator, report_id=report.pk, question="What time was it?")
    info = InfoRequest.objects.get()
    client.force_login(reporter)
    mine = client.get(reverse("reports:detail", args=[report.pk])).content.decode()
    assert "What time was it?" in mine and "Send answer" in mine
    response = client.post(
        reverse("reports:detail", args=[report.pk]), {"info_request": info.pk, "answer": "Around 9pm, Tuesday."}
    )
    assert response.status_code == 302
    info.refresh_from_db()
    assert info.answer == "Around 9pm, Tuesday." and info.answered_at is not None
    event = AuditEvent.objects.get(event_type="report.info_answered")
    assert event.actor == reporter and event.object_id == str(report.pk)
    # Answered once only.
    again = client.post(reverse("reports:detail", args=[report.pk]), {"info_request": info.pk, "answer": "More"})
    assert again.status_code == 400 and "already answered" in again.content.decode()
    client.force_login(moderator)
    html = client.get(page_url(report)).content.decode()
    assert "Reporter answered" in html and "Around 9pm, Tuesday." in html


def test_nobody_else_can_answer_the_reporters_question(client, moderator, other_user):
    report = ReportFactory()
    info = services.report_request_info(actor=moderator, report_id=report.pk, question="Where?")
    client.force_login(other_user)
    response = client.post(reverse("reports:detail", args=[report.pk]), {"info_request": info.pk, "answer": "x"})
    assert response.status_code == 404
    with pytest.raises(InfoRequest.DoesNotExist):
        report_services.info_request_answer(actor=other_user, info_request_id=info.pk, answer="x")
    info.refresh_from_db()
    assert info.answered_at is None


def test_images_are_blurred_and_served_only_through_checked_views(mod_client, client, user):
    report = ReportFactory()
    evidence = EvidenceFactory(report=report, original_name="shot.png", content_type="image/png")
    evidence.file.save("shot.png", ContentFile(png_bytes()), save=True)
    pdf = EvidenceFactory(report=report, original_name='notes "final".pdf', content_type="application/pdf")
    pdf.file.save("notes.pdf", ContentFile(b"%PDF-1.4 test"), save=True)
    target = report.target
    target.snapshot_file.save("snap", ContentFile(png_bytes()), save=False)
    target.snapshot_content_type = "image/png"
    target.save()

    html = mod_client.get(page_url(report)).content.decode()
    assert 'class="blurred"' in html and "data-reveal" in html
    assert reverse("moderation:evidence", args=[evidence.pk]) in html
    assert "/media" not in html  # never a public file URL

    image = mod_client.get(reverse("moderation:evidence", args=[evidence.pk]))
    assert image.status_code == 200 and image["Content-Type"] == "image/png"
    assert image["X-Content-Type-Options"] == "nosniff" and image["Content-Disposition"].startswith("inline")
    assert b"".join(image.streaming_content) == png_bytes()
    document = mod_client.get(reverse("moderation:evidence", args=[pdf.pk]))
    assert document["Content-Type"] == "application/octet-stream"
    assert document["Content-Disposition"].startswith("attachment") and document["X-Content-Type-Options"] == "nosniff"
    snapshot = mod_client.get(reverse("moderation:snapshot", args=[target.public_id]))
    assert snapshot.status_code == 200 and snapshot["X-Content-Type-Options"] == "nosniff"
    assert "Content-Disposition" in snapshot

    client.force_login(user)
    assert client.get(reverse("moderation:evidence", args=[evidence.pk])).status_code == 404
    assert client.get(reverse("moderation:snapshot", args=[target.public_id])).status_code == 404


def test_removed_content_is_for_compliance_only(client, moderator, compliance):
    report = ReportFactory(target=TargetFactory(state=TargetState.REMOVED, snapshot_text="the removed words"))
    target = report.target
    target.snapshot_file.save("snap", ContentFile(png_bytes()), save=False)
    target.snapshot_content_type = "image/png"
    target.save()
    client.force_login(moderator)
    html = client.get(page_url(report)).content.decode()
    assert "the removed words" not in html and "Only compliance officers" in html
    assert client.get(reverse("moderation:snapshot", args=[target.public_id])).status_code == 404
    client.force_login(compliance)
    assert "the removed words" in client.get(page_url(report)).content.decode()
    assert client.get(reverse("moderation:snapshot", args=[target.public_id])).status_code == 200


def test_purged_evidence_is_gone_but_its_hash_stays(mod_client):
    report = ReportFactory()
    evidence = EvidenceFactory(report=report, purged_at=timezone.now() - timedelta(days=1))
    assert "deleted" in mod_client.get(page_url(report)).content.decode()
    assert mod_client.get(reverse("moderation:evidence", args=[evidence.pk])).status_code == 404


def _busy_report(size: int) -> Report:
    owner = UserFactory()
    target = TargetFactory(owner=owner)
    report = ReportFactory(target=target)
    staff = [UserFactory(role="moderator") for _ in range(3)]
    for n in range(size):
        ReportFactory(target=target, assignee=staff[n % 3])
        earlier = ReportFactory(target=TargetFactory(owner=owner), status=ReportStatus.RESOLVED)
        SanctionFactory(account=owner, reports=[earlier], decided_by=staff[n % 3])
        EvidenceFactory(report=report)
        ReportNoteFactory(report=report, author=staff[n % 3])
        InfoRequestFactory(report=report, asked_by=staff[n % 3])
        services.report_assign(actor=staff[n % 3], report_id=report.pk, assignee=staff[n % 3])
    return report


def test_the_page_costs_the_same_queries_however_busy_the_report(client, moderator, django_assert_max_num_queries):
    quiet, busy = _busy_report(2), _busy_report(12)
    client.force_login(moderator)
    counts = []
    for report in (quiet, busy):
        client.get(page_url(report))
        with CaptureQueriesContext(connection) as queries:
            assert client.get(page_url(report)).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]
    with django_assert_max_num_queries(20):
        client.get(page_url(busy))


def test_internal_notes_never_reach_the_reporter(client, moderator):
    reporter = UserFactory()
    report = ReportFactory(reporter=reporter)
    services.report_add_note(actor=moderator, report_id=report.pk, body="Internal: owner is a repeat offender")
    services.report_review(actor=moderator, report_id=report.pk, status="reviewed", admin_notes="Admin-only words")
    client.force_login(reporter)
    html = client.get(reverse("reports:detail", args=[report.pk])).content.decode()
    assert "repeat offender" not in html and "Admin-only words" not in html
    assert client.get(page_url(report)).status_code == 404


def test_the_side_lists_escape_user_text_and_read_like_the_template_filters(mod_client):
    """The other reports, the account's earlier reports and its sanctions
    (templates/jinja2/moderation/_report_side_lists.html): every name and title shown as text, the
    dates as Django's date filter writes them, a deadline only on the open ones."""
    from django.template.defaultfilters import date as date_filter
    from django.template.defaultfilters import truncatechars

    payload = '<script>alert("x")</script>'
    owner = UserFactory(username="owner_x")
    target = TargetFactory(owner=owner)
    report = ReportFactory(target=target)
    hostile = UserFactory(username="u" + payload[:20].replace("<", "").replace(">", "").replace("/", ""))
    other_open = ReportFactory(target=target, reporter=hostile, status=ReportStatus.PENDING)
    other_closed = ReportFactory(target=target, reporter=None, status=ReportStatus.DISMISSED)
    earlier = ReportFactory(target=TargetFactory(owner=owner, title=payload + " and a long title after it"))
    decider = UserFactory(username="decider")
    sanction = SanctionFactory(account=owner, decided_by=decider, ends_at=timezone.now() + timedelta(days=3))

    html = mod_client.get(page_url(report)).content.decode()
    assert not [el for el in elements(html, "script") if not attr(el, "src")]  # no element from the payload
    lines = {
        attr(link, "href"): item
        for item in elements(html, "li")
        for link in elements(item, "a")[:1]
        if attr(link, "href") and attr(link, "href").startswith(("/moderation/reports/", "/moderation/sanctions/"))
    }
    local = timezone.localtime

    def line(obj, name="moderation:report"):
        return lines[reverse(name, args=[obj.pk])]

    # The earlier report's title, cut like |truncatechars:40, as text.
    assert text(line(earlier)).endswith(
        f"{truncatechars(earlier.target.title, 40)} · {date_filter(local(earlier.created_at), 'j M Y')}"
    )
    assert text(one(line(other_open), "span", class_="block")).startswith(
        f"@{hostile.username} · {date_filter(local(other_open.created_at), 'j M, H:i')}"
    )
    assertInHTML(
        f'<a href="{reverse("moderation:report", args=[other_open.pk])}">{other_open.get_category_display()}</a>',
        str(line(other_open)),
    )
    assert "no account" in text(line(other_closed))
    assert elements(line(other_open), "span", class_="deadline") and not elements(
        line(other_closed), "span", class_="deadline"
    )
    assertInHTML(
        f'<span class="badge badge-pending" data-status="pending">{other_open.get_status_display()}</span>',
        str(line(other_open)),
    )
    sanction_line = line(sanction, "enforcement:sanction")
    assertInHTML(
        f'<a href="{reverse("enforcement:sanction", args=[sanction.pk])}">{sanction.get_kind_display()}</a>',
        str(sanction_line),
    )
    assertInHTML(
        f'<span class="badge badge-sanction-{sanction.status}">{sanction.get_status_display()}</span>',
        str(sanction_line),
    )
    assert text(one(sanction_line, "span", class_="block")) == (
        f"{date_filter(local(sanction.decided_at), 'j M Y')} by decider · "
        f"until {date_filter(local(sanction.ends_at), 'j M Y')}"
    )


def test_history_lines_read_the_choice_labels_not_the_stored_values(mod_client, moderator):
    """Issue 17, item 10: "Category: — → Non-consensual intimate content", never "non consensual"."""
    from tests.test_enforcement import decide

    reporter = UserFactory()
    report = report_services.report_file(
        actor=reporter, target=TargetFactory(), category="non_consensual", reason="Shared without my consent."
    )
    decide(moderator, report, "timeout", ends_at=timezone.now() + timedelta(days=1))
    history = one(mod_client.get(page_url(report)).content.decode(), "ol", class_="history")
    # Each line as "<label>:<before>→<after>" (the parser drops the spaces between elements).
    lines = [text(line) for changes in elements(history, "ul", class_="changes") for line in elements(changes, "li")]
    assert "Category:—→Non-consensual intimate content" in lines
    assert "Severity:—→Critical" in lines and "Type:—→Chat message" in lines
    assert "Status:—→Pending" in lines and "Status:Pending→Resolved" in lines
    assert "Action:—→Timeout (temporary restriction)" in lines  # the sanction's own event
    assert "Status:—→Active" in lines  # a sanction's status, from the sanction's table
    assert not [line for line in lines if "non consensual" in line or "_" in line]
    details = {text(dt): text(dd) for dt, dd in zip(elements(history, "dt"), elements(history, "dd"), strict=True)}
    assert details["Channel"] == "Web form"
