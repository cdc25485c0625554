"""The transition table (every allowed and every refused move), reopening, version checks on review
and assignment, notes, questions, escalation, bulk work: each with its audit event."""

from __future__ import annotations

import itertools
import uuid

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError

from audit.models import AuditEvent
from moderation import services, workflow
from moderation.models import ReportNote
from reports.models import InfoRequest, Report, ReportStatus
from tests.factories import ReportFactory, TargetFactory, UserFactory

pytestmark = pytest.mark.django_db

ALLOWED = {
    ("pending", "reviewed"),
    ("pending", "resolved"),
    ("pending", "dismissed"),
    ("reviewed", "resolved"),
    ("reviewed", "dismissed"),
}
EVERY_MOVE = list(itertools.product(ReportStatus.values, ReportStatus.values))


def events(report, event_type: str | None = None):
    found = AuditEvent.objects.for_object("report", report.pk)
    return found.filter(event_type=event_type) if event_type else found


def test_the_table_is_the_platforms_contract():
    assert {(a, b) for a, b in EVERY_MOVE if workflow.can_move(a, b)} == ALLOWED
    assert workflow.next_statuses("pending") == ["reviewed", "resolved", "dismissed"]
    assert workflow.next_statuses("resolved") == []


@pytest.mark.parametrize(("current", "new"), sorted(ALLOWED))
def test_every_allowed_move_records_reviewer_time_notes_and_one_event(moderator, current, new):
    report = ReportFactory(status=current)
    services.report_review(actor=moderator, report_id=report.pk, status=new, admin_notes="  Checked the log.  ")
    report.refresh_from_db()
    assert report.status == new and report.reviewed_by == moderator and report.reviewed_at is not None
    assert report.admin_notes == "Checked the log."
    assert (report.closed_at is not None) == (new in ("resolved", "dismissed"))
    [event] = events(report, "report.reviewed")
    assert event.actor == moderator
    assert (event.before["status"], event.after["status"]) == (current, new)
    assert event.data == {"admin_notes": "Checked the log."}


@pytest.mark.parametrize(("current", "new"), sorted(set(EVERY_MOVE) - ALLOWED))
def test_every_refused_move_changes_nothing_and_records_nothing(moderator, current, new):
    report = ReportFactory(status=current)
    with pytest.raises(services.TransitionRefused):
        services.report_review(actor=moderator, report_id=report.pk, status=new)
    report.refresh_from_db()
    assert report.status == current and report.reviewed_by is None
    assert not events(report, "report.reviewed").exists()


def test_unknown_status_and_long_notes_are_refused(moderator):
    report = ReportFactory()
    with pytest.raises(ValidationError):
        services.report_review(actor=moderator, report_id=report.pk, status="deleted")
    with pytest.raises(ValidationError):
        services.report_review(actor=moderator, report_id=report.pk, status="resolved", admin_notes="x" * 5001)
    services.report_review(actor=moderator, report_id=report.pk, status="resolved", admin_notes="x" * 5000)
    report.refresh_from_db()
    assert len(report.admin_notes) == 5000


def test_a_plain_user_cannot_review(user):
    report = ReportFactory()
    with pytest.raises(PermissionDenied):
        services.report_review(actor=user, report_id=report.pk, status="resolved")


def test_expected_status_refuses_a_stale_decision_and_names_who_decided(moderator):
    colleague = UserFactory(username="mia_mod", role="moderator")
    report = ReportFactory()
    services.report_review(actor=colleague, report_id=report.pk, status="reviewed", expected_status="pending")
    with pytest.raises(services.TransitionRefused, match="mia_mod"):
        services.report_review(actor=moderator, report_id=report.pk, status="resolved", expected_status="pending")
    report.refresh_from_db()
    assert report.status == "reviewed" and report.reviewed_by == colleague
    assert events(report, "report.reviewed").count() == 1


def test_closing_mails_the_reporter_the_outcome(moderator, django_capture_on_commit_callbacks):
    report = ReportFactory()
    with django_capture_on_commit_callbacks(execute=True):
        services.report_review(actor=moderator, report_id=report.pk, status="resolved")
    assert [m.to for m in mail.outbox] == [[report.reporter.email]]


def test_review_on_target_moves_the_other_open_reports_in_one_transaction(moderator):
    target = TargetFactory()
    report, pending = ReportFactory(target=target), ReportFactory(target=target)
    already_reviewed = ReportFactory(target=target, status=ReportStatus.REVIEWED)
    closed = ReportFactory(target=target, status=ReportStatus.DISMISSED)
    elsewhere = ReportFactory()
    result = services.report_review_on_target(
        actor=moderator, report_id=report.pk, status="reviewed", admin_notes="Looking", expected_status="pending"
    )
    # "reviewed" cannot be given to a report already reviewed: it is left as it is, and named.
    assert result.report.pk == report.pk and result.also == [pending.pk] and result.left == [already_reviewed.pk]
    statuses = dict(Report.objects.values_list("pk", "status"))
    assert statuses[report.pk] == statuses[pending.pk] == "reviewed"
    assert statuses[closed.pk] == "dismissed" and statuses[elsewhere.pk] == "pending"
    reviewed = AuditEvent.objects.filter(event_type="report.reviewed")
    assert set(reviewed.values_list("object_id", flat=True)) == {str(report.pk), str(pending.pk)}
    assert set(reviewed.values_list("correlation_id", flat=True)) == {result.correlation_id}


def test_review_on_target_refused_for_the_report_changes_none_of_the_others(moderator):
    target = TargetFactory()
    report, other = ReportFactory(target=target), ReportFactory(target=target)
    services.report_review(actor=UserFactory(role="moderator"), report_id=report.pk, status="dismissed")
    with pytest.raises(services.TransitionRefused):
        services.report_review_on_target(
            actor=moderator, report_id=report.pk, status="resolved", expected_status="pending"
        )
    other.refresh_from_db()
    assert other.status == "pending" and not events(other).filter(event_type="report.reviewed").exists()


def test_review_on_target_without_apply_touches_only_the_report(moderator):
    target = TargetFactory()
    report, other = ReportFactory(target=target), ReportFactory(target=target)
    result = services.report_review_on_target(
        actor=moderator, report_id=report.pk, status="dismissed", apply_to_target=False
    )
    other.refresh_from_db()
    assert result.also == result.left == [] and other.status == "pending"


def test_review_on_target_of_a_report_that_does_not_exist(moderator):
    with pytest.raises(Report.DoesNotExist):
        services.report_review_on_target(actor=moderator, report_id=uuid.uuid4(), status="dismissed")


def test_reopen_is_for_admins_with_a_reason(moderator, compliance, admin_user):
    report = ReportFactory(status=ReportStatus.DISMISSED)
    for who in (moderator, compliance):
        with pytest.raises(PermissionDenied):
            services.report_reopen(actor=who, report_id=report.pk, reason="Looks wrong")
    with pytest.raises(ValidationError):
        services.report_reopen(actor=admin_user, report_id=report.pk, reason="  ")
    services.report_reopen(actor=admin_user, report_id=report.pk, reason="New evidence arrived.")
    report.refresh_from_db()
    assert report.status == ReportStatus.REVIEWED and report.closed_at is None
    [event] = events(report, "report.reopened")
    assert event.data == {"reason": "New evidence arrived."} and event.actor == admin_user
    with pytest.raises(services.TransitionRefused):  # an open report cannot be reopened
        services.report_reopen(actor=admin_user, report_id=report.pk, reason="again")


def test_assignment_with_version_check_never_takes_a_report_silently(moderator):
    colleague = UserFactory(username="kai", role="moderator")
    report = ReportFactory()
    services.report_assign(actor=colleague, report_id=report.pk, assignee=colleague, expected_assignee_id=None)
    with pytest.raises(services.TransitionRefused, match="kai"):
        services.report_assign(actor=moderator, report_id=report.pk, assignee=moderator, expected_assignee_id=None)
    report.refresh_from_db()
    assert report.assignee == colleague
    # Taking over on purpose (the moderator saw kai's name) works and is recorded.
    services.report_assign(actor=moderator, report_id=report.pk, assignee=moderator, expected_assignee_id=colleague.pk)
    report.refresh_from_db()
    assert report.assignee == moderator
    assert [e.data["assignee"] for e in events(report, "report.assigned").order_by("id")] == ["kai", moderator.username]


def test_assigning_to_a_plain_user_is_refused_and_unassign_is_recorded(moderator, user):
    report = ReportFactory(assignee=moderator)
    with pytest.raises(ValidationError):
        services.report_assign(actor=moderator, report_id=report.pk, assignee=user)
    services.report_assign(actor=moderator, report_id=report.pk, assignee=None)
    report.refresh_from_db()
    assert report.assignee is None
    [event] = events(report, "report.assigned")
    assert event.before["assignee"] == moderator.pk and event.after["assignee"] is None


def test_notes_are_audited_and_limited(moderator):
    report = ReportFactory()
    note = services.report_add_note(actor=moderator, report_id=report.pk, body=" Called the room owner. ")
    assert ReportNote.objects.get().body == "Called the room owner."
    [event] = events(report, "report.note_added")
    assert event.data == {"note_id": note.pk, "body": "Called the room owner."}
    for bad in ("   ", "x" * 5001):
        with pytest.raises(ValidationError):
            services.report_add_note(actor=moderator, report_id=report.pk, body=bad)


def test_question_to_the_reporter_is_audited_and_mailed(moderator, django_capture_on_commit_callbacks):
    report = ReportFactory()
    with django_capture_on_commit_callbacks(execute=True):
        info = services.report_request_info(actor=moderator, report_id=report.pk, question="Which room was it?")
    assert InfoRequest.objects.get() == info
    assert events(report, "report.info_requested").get().data["question"] == "Which room was it?"
    assert mail.outbox[0].to == [report.reporter.email]


def test_no_question_to_a_complaint_without_an_account(moderator):
    report = ReportFactory(reporter=None, reporter_email="someone@example.test")
    with pytest.raises(ValidationError):
        services.report_request_info(actor=moderator, report_id=report.pk, question="Which room?")


def test_escalation_and_its_clearing(moderator, compliance):
    report = ReportFactory()
    with pytest.raises(ValidationError):
        services.report_escalate(actor=moderator, report_id=report.pk, reason="")
    services.report_escalate(actor=moderator, report_id=report.pk, reason="Threat to life")
    services.report_escalate(actor=moderator, report_id=report.pk, reason="again")  # idempotent
    report.refresh_from_db()
    assert report.escalated and report.escalation_reason == "Threat to life"
    assert events(report, "report.escalated").count() == 1
    with pytest.raises(PermissionDenied):
        services.report_deescalate(actor=moderator, report_id=report.pk, reason="fine")
    services.report_deescalate(actor=compliance, report_id=report.pk, reason="Handled by police")
    report.refresh_from_db()
    assert not report.escalated


def test_bulk_gives_each_report_its_own_event_sharing_one_correlation_id(moderator):
    reports = [ReportFactory() for _ in range(3)]
    closed = ReportFactory(status=ReportStatus.RESOLVED)
    result = services.reports_bulk(
        actor=moderator, report_ids=[r.pk for r in [*reports, closed]], action="dismissed", note="Spam wave, no abuse."
    )
    assert set(result.done) == {r.pk for r in reports}
    assert list(result.skipped) == [closed.pk]
    reviewed = AuditEvent.objects.filter(event_type="report.reviewed")
    assert reviewed.count() == 3
    assert {e.correlation_id for e in reviewed} == {result.correlation_id}
    assert set(Report.objects.filter(pk__in=[r.pk for r in reports]).values_list("admin_notes", flat=True)) == {
        "Spam wave, no abuse."
    }


def test_bulk_assignment_with_a_note_links_assignments_and_notes(moderator):
    colleague = UserFactory(role="moderator")
    reports = [ReportFactory() for _ in range(2)]
    result = services.reports_bulk(
        actor=moderator, report_ids=[r.pk for r in reports], action="assign", assignee=colleague, note="Yours"
    )
    assert Report.objects.filter(assignee=colleague).count() == 2
    linked = AuditEvent.objects.filter(correlation_id=result.correlation_id)
    assert sorted(linked.values_list("event_type", flat=True)) == ["report.assigned"] * 2 + ["report.note_added"] * 2
    with pytest.raises(ValidationError):
        services.reports_bulk(actor=moderator, report_ids=[reports[0].pk], action="assign", assignee=None)
    with pytest.raises(ValidationError):
        services.reports_bulk(actor=moderator, report_ids=[reports[0].pk], action="delete")


def test_bulk_skips_a_report_that_does_not_exist(moderator):
    missing = uuid.uuid4()
    result = services.reports_bulk(actor=moderator, report_ids=[missing, "not-a-uuid"], action="reviewed")
    assert result.done == [] and list(result.skipped) == [missing]


def test_claim_next_takes_the_most_urgent_unassigned_open_report(moderator):
    from datetime import timedelta

    from django.utils import timezone

    soon = timezone.now() + timedelta(hours=1)
    ReportFactory(due_at=soon - timedelta(hours=5), assignee=UserFactory(role="moderator"))
    ReportFactory(due_at=soon - timedelta(hours=9), status=ReportStatus.RESOLVED)
    low = ReportFactory(category="spam", due_at=soon)
    critical = ReportFactory(category="violence", due_at=soon)
    assert services.report_claim_next(actor=moderator) == critical
    assert services.report_claim_next(actor=moderator) == low
    assert services.report_claim_next(actor=moderator) is None
    critical.refresh_from_db()
    assert critical.assignee == moderator
    assert events(critical, "report.assigned").get().data == {"assignee": moderator.username, "via": "next"}
