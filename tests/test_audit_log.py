"""The audit log: registered event types, append-only in code and in the database, hash chain."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from audit import services as audit
from audit import triggers
from audit.models import AppendOnlyError, AuditEvent
from audit.verify import verify


def _event(actor=audit.SYSTEM, **kwargs) -> AuditEvent:
    with transaction.atomic():
        return audit.record(
            actor=actor,
            event_type=kwargs.pop("event_type", "report.created"),
            object_type="report",
            object_id=kwargs.pop("object_id", "r1"),
            **kwargs,
        )


@pytest.mark.django_db
def test_record_writes_actor_object_data_and_the_sealer_chains_hashes(user):
    first = _event(actor=user, after={"status": "pending"})
    second = _event(object_id="r2", before={"status": "pending"}, after={"status": "resolved"})
    assert first.actor == user and first.actor_label == user.username
    assert second.actor is None and second.actor_label == "system"
    # Written unsealed (this test's transaction never commits, so no after-commit sealing ran).
    assert (first.seq, first.hash, second.seq) == (None, None, None)
    assert verify().unsealed == 2

    assert audit.seal_pending() == 2
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.seq, second.seq) == (1, 2)
    assert first.prev_hash == audit.GENESIS_HASH
    assert second.prev_hash == first.hash
    assert verify().checked == 2 and verify().unsealed == 0
    assert audit.seal_pending() == 0


@pytest.mark.django_db(transaction=True)
def test_a_committed_event_is_sealed_after_commit(settings):
    event = _event()
    event.refresh_from_db()
    assert event.seq == 1 and event.prev_hash == audit.GENESIS_HASH and event.hash

    # Within the interval the process leaves sealing to the next write (or to audit_seal's cron).
    settings.AUDIT_SEAL_INTERVAL = 3600
    later = _event(object_id="r2")
    later.refresh_from_db()
    assert later.seq is None
    call_command("audit_seal")
    later.refresh_from_db()
    assert later.seq == 2 and later.prev_hash == event.hash


@pytest.mark.django_db
def test_the_trigger_lets_the_chain_be_filled_once_and_nothing_else():
    event = _event()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        # Filling the chain and changing the content at once is refused, even before sealing.
        cursor.execute(
            "UPDATE audit_auditevent SET seq = 1, prev_hash = 'a', hash = 'b', object_id = 'forged' WHERE id = %s",
            [event.pk],
        )
    audit.seal_pending()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET hash = 'b' WHERE id = %s", [event.pk])
    event.refresh_from_db()
    assert event.object_id == "r1" and event.seq == 1 and event.hash != "b"


def test_the_trigger_names_every_column_of_the_event():
    columns = {field.column for field in AuditEvent._meta.concrete_fields}
    assert columns == set(triggers.CONTENT_COLUMNS) | set(triggers.CHAIN_COLUMNS)


@pytest.mark.django_db
def test_unregistered_event_type_is_refused():
    with pytest.raises(audit.UnknownEventType):
        _event(event_type="report.exploded")
    assert AuditEvent.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_record_outside_a_transaction_is_refused():
    with pytest.raises(RuntimeError, match="inside the service's transaction"):
        audit.record(actor=audit.SYSTEM, event_type="report.created", object_type="report", object_id="x")


@pytest.mark.django_db
def test_model_refuses_update_and_delete():
    event = _event()
    event.event_type = "report.reviewed"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(event_type="report.reviewed")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_auditevent SET event_type = 'report.reviewed'",
        "DELETE FROM audit_auditevent",
    ],
)
def test_database_trigger_refuses_raw_update_and_delete(statement):
    event = _event()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)
    assert AuditEvent.objects.get(pk=event.pk).event_type == "report.created"


@pytest.mark.django_db
def test_audit_verify_passes_then_names_the_tampered_event(capsys):
    events = [_event(object_id=f"r{i}") for i in range(3)]
    call_command("audit_verify")
    assert "3 events checked against 0 checkpoint(s) (3 sealed first)" in capsys.readouterr().out

    # Tamper as an attacker with database access would: lift the trigger, edit, put it back.
    with transaction.atomic():
        triggers.remove(connection)
        with connection.cursor() as cursor:
            cursor.execute("UPDATE audit_auditevent SET object_id = 'forged' WHERE id = %s", [events[1].pk])
        triggers.install(connection)
    with pytest.raises(CommandError, match=f"event #{events[1].pk}"):
        call_command("audit_verify")


@pytest.mark.django_db
def test_postgresql_trigger_refuses_truncate_too():
    if connection.vendor != "postgresql":
        pytest.skip("TRUNCATE is PostgreSQL's; SQLite has none (its DELETE trigger covers emptying the table)")
    event = _event()
    with connection.cursor() as cursor:
        # Run the deferred foreign-key checks of the insert now: PostgreSQL refuses TRUNCATE while
        # any are pending, which would hide whether the trigger itself refuses it.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("TRUNCATE audit_auditevent")
    assert AuditEvent.objects.filter(pk=event.pk).exists()


@pytest.mark.django_db
def test_a_filed_reports_audit_event_cannot_be_changed_or_deleted(user):
    from reports.services import report_file
    from tests.factories import TargetFactory

    report = report_file(actor=user, target=TargetFactory(), category="spam", reason="Bot posting links.")
    event = AuditEvent.objects.for_object("report", report.id).get()
    for statement in (
        "UPDATE audit_auditevent SET after = NULL WHERE id = %s",
        "DELETE FROM audit_auditevent WHERE id = %s",
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, [event.pk])
    assert AuditEvent.objects.get(pk=event.pk).after["status"] == "pending"
