"""moderation/reconcile.py and `manage.py audit_reconcile`: every report's, sanction's, appeal's and
story's row against the state its audit log last recorded, and every account's rights against its
events. The services keep them in step; a change made around them (raw SQL with the app's
credentials) is found, with the fields and the event."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit import services as audit
from audit.models import AuditEvent
from moderation.accounts import account_update
from moderation.enforcement.models import Appeal, Sanction
from moderation.reconcile import Disagreement, reconcile, reconcile_and_record
from moderation.services import report_add_note, report_assign, staff_create
from moderation.stories.models import StoryReview
from moderation.stories.services import story_approve
from reports.models import Report
from reports.services import report_file
from tests.factories import ReportFactory, TargetFactory, UserFactory
from tests.test_stories import submit

pytestmark = pytest.mark.django_db

SETUP = audit.SystemActor("test setup")


@pytest.fixture
def moderator(db):
    """Made as staff are made (create_staff): its rights are in its event, unlike the factory's."""
    return staff_create(actor=SETUP, username="moderator1", role="moderator")[0]


@pytest.fixture
def admin_staff(db):
    return staff_create(actor=SETUP, username="admin1", role="admin")[0]


@pytest.fixture
def compliance(db):
    return staff_create(actor=SETUP, username="compliance1", role="compliance")[0]


def run_sql(sql: str, params: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def filed(user, **kwargs) -> Report:
    return report_file(actor=user, target=TargetFactory(), category="spam", reason="bot spam", **kwargs)


def test_the_rows_the_services_wrote_agree_with_their_audit_log():
    """The demo's month of work (filings, reviews, decisions of every action, lifts, appeals,
    expiries, sweeps), every change through its service."""
    from moderation.management.commands.seed_demo import DEMO_STAFF

    call_command("seed_demo", stdout=io.StringIO())
    result = reconcile(batch=50)  # several batches of each
    assert result.checked == {
        "report": Report.objects.count(),
        "sanction": Sanction.objects.count(),
        "appeal": Appeal.objects.count(),
        "story": StoryReview.objects.count(),
        "account": len(DEMO_STAFF),  # the staff; the demo's reporters hold no rights
        "group": 3,
    }
    assert result.checked["report"] > 100 and result.checked["sanction"] > 50 and result.checked["appeal"] > 3
    assert result.checked["story"] > 1
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
    run_sql(
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
    event = AuditEvent.objects.get(event_type="report.created")
    assert f"report {report.id}: severity not as event #{event.id} recorded" in errors.getvalue()
    Report.objects.filter(pk=report.pk).update(
        severity=AuditEvent.objects.get(event_type="report.created").after["severity"]
    )
    out = io.StringIO()
    call_command("audit_reconcile", stdout=out)
    assert (
        "Rows as their audit log records them: 1 reports, 0 sanctions, 0 appeals, 0 stories, 0 accounts, 3 groups "
        "checked." in out.getvalue()
    )


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
    event = AuditEvent.objects.get(event_type="report.created")
    assert line == f"audit_reconcile: report {report.id}: escalated not as event #{event.id} recorded"


def test_each_run_is_recorded_and_the_audit_page_shows_the_latest(client, user, compliance):
    page = "/audit/"
    client.force_login(compliance)
    assert "Rows not yet checked against the log" in client.get(page).content.decode()
    report = filed(user)
    reconcile_and_record()
    event = AuditEvent.objects.get(event_type="audit.reconciled")
    assert event.actor_label == "audit_reconcile" and (event.object_type, event.object_id) == ("audit_log", "reconcile")
    checked = {"report": 1, "sanction": 0, "appeal": 0, "story": 0, "account": 1, "group": 3}
    assert event.data == {"checked": checked, "disagreements": 0, "named": []}
    html = client.get(page).content.decode()
    assert "1 reports, 0 sanctions, 0 appeals and 0 stories, each as its last event recorded" in html
    assert "the rights of 1 accounts as their events gave them." in html
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


def test_a_story_published_around_the_review_is_found(moderator):
    """A story's status is what the platform publishes by: set to approved with raw SQL, it would go
    out unreviewed."""
    held = submit("story-raw").story
    decided = submit("story-reviewed").story
    story_approve(actor=moderator, story_id=decided.pk)
    assert reconcile().disagreements == []
    run_sql(
        "UPDATE stories_storyreview SET status = 'approved', decided_at = %s WHERE id = %s",
        [timezone.now(), held.pk.hex if connection.vendor == "sqlite" else held.pk],
    )
    submitted = AuditEvent.objects.get(event_type="story.submitted", object_id=str(held.pk))
    assert reconcile().disagreements == [Disagreement("story", str(held.pk), ("status",), submitted.id)]


# --- rights ------------------------------------------------------------------------------------------


def test_rights_given_and_taken_by_the_services_agree_with_their_events(admin_staff):
    """Every way the code gives or takes rights: create_staff, the admin's account pages (a role
    changed, an account deactivated, a role taken), createsuperuser."""
    mia = staff_create(actor=SETUP, username="mia", role="moderator")[0]
    account_update(actor=admin_staff, account_id=mia.pk, role="compliance")
    account_update(actor=admin_staff, account_id=mia.pk, role="compliance", is_active=False)
    leo = staff_create(actor=SETUP, username="leo", role="moderator")[0]
    account_update(actor=admin_staff, account_id=leo.pk, role=None)
    staff_create(actor=SETUP, username="leo", role="admin")  # an existing account given a role again
    call_command("createsuperuser", "--noinput", "--username", "root_admin", "--email", "r@example.test")
    UserFactory(username="reporter")  # an ordinary account: no rights, nothing to record
    result = reconcile()
    assert result.disagreements == []
    assert result.checked["account"] == 4 and result.checked["group"] == 3


def test_a_role_taken_with_raw_sql_is_found(moderator):
    """The insider's cheapest right: a row in auth_user_groups, for an account no event gave a role."""
    reporter = UserFactory(username="reporter")
    compliance_group = Group.objects.get(name="compliance")
    run_sql("INSERT INTO auth_user_groups (user_id, group_id) VALUES (%s, %s)", [reporter.pk, compliance_group.pk])
    run_sql("UPDATE auth_user SET is_superuser = %s WHERE id = %s", [True, moderator.pk])
    given = AuditEvent.objects.get(event_type="staff.created", object_id=str(moderator.pk))
    found = reconcile().disagreements
    assert found == [
        Disagreement("user", str(moderator.pk), ("is_superuser",), given.id),
        Disagreement("user", str(reporter.pk), ("groups",), None),
    ]
    assert found[0].describe() == f"is_superuser not as event #{given.id} recorded"
    assert found[1].describe() == "groups held, but no event recorded them"


def test_a_right_added_to_a_role_or_to_an_account_is_found(moderator):
    """The roles table (moderation/roles.py) is the record of what a role may do; no service gives an
    account a permission of its own."""
    view_audit = Permission.objects.get(content_type__app_label="audit", codename="view_auditevent")
    Group.objects.get(name="moderator").permissions.add(view_audit)  # the ORM: no event, as raw SQL
    moderator.user_permissions.add(Permission.objects.get(codename="decide_appeal"))
    given = AuditEvent.objects.get(event_type="staff.created", object_id=str(moderator.pk))
    found = reconcile().disagreements
    assert found == [
        Disagreement("user", str(moderator.pk), ("user_permissions",), given.id),
        Disagreement("group", "moderator", ("permissions",), None),
    ]
    assert found[1].describe() == "permissions not as the roles table (moderation/roles.py) sets them"
    # A role's group dropped is found too, and its members' groups with it.
    Group.objects.get(name="moderator").delete()
    assert Disagreement("group", "moderator", ("permissions",), None) in reconcile().disagreements


def test_the_rights_check_costs_the_same_queries_whatever_it_holds(moderator):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            reconcile()
        return len(captured.captured_queries)

    one = queries()
    for n in range(10):
        staff_create(actor=SETUP, username=f"staff{n}", role=("moderator", "compliance", "admin")[n % 3])
    assert queries() == one


def test_the_rights_alone_every_few_minutes_logs_a_role_taken(moderator, caplog):
    from moderation.tasks import rights_reconcile

    report = filed(UserFactory(username="reporter"))
    Report.objects.filter(pk=report.pk).update(escalated=True)  # rows: the daily run's, not this one's
    assert rights_reconcile() == 0
    moderator.groups.add(Group.objects.get(name="admin"))
    with caplog.at_level("ERROR", logger="moderation.tasks"):
        assert rights_reconcile() == 1
    [line] = [record.getMessage() for record in caplog.records if record.levelname == "ERROR"]
    given = AuditEvent.objects.get(event_type="staff.created", object_id=str(moderator.pk))
    assert line == f"rights_reconcile: user {moderator.pk}: groups not as event #{given.id} recorded"
    assert not AuditEvent.objects.filter(event_type="audit.reconciled").exists()
