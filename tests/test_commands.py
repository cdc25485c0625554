"""Ops commands of the foundation: seed_demo (idempotent, every kind/status, through the services)
and create_staff (group membership and an audit event); the role groups come from a migration."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from audit.models import AuditEvent
from audit.verify import verify
from moderation.enforcement.models import Sanction
from moderation.hashbank.models import BankEntry
from moderation.roles import ROLE_PERMISSIONS, ROLES, role_of
from moderation.signals.models import BankHit, Detector, Signal
from moderation.stories.models import StoryReview
from moderation.stories.selectors import deadline_of
from reports.models import Report, ReportChannel, ReportStatus, Target, TargetKind, TargetState
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db
User = get_user_model()


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in (User, Target, Report, AuditEvent, Sanction, Group)}


# --- createsuperuser ----------------------------------------------------------------------------------


def test_createsuperuser_records_the_account_with_who_ran_it_on_which_host(monkeypatch):
    """Django's command wrote no trace; ours (audit/management/commands/createsuperuser.py) records
    the new superuser in the transaction that creates it."""
    import socket

    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "s3cret-Pass!-long")
    run("createsuperuser", "--noinput", "--username", "root_admin", "--email", "root@example.test")
    user = User.objects.get(username="root_admin")
    assert user.is_superuser and user.is_staff and user.check_password("s3cret-Pass!-long")
    event = AuditEvent.objects.get(event_type="account.superuser_created")
    assert (event.object_type, event.object_id) == ("user", str(user.pk))
    assert event.actor is None and event.actor_label == "manage.py createsuperuser"
    assert event.after == {"username": "root_admin", "is_superuser": True, "is_staff": True}
    assert event.data["host"] == socket.gethostname() and event.data["host_user"]
    assert "s3cret" not in str(event.after) + str(event.data)


def test_createsuperuser_refused_leaves_neither_account_nor_event(monkeypatch):
    UserFactory(username="taken")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "s3cret-Pass!-long")
    before = counts()
    with pytest.raises(CommandError, match="already taken"):
        run("createsuperuser", "--noinput", "--username", "taken", "--email", "x@example.test")
    assert counts() == before and not AuditEvent.objects.filter(event_type="account.superuser_created").exists()


def test_changepassword_records_the_change_with_who_ran_it_and_never_the_password(monkeypatch):
    from audit.management.commands import changepassword

    # The prompts' answers (Django's command reads them with getpass from a terminal).
    monkeypatch.setattr(changepassword.Command, "_get_pass", lambda self, prompt="Password: ": "n3w-Secret-Pass!")
    account = UserFactory(username="taken_over")
    run("changepassword", "taken_over")
    account.refresh_from_db()
    assert account.check_password("n3w-Secret-Pass!")
    event = AuditEvent.objects.get(event_type="account.password_set")
    assert (event.object_type, event.object_id) == ("user", str(account.pk))
    assert event.actor_label == "manage.py changepassword" and event.data["usable"] is True
    assert event.data["host_user"] and "n3w-Secret" not in str(event.data)


def test_changepassword_refused_leaves_no_event():
    with pytest.raises(CommandError, match="does not exist"):
        run("changepassword", "nobody_here")
    assert not AuditEvent.objects.filter(event_type="account.password_set").exists()


# --- shell and dbshell ------------------------------------------------------------------------------


def test_shell_records_that_it_was_opened_before_its_first_line_runs(capsys):
    """Django's shell wrote no trace; ours records who opened it where, and of a command given on
    the command line its digest and length, never its text. The command itself finds the event."""
    import hashlib
    import socket

    command = (
        "from audit.models import AuditEvent; print(AuditEvent.objects.filter(event_type='host.shell_opened').count())"
    )
    call_command("shell", "--command", command)
    assert capsys.readouterr().out.strip().splitlines()[-1] == "1"
    event = AuditEvent.objects.get(event_type="host.shell_opened")
    assert event.actor is None and event.actor_label == "manage.py shell"
    assert (event.object_type, event.object_id) == ("host", socket.gethostname())
    assert event.data["command"] == "shell" and event.data["mode"] == "command" and event.data["host_user"]
    assert event.data["sha256"] == hashlib.sha256(command.encode()).hexdigest()
    assert event.data["length"] == len(command) and "AuditEvent" not in str(event.data)


def test_dbshell_records_that_it_was_opened_and_then_runs_the_database_client(capfd):
    from django.db import connection

    query = ["-c", "SELECT 6*7"] if connection.vendor == "postgresql" else ["SELECT 6*7;"]
    call_command("dbshell", "--", *query)
    assert "42" in capfd.readouterr().out
    event = AuditEvent.objects.get(event_type="host.shell_opened")
    assert event.actor_label == "manage.py dbshell" and event.data["database"] == "default"
    assert event.data["mode"] == "command" and event.data["length"] == len(" ".join(query))


# --- Roles -----------------------------------------------------------------------------------------


def test_the_role_groups_exist_with_exactly_the_permissions_of_the_table():
    for role in ROLES:
        group = Group.objects.get(name=role)
        granted = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}
        assert granted == ROLE_PERMISSIONS[role], role


# --- create_staff --------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_create_staff_creates_the_account_in_the_role_group_with_an_audit_event(role):
    output = run("create_staff", "dana", "--role", role, "--email", "dana@example.test", "--password", "s3cret-Pass!")
    user = User.objects.get(username="dana")
    assert list(user.groups.values_list("name", flat=True)) == [role]
    assert role_of(user) == role and user.email == "dana@example.test"
    assert user.check_password("s3cret-Pass!")
    assert user.is_staff is (role == "admin")
    assert f"Created dana as {role}." in output
    event = AuditEvent.objects.get(event_type="staff.created")
    assert (event.object_type, event.object_id) == ("user", str(user.pk))
    assert event.actor is None and event.actor_label == "system"
    assert event.after == {"username": "dana", "role": role} and event.data == {"created": True}


def test_create_staff_prints_a_random_password_when_none_is_given():
    output = run("create_staff", "eve", "--role", "moderator")
    password = output.split("Password: ")[1].strip()
    assert len(password) >= 12 and User.objects.get(username="eve").check_password(password)


def test_create_staff_changes_the_role_of_an_existing_account():
    user = UserFactory(username="frank", role="moderator")
    output = run("create_staff", "frank", "--role", "compliance")
    user.refresh_from_db()
    assert list(user.groups.values_list("name", flat=True)) == ["compliance"]
    assert user.check_password(PASSWORD) is False  # a new random password was set and printed
    assert "Updated frank as compliance." in output
    assert AuditEvent.objects.get(event_type="staff.created").data == {"created": False}


def test_create_staff_refuses_an_unknown_role():
    with pytest.raises(CommandError, match="invalid choice: 'superhero'"):
        run("create_staff", "gina", "--role", "superhero")
    assert not User.objects.filter(username="gina").exists() and not AuditEvent.objects.exists()


def test_create_staff_refuses_a_blank_username():
    with pytest.raises(CommandError, match="A username is required."):
        run("create_staff", "  ", "--role", "admin")
    assert not AuditEvent.objects.exists()


# --- seed_demo ----------------------------------------------------------------------------------------


def test_seed_demo_creates_accounts_targets_and_reports_through_the_services_once():
    seeded = run("seed_demo", "--reports", "40")
    assert "Seeded 300 targets" in seeded and "40 reports" in seeded
    for username, role in [("mod", "moderator"), ("compliance", "compliance"), ("admin", "admin"), ("alice", None)]:
        user = User.objects.get(username=username)
        assert role_of(user) == role
        assert user.check_password(f"{username}-demo")
        assert f"{username}-demo" in seeded

    # 300 targets, the video stories held for review before publication, and the live session a
    # detector's frame registered on the fly.
    stories = StoryReview.objects.all()
    assert Target.objects.count() == 300 + stories.count() + 1
    assert set(Target.objects.values_list("kind", flat=True)) == set(TargetKind.values)
    # 40 filed by people; the rest automated (the demo's automatic story rejections put before
    # compliance, and the detectors' reports).
    assert Report.objects.exclude(channel=ReportChannel.AUTOMATED).count() == 40
    automated_stories = Report.objects.filter(channel=ReportChannel.AUTOMATED, target__in=stories.values("target"))
    assert automated_stories.count() == stories.filter(automated=True).count() >= 1
    assert set(Report.objects.values_list("status", flat=True)) == set(ReportStatus.values)
    assert len(set(Report.objects.values_list("category", flat=True))) >= 8
    assert len(set(Report.objects.values_list("report_type", flat=True))) >= 4

    # Spread over the last 30 days, and every report was audited by the service that filed it.
    now = timezone.now()
    times = sorted(Report.objects.values_list("created_at", flat=True))
    assert now - timedelta(days=31) < times[0] and times[-1] <= now
    assert times[-1] - times[0] > timedelta(days=3)
    filed = AuditEvent.objects.filter(event_type="report.created")
    reports = {str(pk) for pk in Report.objects.values_list("pk", flat=True)}
    assert set(filed.values_list("object_id", flat=True)) == reports
    assert AuditEvent.objects.filter(event_type="target.registered").count() == Target.objects.count()
    assert stories.filter(status="pending").count() >= 3
    assert set(stories.values_list("status", flat=True)) == {"pending", "approved", "rejected"}
    waiting = [deadline_of(story).state for story in stories.filter(status="pending")]
    assert {"ok", "soon", "overdue"} <= set(waiting)
    assert AuditEvent.objects.filter(event_type="story.submitted").count() == stories.count()
    assert verify().intact

    # The machines' side: detectors with policies set by the admin, a bank of drawn pictures, signals
    # (kept, and filed into automated reports), a frame matching the bank, a quarantine.
    assert set(Detector.objects.values_list("name", flat=True)) == {"toxicity-model", "nudity-classifier"}
    assert AuditEvent.objects.filter(event_type="signal_policy.changed", actor_label="admin").count() == 4
    assert BankEntry.objects.filter(source="decision").count() >= 3
    assert Signal.objects.count() == 30
    assert {"created", "kept"} <= set(Signal.objects.values_list("outcome", flat=True))
    assert BankHit.objects.filter(origin="frame").exists()
    assert Target.objects.filter(state=TargetState.QUARANTINED).exists()
    assert Report.objects.filter(channel=ReportChannel.AUTOMATED, escalated=True).exists()

    # A second run adds nothing.
    before = counts()
    assert "Demo data already present; nothing to add." in run("seed_demo", "--reports", "40")
    assert counts() == before
