"""manage.py sla_sweep: escalates reports past their deadline (critical ones past half of their own
window) and alerts once per report; what it did is printed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from audit.models import AuditEvent
from moderation.services import sla_sweep
from reports.categories import Category
from reports.models import Report, ReportStatus
from tests.factories import ReportFactory

pytestmark = pytest.mark.django_db


def filed(hours_ago: float, window_hours: float, **kwargs) -> Report:
    now = timezone.now()
    report = ReportFactory(due_at=now - timedelta(hours=hours_ago) + timedelta(hours=window_hours), **kwargs)
    Report.objects.filter(pk=report.pk).update(created_at=now - timedelta(hours=hours_ago))
    report.refresh_from_db()
    return report


@pytest.fixture(autouse=True)
def _alert_address(settings):
    settings.MODERATION_ALERT_EMAILS = ["oncall@example.test"]


def test_overdue_and_half_way_critical_reports_are_escalated_once(capsys, django_capture_on_commit_callbacks):
    overdue = filed(170, 168, category=Category.SPAM)
    critical_half = filed(13, 24, category=Category.VIOLENCE)
    critical_early = filed(11, 24, category=Category.VIOLENCE)
    normal_not_due = filed(100, 168, category=Category.HARASSMENT)
    closed_overdue = filed(200, 168, category=Category.SPAM, status=ReportStatus.RESOLVED)

    with django_capture_on_commit_callbacks(execute=True):
        call_command("sla_sweep")
    out = capsys.readouterr().out
    assert f"escalated {overdue.pk}: past its deadline" in out
    assert f"escalated {critical_half.pk}: critical, past half its deadline" in out
    assert "2 report(s) escalated and alerted (1 overdue, 1 critical past half their deadline)." in out

    escalated = set(Report.objects.filter(escalated=True).values_list("pk", flat=True))
    assert escalated == {overdue.pk, critical_half.pk}
    for report in (critical_early, normal_not_due, closed_overdue):
        report.refresh_from_db()
        assert not report.escalated and report.sla_alerted_at is None
    overdue.refresh_from_db()
    assert overdue.escalation_reason == "Past its deadline" and overdue.sla_alerted_at is not None
    events = AuditEvent.objects.filter(event_type="report.sla_breached")
    assert {e.object_id for e in events} == {str(overdue.pk), str(critical_half.pk)}
    assert all(e.actor_label == "system" for e in events)
    assert len(mail.outbox) == 2 and all(m.to == ["oncall@example.test"] for m in mail.outbox)

    # Safe to run every minute: nothing new, nothing mailed again.
    with django_capture_on_commit_callbacks(execute=True):
        call_command("sla_sweep")
    assert "0 report(s) escalated" in capsys.readouterr().out
    assert len(mail.outbox) == 2 and AuditEvent.objects.filter(event_type="report.sla_breached").count() == 2


def test_half_way_is_measured_on_the_reports_own_window(settings):
    # A trusted flagger's critical report has a 12-hour window: half-way is at 6 hours, not at 12.
    fresh = filed(1, 12, category=Category.VIOLENCE, from_trusted_flagger=True)
    half = filed(7, 12, category=Category.VIOLENCE, from_trusted_flagger=True)
    result = sla_sweep()
    assert result.escalated == [half.pk] and result.half_way == [half.pk]
    fresh.refresh_from_db()
    assert not fresh.escalated


def test_an_already_escalated_report_keeps_its_reason_and_is_alerted_once(django_capture_on_commit_callbacks):
    report = filed(30, 24, category=Category.CHILD_SAFETY, escalated=True, escalation_reason="Zero tolerance")
    with django_capture_on_commit_callbacks(execute=True):
        assert sla_sweep().escalated == [report.pk]
    report.refresh_from_db()
    assert report.escalation_reason == "Zero tolerance" and len(mail.outbox) == 1
    assert "needs action" in mail.outbox[0].subject


def test_no_alert_address_still_escalates(settings):
    settings.MODERATION_ALERT_EMAILS = []
    report = filed(200, 168, category=Category.SPAM)
    assert sla_sweep().escalated == [report.pk]
    assert mail.outbox == []
