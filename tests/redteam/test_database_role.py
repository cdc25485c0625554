"""The app's database role cannot rewrite history (PostgreSQL: roles are PostgreSQL's).

Before: the app connected as the role that ran the migrations, the audit table's owner, and every
statement below succeeded (the owner's half of each test shows it still does for the owner).
"""

from __future__ import annotations

import secrets

import psycopg
import pytest
from django.db import DatabaseError, connection, transaction

from audit import triggers
from audit.models import AuditEvent
from tests.redteam.conftest import RuntimeRole
from tests.test_settings import manage, random_secret_key

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="database roles are PostgreSQL's"),
]

TABLE = triggers.TABLE
ATTACKS = {
    "disable the triggers": f"ALTER TABLE {TABLE} DISABLE TRIGGER USER",
    "drop a trigger": f"DROP TRIGGER {TABLE}_append_only ON {TABLE}",
    "neuter the trigger function": (
        f"CREATE OR REPLACE FUNCTION {triggers.FUNCTION}() RETURNS trigger AS $$ BEGIN RETURN NEW; END $$ "
        "LANGUAGE plpgsql"
    ),
    "edit an event": f"UPDATE {TABLE} SET object_id = 'forged'",
    "re-hash an event": f"UPDATE {TABLE} SET hash = repeat('0', 64) WHERE seq = 1",
    "delete events": f"DELETE FROM {TABLE}",
    "truncate": f"TRUNCATE {TABLE}",
    "take the table": f"ALTER TABLE {TABLE} OWNER TO CURRENT_USER",
    "bypass triggers for the session": "SET session_replication_role = replica",
}


def _sealed_events(count: int = 3) -> None:
    from audit import services as audit

    for number in range(count):
        with transaction.atomic():
            audit.record(actor=audit.SYSTEM, event_type="report.created", object_type="report", object_id=number)
    audit.seal_pending()


@pytest.mark.parametrize("statement", ATTACKS.values(), ids=ATTACKS.keys())
def test_the_runtime_role_is_refused_every_rewrite(runtime_role: RuntimeRole, statement):
    _sealed_events()
    before = list(AuditEvent.objects.order_by("seq").values_list("seq", "object_id", "hash"))
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        runtime_role.run(statement)
    assert list(AuditEvent.objects.order_by("seq").values_list("seq", "object_id", "hash")) == before
    assert triggers.problems(connection) == []


def test_the_owner_could_and_that_is_why_the_app_no_longer_runs_as_it():
    _sealed_events(1)
    with pytest.raises(_RolledBack), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(ATTACKS["disable the triggers"])
        cursor.execute(f"UPDATE {TABLE} SET object_id = 'forged'")
        raise _RolledBack
    assert AuditEvent.objects.get().object_id == "0"


class _RolledBack(Exception):
    pass


def test_the_runtime_role_may_insert_read_and_seal_once(runtime_role: RuntimeRole):
    runtime_role.run(
        f"INSERT INTO {TABLE} (created_at, event_type, actor_label, object_type, object_id, data) "
        "VALUES (now(), 'report.created', 'system', 'report', 'r1', '{}')"
    )
    [(event_id,)] = runtime_role.run(f"SELECT id FROM {TABLE}")
    fill = f"UPDATE {TABLE} SET seq = 1, prev_hash = %s, hash = %s, key_id = 'k' WHERE id = %s AND seq IS NULL"
    runtime_role.run(fill, ("0" * 64, "a" * 64, event_id))
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
        runtime_role.run(f"UPDATE {TABLE} SET hash = %s WHERE id = %s", ("b" * 64, event_id))


def test_the_app_runs_as_the_runtime_role(runtime_role: RuntimeRole, tmp_path):
    """Filing, sealing, a checkpoint and verification: everything the app does, in a process of its
    own connected as the runtime role."""
    file_one = (
        "from reports.services import report_file; from tests.factories import TargetFactory, UserFactory; "
        "report_file(actor=UserFactory(), target=TargetFactory(), category='spam', reason='bot spam'); "
        "from audit.services import seal_pending; print('sealed', seal_pending())"
    )
    env = {"DATABASE_URL": runtime_role.url}
    for command in (["shell", "-c", file_one], ["audit_checkpoint"], ["audit_verify"]):
        result = manage(*command, tmp_path=tmp_path, **env)
        assert result.returncode == 0, result.stderr
    # The shell's own host.shell_opened, then the report's report.created.
    assert "Audit chain intact: 2 events checked against 1 checkpoint(s)" in result.stdout


def production(database_url: str, **extra: str) -> dict[str, str]:
    return {
        "DJANGO_ENV": "production",
        "SECRET_KEY": random_secret_key(),
        "ALLOWED_HOSTS": "reports.example.com",
        "AUDIT_SIGNING_KEY": secrets.token_urlsafe(32),
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "DATABASE_URL": database_url,
        **extra,
    }


def test_check_deploy_is_clean_with_the_documented_roles_and_fails_as_a_superuser(runtime_role, owner_url, tmp_path):
    clean = manage(
        "check", "--deploy", tmp_path=tmp_path, **production(runtime_role.url, MIGRATE_DATABASE_URL=owner_url)
    )
    assert clean.returncode == 0, clean.stderr
    assert clean.stdout.strip() == "System check identified no issues (0 silenced)."

    as_superuser = manage("check", "--deploy", tmp_path=tmp_path, **production(owner_url))
    assert as_superuser.returncode != 0
    assert "audit.E001" in as_superuser.stderr and "is a superuser" in as_superuser.stderr


def test_check_deploy_fails_when_the_runtime_role_owns_the_table_or_may_truncate_it(runtime_role, tmp_path):
    grant = f'GRANT TRUNCATE, TRIGGER ON {TABLE} TO "{runtime_role.name}"'
    with connection.cursor() as cursor:
        cursor.execute(grant)
    result = manage("check", "--deploy", tmp_path=tmp_path, **production(runtime_role.url))
    assert result.returncode != 0 and "has TRUNCATE, TRIGGER on the audit table" in result.stderr

    with connection.cursor() as cursor:
        cursor.execute(f'ALTER TABLE {TABLE} OWNER TO "{runtime_role.name}"')
    try:
        result = manage("check", "--deploy", tmp_path=tmp_path, **production(runtime_role.url))
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE {TABLE} OWNER TO CURRENT_USER")
    assert result.returncode != 0 and "owns the audit table" in result.stderr


def test_dropped_triggers_fail_the_check_and_migrate_as_the_owner_restores_them(runtime_role, owner_url, tmp_path):
    """Before: nothing noticed the triggers gone and nothing put them back."""
    triggers.remove(connection)
    environment = production(runtime_role.url, MIGRATE_DATABASE_URL=owner_url)
    result = manage("check", "--deploy", tmp_path=tmp_path, **environment)
    assert result.returncode != 0
    assert f"trigger {TABLE}_append_only is missing" in result.stderr
    assert f"trigger {TABLE}_no_truncate is missing" in result.stderr

    # The app's own role could not put them back; migrate connects as the owner (MIGRATE_DATABASE_URL).
    migrated = manage("migrate", "--noinput", tmp_path=tmp_path, **environment)
    assert migrated.returncode == 0, migrated.stderr
    assert triggers.problems(connection) == []
    assert manage("check", "--deploy", tmp_path=tmp_path, **environment).returncode == 0
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        _sealed_events(1)
        cursor.execute(f"DELETE FROM {TABLE}")


def test_the_runtime_role_cannot_grant_itself_more(runtime_role: RuntimeRole):
    runtime_role.run(f"GRANT ALL ON {TABLE} TO CURRENT_USER")  # PostgreSQL only warns: nothing granted
    [(truncate, trigger, delete)] = runtime_role.run(
        "SELECT has_table_privilege(%s, 'TRUNCATE'), has_table_privilege(%s, 'TRIGGER'), "
        "has_table_privilege(%s, 'DELETE')",
        (TABLE, TABLE, TABLE),
    )
    assert (truncate, trigger, delete) == (False, False, False)


def test_a_disabled_trigger_or_a_changed_function_is_reported():
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {TABLE} DISABLE TRIGGER {TABLE}_no_truncate")
        cursor.execute(ATTACKS["neuter the trigger function"])
    assert set(triggers.problems(connection)) == {
        f"trigger {TABLE}_no_truncate is disabled",
        f"function {triggers.FUNCTION} was changed",
    }
    triggers.install(connection)
    assert triggers.problems(connection) == []


def test_a_role_the_runtime_role_gives_with_raw_sql_is_named_by_audit_reconcile(runtime_role: RuntimeRole, tmp_path):
    """The insider's cheapest right: the app's credentials may write auth_user_groups and auth_user
    (the app manages accounts), so no grant can refuse it; the record can name it. The check runs as
    the runtime role too, as the schedule runs it."""
    from django.contrib.auth.models import Group

    from audit import services as audit
    from moderation.services import staff_create
    from tests.factories import UserFactory

    staff_create(actor=audit.SystemActor("test setup"), username="mod", role="moderator")
    insider = UserFactory(username="insider")
    clean = manage("audit_reconcile", tmp_path=tmp_path, DATABASE_URL=runtime_role.url)
    assert clean.returncode == 0, clean.stderr
    compliance = Group.objects.get(name="compliance")
    runtime_role.run("INSERT INTO auth_user_groups (user_id, group_id) VALUES (%s, %s)", (insider.pk, compliance.pk))
    runtime_role.run("UPDATE auth_user SET is_superuser = true WHERE id = %s", (insider.pk,))
    found = manage("audit_reconcile", tmp_path=tmp_path, DATABASE_URL=runtime_role.url)
    assert found.returncode == 1
    assert f"user {insider.pk}: groups, is_superuser held, but no event recorded them" in found.stderr
    assert "1 row disagrees with the audit log" in found.stderr
