"""moderation/reconcile.py and `manage.py audit_reconcile`: every report's and sanction's row
against the state its audit log last recorded. The services keep them in step; a change made
around them (raw SQL with the app's credentials) is found, with the fields and the event."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEvent
from moderation.enforcement.models import Appeal, Sanction
from moderation.reconcile import Disagreement, reconcile, reconcile_and_record
from moderation.services import report_add_note, report_assign
from reports.models import Report
from reports.services import report_file
from tests.factories import ReportFactory, TargetFactory

pytestmark = pytest.mark.django_db


def filed(user, **kwargs) -> Report:
    return report_file(actor=user, target=TargetFactory(), category="spam", reason="bot spam", **kwargs)


def test_the_rows_the_services_wrote_agree_with_their_audit_log():
    """The demo's month of work (filings, reviews, decisions of every action, lifts, appeals,
    expiries, sweeps), every change through its service."""
    call_command("seed_demo", stdout=io.StringIO())
    result = reconcile(batch=50)  # several batches of each
    assert result.checked == {
        "report": Report.objects.count(),
        "sanction": Sanction.objects.count(),
        "appeal": Appeal.objects.count(),
    }
    assert result.checked["report"] > 100 and result.checked["sanction"] > 50 and result.checked["appeal"] > 3
    assert result.disagreements == []
    # An appeal decided around the services: its row no longer says what its last event did.
    appeal = Appeal.objects.filter(status="pending").first()
    Appeal.objects.filter(pk=appeal.pk).update(status="upheld")
    [found] = reconcile().disagreements
    assert (found.object_type, found.object_id, found.fields) == ("appeal", str(appeal.pk), ("status",))
    assert AuditEvent.objects.get(pk=found.event_id).event_type == "appeal.filed"


def test_a_row_changed_without_an_event_is_found_with_its_fields_and_the_last_recorded_state(user, moderator):
    report = filed(user)
    report_assign(actor=moderator, report_id=report.id, assignee=moderator)
    report_add_note(actor=moderator, report_id=report.id, body="looked at it")  # a part, not a state
    assigned = AuditEvent.objects.get(event_type="report.assigned")
    assert reconcile().disagreements == []
    # The insider's way: the app's credentials, no service, no event.
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE reports_report SET status = 'rejected', assignee_id = NULL WHERE id = %s",
            [report.id.hex] if connection.vendor == "sqlite" else [report.id],
        )
    assert reconcile().disagreements == [Disagreement("report", str(report.id), ("status", "assignee"), assigned.id)]


def test_a_row_no_event_recorded_is_found():
    report = ReportFactory()  # written straight to the table, as raw SQL would
    assert reconcile().disagreements == [Disagreement("report", str(report.id), (), None)]


@pytest.mark.django_db(transaction=True)  # the command's own transactions, as it runs from cron
def test_the_command_names_the_rows_and_exits_1(user):
    report = filed(user)
    Report.objects.filter(pk=report.pk).update(severity="critical")  # an update outside the services
    errors = io.StringIO()
    with pytest.raises(CommandError, match="1 row disagrees with the audit log"):
        call_command("audit_reconcile", stderr=errors)
    assert f"report {report.id}: severity not as event #" in errors.getvalue()
    Report.objects.filter(pk=report.pk).update(
        severity=AuditEvent.objects.get(event_type="report.created").after["severity"]
    )
    out = io.StringIO()
    call_command("audit_reconcile", stdout=out)
    assert "Rows as their audit log records them: 1 reports, 0 sanctions, 0 appeals checked." in out.getvalue()


def test_a_batch_costs_the_same_queries_whatever_it_holds(user):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            reconcile()
        return len(captured.captured_queries)

    filed(user)
    one = queries()
    for _ in range(20):
        ReportFactory()
    assert queries() == one


def test_the_daily_task_logs_each_row_that_disagrees_as_an_error(user, caplog):
    from moderation.tasks import audit_reconcile

    report = filed(user)
    assert audit_reconcile() == 0
    Report.objects.filter(pk=report.pk).update(escalated=True)
    with caplog.at_level("ERROR", logger="moderation.tasks"):
        assert audit_reconcile() == 1
    [line] = [record.getMessage() for record in caplog.records if record.levelname == "ERROR"]
    assert f"report {report.id} disagrees with its audit log (fields: escalated; last recorded state: event" in line


def test_each_run_is_recorded_and_the_audit_page_shows_the_latest(client, user, compliance):
    page = "/audit/"
    client.force_login(compliance)
    assert "Rows not yet checked against the log" in client.get(page).content.decode()
    report = filed(user)
    reconcile_and_record()
    event = AuditEvent.objects.get(event_type="audit.reconciled")
    assert event.actor_label == "audit_reconcile" and (event.object_type, event.object_id) == ("audit_log", "reconcile")
    assert event.data == {"checked": {"report": 1, "sanction": 0, "appeal": 0}, "disagreements": 0, "named": []}
    html = client.get(page).content.decode()
    assert "1 reports, 0 sanctions and 0 appeals, each as its last event recorded." in html
    Report.objects.filter(pk=report.pk).update(status="rejected")
    reconcile_and_record()
    latest = AuditEvent.objects.filter(event_type="audit.reconciled").order_by("-id").first()
    assert latest.data["disagreements"] == 1
    assert latest.data["named"] == [
        ["report", str(report.id), ["status"], AuditEvent.objects.get(event_type="report.created").id]
    ]
    html = client.get(page).content.decode()
    assert 'role="alert"' in html and "1 row disagrees with the state its last event recorded" in html
    assert f"event #{latest.id} names it" in html
