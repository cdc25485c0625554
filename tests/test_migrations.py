"""Enforcement's tables moved to their own app (moderation/enforcement/) with every row.

A database is built from empty at the state before the move with the real migration graph (every
migration that moderation 0007 and reports 0007 need, and no other), seeded through
the models as they were then, in every table that moves: sanctions with their reports, notices,
appeals (on a sanction, on a dismissed report, from a complaint without an account), the webhook
outbox and account standing; then migrated across. Every row, every relation, the content types and
so the permissions held by the role groups and by one account directly must all have come along,
and today's models must read them. Runs on SQLite and on PostgreSQL, as the whole suite does.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import DEFAULT_DB_ALIAS
from django.utils import timezone
from django_test_migrations import sql

from moderation.roles import ROLE_PERMISSIONS

BEFORE = [("moderation", "0007_complaint_appeals"), ("reports", "0007_unsent_mail")]
AFTER = [("enforcement", "0002_content_types_and_role_groups")]
# (app before, model, app after)
MOVED = [
    ("moderation", "Sanction", "enforcement"),
    ("moderation", "Notice", "enforcement"),
    ("moderation", "Appeal", "enforcement"),
    ("moderation", "OutboxEvent", "enforcement"),
    ("reports", "AccountStanding", "enforcement"),
]


def _seed(apps) -> dict:
    """Rows in every table that moves, through the models as they were before the move."""
    User = apps.get_model("auth", "User")  # noqa: N806
    Target = apps.get_model("reports", "Target")  # noqa: N806
    Report = apps.get_model("reports", "Report")  # noqa: N806
    Sanction = apps.get_model("moderation", "Sanction")  # noqa: N806
    Notice = apps.get_model("moderation", "Notice")  # noqa: N806
    Appeal = apps.get_model("moderation", "Appeal")  # noqa: N806
    OutboxEvent = apps.get_model("moderation", "OutboxEvent")  # noqa: N806
    AccountStanding = apps.get_model("reports", "AccountStanding")  # noqa: N806
    Permission = apps.get_model("auth", "Permission")  # noqa: N806

    # The role groups as a database made before the move has them: the role table's rights, with the
    # moved models' permissions under "moderation." (a database built today up to 0007 runs the
    # role migrations with today's table, whose "enforcement." rights do not exist yet).
    # Rights of apps born after the move (machine signals) are not there yet either.
    existing = {model._meta.app_label for model in apps.get_models()}
    for role, rights in ROLE_PERMISSIONS.items():
        names = [right.replace("enforcement.", "moderation.").split(".") for right in rights]
        names = [(app, codename) for app, codename in names if app in existing]
        group = apps.get_model("auth", "Group").objects.get(name=role)
        group.permissions.set(
            [Permission.objects.get(content_type__app_label=app, codename=codename) for app, codename in names]
        )
    now = timezone.now()
    reporter = User.objects.create(username="reporter", email="reporter@example.org")
    owner = User.objects.create(username="owner", email="owner@example.org")
    decider = User.objects.create(username="decider")
    officer = User.objects.create(username="officer")
    officer.groups.add(apps.get_model("auth", "Group").objects.get(name="compliance"))
    # A right given to one account directly, not through a role: it must survive too.
    decider.user_permissions.add(
        Permission.objects.get(content_type__app_label="moderation", codename="approve_referral")
    )
    target = Target.objects.create(kind="message", title="Message in #lobby", owner=owner, snapshot_text="spam")
    report_fields = dict(report_type="message", target=target, category="spam", severity="normal", due_at=now)
    acted = [
        Report.objects.create(reporter=reporter, reason="spam links", status="resolved", **report_fields),
        Report.objects.create(reporter=None, reporter_email="x@example.org", reason="spam", **report_fields),
    ]
    dismissed = Report.objects.create(
        reporter=reporter, reason="not spam?", status="dismissed", reviewed_by=decider, closed_at=now, **report_fields
    )
    complaint = Report.objects.create(
        reporter=None, reporter_email="c@example.org", reason="remove it", status="dismissed", **report_fields
    )
    decision = dict(
        decision_id="5b4e3f1c-1d2e-4f50-9a6b-7c8d9e0f1a2b",
        account=owner,
        target=target,
        ground_type="terms",
        ground="Terms §4",
        facts="Spam links in the lobby.",
        starts_at=now,
        decided_by=decider,
        decided_at=now,
    )
    warning = Sanction.objects.create(kind="warning", status="done", **decision)
    suspension = Sanction.objects.create(
        kind="suspension", status="active", ends_at=now + timedelta(days=7), **decision
    )
    for sanction in (warning, suspension):
        sanction.reports.set(acted)
    sanction_appeal = Appeal.objects.create(
        appellant=owner, sanction=suspension, text="I did not post it.", due_at=now + timedelta(days=7)
    )
    report_appeal = Appeal.objects.create(
        appellant=reporter, report=dismissed, text="Look again.", due_at=now, status="upheld", decided_by=officer
    )
    Appeal.objects.create(appellant_email="c@example.org", report=complaint, text="Please.", due_at=now)
    Notice.objects.create(
        kind="statement_of_reasons",
        recipient=owner,
        subject="We have taken action",
        body="…",
        sanction=suspension,
        decision_id=suspension.decision_id,
        emailed_at=now,
    )
    Notice.objects.create(kind="appeal_decision", recipient=reporter, subject="Decided", body="…", appeal=report_appeal)
    Notice.objects.create(kind="appeal_decision", email="c@example.org", subject="Decision", body="…", report=complaint)
    OutboxEvent.objects.create(event_type="sanction.applied", payload={"kind": "suspension"}, next_attempt_at=now)
    OutboxEvent.objects.create(
        event_type="sanction.lifted", payload={"nested": [1, "two"]}, next_attempt_at=now, delivered_at=now, attempts=2
    )
    AccountStanding.objects.create(user=reporter, trusted_flagger=True, reports_paused_until=now)
    AccountStanding.objects.create(user=owner, legal_hold=True, misuse_warned_at=now)
    return {"owner": owner.pk, "officer": officer.pk, "decider": decider.pk, "sanction_appeal": sanction_appeal.pk}


def _rows(apps, app_label: str, model_name: str) -> list[dict]:
    return list(apps.get_model(app_label, model_name).objects.order_by("pk").values())


def _sanction_reports(apps, app_label: str) -> set[tuple]:
    through = apps.get_model(app_label, "Sanction").reports.through
    return set(through.objects.values_list("sanction_id", "report_id"))


def _permissions(apps, app_label: str) -> dict[str, int]:
    """The permissions of the models that move, under `app_label`: {codename: id}."""
    Permission = apps.get_model("auth", "Permission")  # noqa: N806
    moved = [model.lower() for _, model, _ in MOVED]
    rows = Permission.objects.filter(content_type__app_label=app_label, content_type__model__in=moved)
    return dict(rows.values_list("codename", "pk"))


def _role_rights(apps) -> dict[str, set[int]]:
    Group = apps.get_model("auth", "Group")  # noqa: N806
    return {group.name: set(group.permissions.values_list("pk", flat=True)) for group in Group.objects.all()}


@pytest.mark.django_db(transaction=True)
def test_enforcement_tables_move_to_their_app_with_every_row(migrator):
    # From an empty database, exactly the migrations the old state needs. (The library's
    # apply_initial_migration would also apply reports 0008, which its plan orders before moderation.)
    sql.drop_models_tables(DEFAULT_DB_ALIAS)
    sql.flush_django_migrations_table(DEFAULT_DB_ALIAS)
    before = migrator.apply_tested_migration(BEFORE).apps
    seeded = _seed(before)
    rows = {model: _rows(before, app, model) for app, model, _ in MOVED}
    links = _sanction_reports(before, "moderation")
    ContentType = before.get_model("contenttypes", "ContentType")  # noqa: N806
    type_ids = {model: ContentType.objects.get(app_label=app, model=model.lower()).pk for app, model, _ in MOVED}
    moved_rights = _permissions(before, "moderation") | _permissions(before, "reports")
    rights = _role_rights(before)
    assert all(rows.values()) and len(links) == 4 and moved_rights

    after = migrator.apply_tested_migration(AFTER).apps

    for _, model, app in MOVED:
        assert _rows(after, app, model) == rows[model], model
    assert _sanction_reports(after, "enforcement") == links
    # The content types moved (the same rows), so the permissions are the same rows, now enforcement's,
    # and every group and the account given one directly still hold them.
    ContentType = after.get_model("contenttypes", "ContentType")  # noqa: N806
    for _, model, app in MOVED:
        assert ContentType.objects.get(app_label=app, model=model.lower()).pk == type_ids[model]
    assert not ContentType.objects.filter(app_label="moderation", model__in=["sanction", "notice", "appeal"]).exists()
    assert _permissions(after, "enforcement") == moved_rights
    assert _role_rights(after) == rights

    # Today's models and code read the moved rows.
    from moderation.enforcement.models import AccountStanding, Appeal, Sanction

    assert Sanction.objects.count() == 2
    # The reports' ids only: today's Report may have columns a later migration adds.
    assert set(Sanction.objects.get(kind="suspension").reports.values_list("pk", flat=True)) == {
        report_id for _, report_id in links
    }
    appeal = Appeal.objects.select_related("sanction").get(pk=seeded["sanction_appeal"])
    assert appeal.sanction.kind == "suspension" and appeal.appellant_id == seeded["owner"]
    assert AccountStanding.objects.get(user_id=seeded["owner"]).legal_hold
    accounts = get_user_model().objects
    assert accounts.get(pk=seeded["officer"]).has_perm("enforcement.lift_sanction")
    assert accounts.get(pk=seeded["decider"]).has_perm("enforcement.approve_referral")
    assert not accounts.get(pk=seeded["decider"]).has_perm("enforcement.lift_sanction")


def test_a_database_migrated_from_empty_has_every_rollup_trigger(tmp_path):
    """SQLite rebuilds a table to alter it and drops its triggers with the old table: a migration of
    reports_report or enforcement_sanction after the one that installed their rollup triggers left
    the dashboard counting nothing on SQLite (moderation 0011). Migrated from empty, in one run, as
    `bin/demo` does, every trigger is there."""
    import sqlite3
    import subprocess  # nosec B404  # our own manage.py
    import sys

    from moderation import rollup_triggers
    from tests.harness import BASE_DIR, app_environment

    database = tmp_path / "fresh.sqlite3"
    result = subprocess.run(  # noqa: S603  # nosec B603  # our own interpreter and manage.py
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=BASE_DIR,
        env=app_environment(database_url=f"sqlite:///{database}", var_dir=tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(database) as connection:
        found = {name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    for table in (rollup_triggers.REPORTS, rollup_triggers.SANCTIONS):
        assert {f"{table}_rollup_insert", f"{table}_rollup_delete", f"{table}_rollup_update"} <= found
