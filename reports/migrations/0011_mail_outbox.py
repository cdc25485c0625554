"""The mail outbox replaces the mail kept after a relay's refusal (UnsentMail): every kept mail moves
into the outbox as it was (its attempts, its next attempt, its last error), and is sent by a worker."""

import uuid

from django.db import migrations, models


def unsent_into_outbox(apps, schema_editor):
    UnsentMail = apps.get_model("reports", "UnsentMail")
    OutboxMail = apps.get_model("reports", "OutboxMail")
    rows = [
        OutboxMail(
            id=uuid.uuid4(),
            kind="kept",
            recipients=kept.recipients,
            subject=kept.subject,
            body=kept.body,
            attempts=kept.attempts,
            next_attempt_at=kept.next_attempt_at,
            last_error=kept.last_error,
        )
        for kept in UnsentMail.objects.order_by("created_at").iterator()
    ]
    OutboxMail.objects.bulk_create(rows, batch_size=1000)
    # created_at is auto_now_add: the kept mail's own time is copied after, so the oldest stays oldest.
    for kept, row in zip(UnsentMail.objects.order_by("created_at"), rows, strict=True):
        OutboxMail.objects.filter(pk=row.pk).update(created_at=kept.created_at)


def outbox_into_unsent(apps, schema_editor):
    UnsentMail = apps.get_model("reports", "UnsentMail")
    OutboxMail = apps.get_model("reports", "OutboxMail")
    for row in OutboxMail.objects.filter(sent_at__isnull=True).order_by("created_at").iterator():
        UnsentMail.objects.create(
            recipients=row.recipients,
            subject=row.subject,
            body=row.body,
            attempts=max(row.attempts, 1),
            next_attempt_at=row.next_attempt_at,
            last_error=row.last_error,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0010_open_severity_age_index"),
    ]

    operations = [
        migrations.CreateModel(
            name="OutboxMail",
            fields=[
                ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ("kind", models.CharField(max_length=40)),
                ("recipients", models.JSONField()),
                ("subject", models.CharField(max_length=300)),
                ("body", models.TextField()),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("attempts", models.PositiveIntegerField(default=0)),
                ("next_attempt_at", models.DateTimeField()),
                ("last_error", models.TextField(blank=True)),
                ("claim", models.UUIDField(blank=True, null=True)),
                ("claimed_until", models.DateTimeField(blank=True, null=True)),
                ("sent_at", models.DateTimeField(blank=True, null=True)),
            ],
            options={
                "ordering": ["created_at"],
            },
        ),
        migrations.AddIndex(
            model_name="outboxmail",
            index=models.Index(
                condition=models.Q(("sent_at__isnull", True)), fields=["next_attempt_at"], name="outboxmail_due_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="outboxmail",
            index=models.Index(
                condition=models.Q(("sent_at__isnull", False)), fields=["sent_at"], name="outboxmail_sent_idx"
            ),
        ),
        migrations.RunPython(unsent_into_outbox, outbox_into_unsent),
        migrations.DeleteModel(
            name="UnsentMail",
        ),
    ]
