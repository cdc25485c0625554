"""config/prepared.PreparedInsert: the row it writes is the row the ORM's create() writes, and the
models it is used for have nothing that create() would run and it skips."""

import uuid

import pytest
from django.db import IntegrityError, models, transaction
from django.db.models.signals import post_save, pre_save
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import _EVENT_INSERT
from config.prepared import PreparedInsert
from reports.models import OutboxMail, Report, ReportChannel, ReportStatus
from reports.outbox import _INSERT as OUTBOX_INSERT
from reports.services import _REPORT_INSERT
from tests.factories import TargetFactory

pytestmark = pytest.mark.django_db

USED_FOR = [Report, OutboxMail, AuditEvent]


@pytest.mark.parametrize("model", USED_FOR)
def test_the_models_it_writes_have_no_save_and_no_save_receivers(model):
    # An audit event's save() refuses updates only; an insert is what it lets through.
    assert model.save is models.Model.save or model is AuditEvent
    assert not pre_save.has_listeners(model) and not post_save.has_listeners(model)
    pk = model._meta.pk
    assert (isinstance(pk, models.UUIDField) and pk.default is uuid.uuid4) or isinstance(pk, models.AutoField)


def columns(row) -> dict:
    """Every column but the id and the times the ORM stamps (auto_now, auto_now_add), which must be set."""
    values = {}
    for field in type(row)._meta.concrete_fields:
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            assert getattr(row, field.attname) is not None
        elif not field.primary_key:
            values[field.attname] = getattr(row, field.attname)
    return values


def test_an_outbox_row_reads_back_as_the_orms_own_create_writes_it():
    facts = {
        "kind": "report_received",
        "subject": "We received your report 1234abcd",
        "template": "reports/email/report_received.txt",
        "context": {"name": "rosa", "due": "2026-12-01T07:00:00+00:00", "nested": [1, "ü"]},
        "language": "de",
        "recipients": ["rosa@example.test"],
    }
    now = timezone.now()
    with transaction.atomic():
        ours = OUTBOX_INSERT.create(next_attempt_at=now, **facts)
    theirs = OutboxMail.objects.create(next_attempt_at=now, **facts)
    ours_read, theirs_read = OutboxMail.objects.get(pk=ours.pk), OutboxMail.objects.get(pk=theirs.pk)
    assert columns(ours_read) == columns(theirs_read) and columns(ours_read) == columns(ours)
    assert ours_read.created_at == ours.created_at
    assert not ours._state.adding


def test_a_report_reads_back_as_the_orms_create_writes_it_and_a_duplicate_is_an_integrity_error(user):
    target = TargetFactory()
    facts = {
        "report_type": target.kind,
        "target": target,
        "reporter": user,
        "channel": ReportChannel.API,
        "category": "harassment",
        "severity": "high",
        "reason": "Insults in #lobby.",
        "status": ReportStatus.PENDING,
    }
    due = timezone.now()
    with transaction.atomic():
        ours = _REPORT_INSERT.create(due_at=due, **facts)
    assert columns(Report.objects.get(pk=ours.pk)) == columns(ours)
    # The same reporter and target while the first is open: the database's constraint, as with create().
    with pytest.raises(IntegrityError), transaction.atomic():
        _REPORT_INSERT.create(due_at=due, **facts)
    ours.delete()
    theirs = Report.objects.create(due_at=due, **facts)
    assert columns(Report.objects.get(pk=theirs.pk)) == columns(ours)


def test_a_model_whose_field_writes_its_own_placeholder_is_refused(monkeypatch):
    """Its placeholder may depend on the value: one compiled SQL would not fit every row."""
    subject = OutboxMail._meta.get_field("subject")
    monkeypatch.setattr(subject, "get_placeholder", lambda value, compiler, connection: "%s", raising=False)
    with pytest.raises(TypeError), transaction.atomic():
        PreparedInsert(OutboxMail).create(kind="notice", subject="Hi", body="Hello", recipients=[])


def event_facts(**overrides) -> dict:
    facts = {
        "created_at": timezone.now(),
        "event_type": "report.created",
        "actor_id": None,
        "actor_label": "system",
        "object_type": "report",
        "object_id": str(uuid.uuid4()),
        "before": None,
        "after": {"status": "pending"},
        "data": {"channel": "api", "nested": ["ü", 1]},
        "correlation_id": uuid.uuid4(),
    }
    return facts | overrides


def test_an_audit_event_reads_back_as_the_orms_create_writes_it_with_its_id_read_back():
    facts = event_facts()
    with transaction.atomic():
        ours = _EVENT_INSERT.create(**facts)
        theirs = AuditEvent.objects.create(**facts)
    assert isinstance(ours.pk, int) and theirs.pk == ours.pk + 1
    assert columns(AuditEvent.objects.get(pk=ours.pk)) == columns(AuditEvent.objects.get(pk=theirs.pk))
    assert not ours._state.adding
