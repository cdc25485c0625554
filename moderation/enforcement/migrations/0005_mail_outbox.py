"""Notices are mailed through the outbox (reports.OutboxMail), which records what was sent: the
notices never emailed (the relay refused them) move into the outbox, and Notice.emailed_at goes."""

import uuid

from django.db import migrations
from django.utils import timezone


def never_emailed_into_outbox(apps, schema_editor):
    Notice = apps.get_model("enforcement", "Notice")
    OutboxMail = apps.get_model("reports", "OutboxMail")
    now = timezone.now()
    waiting = Notice.objects.filter(emailed_at__isnull=True).exclude(email="").order_by("created_at")
    OutboxMail.objects.bulk_create(
        [
            OutboxMail(
                id=uuid.uuid4(),
                kind="notice",
                recipients=[notice.email],
                subject=notice.subject,
                body=notice.body,
                next_attempt_at=now,
            )
            for notice in waiting.iterator()
        ],
        batch_size=1000,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("enforcement", "0004_sanction_decided_kind_index"),
        ("reports", "0011_mail_outbox"),
    ]

    operations = [
        # Going back, every notice counts as emailed: the outbox (kept by reports) holds what was not.
        migrations.RunPython(never_emailed_into_outbox, migrations.RunPython.noop),
        migrations.RemoveField(
            model_name="notice",
            name="emailed_at",
        ),
    ]
