"""config/prepared.PreparedInsert: the row it writes is the row the ORM's create() writes, and the
models it is used for have nothing that create() would run and it skips."""

import uuid

import pytest
from django.db import IntegrityError, models, transaction
from django.db.models.signals import post_save, pre_save
from django.utils import timezone

from config.prepared import PreparedInsert
from reports.models import OutboxMail, Report, ReportChannel, ReportStatus
from reports.outbox import _INSERT as OUTBOX_INSERT
from reports.services import _REPORT_INSERT
from tests.factories import TargetFactory

pytestmark = pytest.mark.django_db

USED_FOR = [Report, OutboxMail]


@pytest.mark.parametrize("model", USED_FOR)
def test_the_models_it_writes_have_no_save_and_no_save_receivers(model):
    assert model.save is models.Model.save
    assert not pre_save.has_listeners(model) and not post_save.has_listeners(model)
    assert isinstance(model._meta.pk, models.UUIDField) and model._meta.pk.default is uuid.uuid4


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
