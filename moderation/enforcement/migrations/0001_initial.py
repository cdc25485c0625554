import uuid

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import moderation.enforcement.models


class Migration(migrations.Migration):
    """Enforcement's models, as they were in moderation (0007) and reports (0007), in Django's state
    only: their tables exist already, renamed by moderation's 0008 and reports' 0008, rows and all."""

    initial = True

    dependencies = [
        ("moderation", "0008_enforcement_tables_move_to_its_app"),
        ("reports", "0008_accountstanding_moves_to_enforcement"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="AccountStanding",
                    fields=[
                        (
                            "user",
                            models.OneToOneField(
                                on_delete=django.db.models.deletion.CASCADE,
                                primary_key=True,
                                related_name="standing",
                                serialize=False,
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        ("trusted_flagger", models.BooleanField(default=False)),
                        ("misuse_warned_at", models.DateTimeField(blank=True, null=True)),
                        ("reports_paused_until", models.DateTimeField(blank=True, null=True)),
                        ("legal_hold", models.BooleanField(default=False)),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                    ],
                ),
                migrations.CreateModel(
                    name="Appeal",
                    fields=[
                        ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                        ("appellant_email", models.EmailField(blank=True, max_length=254)),
                        ("text", models.TextField()),
                        (
                            "attachment",
                            models.FileField(blank=True, upload_to=moderation.enforcement.models.appeal_upload_to),
                        ),
                        ("attachment_name", models.CharField(blank=True, max_length=255)),
                        ("attachment_content_type", models.CharField(blank=True, max_length=100)),
                        (
                            "status",
                            models.CharField(
                                choices=[
                                    ("pending", "Pending"),
                                    ("upheld", "Upheld"),
                                    ("partially_reversed", "Partially reversed"),
                                    ("reversed", "Reversed"),
                                ],
                                default="pending",
                                max_length=20,
                            ),
                        ),
                        ("due_at", models.DateTimeField()),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("decided_at", models.DateTimeField(blank=True, null=True)),
                        ("decision_reason", models.TextField(blank=True)),
                        (
                            "appellant",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="appeals",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "decided_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "report",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="appeals",
                                to="reports.report",
                            ),
                        ),
                    ],
                    options={
                        "ordering": ["due_at"],
                    },
                ),
                migrations.CreateModel(
                    name="OutboxEvent",
                    fields=[
                        ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                        ("event_type", models.CharField(max_length=64)),
                        ("payload", models.JSONField()),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("attempts", models.PositiveIntegerField(default=0)),
                        ("next_attempt_at", models.DateTimeField()),
                        ("delivered_at", models.DateTimeField(blank=True, null=True)),
                        ("last_error", models.TextField(blank=True)),
                    ],
                    options={
                        "ordering": ["created_at"],
                        "indexes": [models.Index(fields=["delivered_at", "next_attempt_at"], name="outbox_due_idx")],
                    },
                ),
                migrations.CreateModel(
                    name="Sanction",
                    fields=[
                        ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                        ("decision_id", models.UUIDField(db_index=True, default=uuid.uuid4)),
                        (
                            "kind",
                            models.CharField(
                                choices=[
                                    ("warning", "Warning"),
                                    ("timeout", "Timeout (temporary restriction)"),
                                    ("kick", "Kick from the live session"),
                                    ("suspension", "Temporary suspension"),
                                    ("termination", "Permanent termination"),
                                    ("remove_content", "Remove content"),
                                    ("quarantine_file", "Quarantine file"),
                                    ("withhold_payments", "Withhold payments"),
                                    ("refer_authorities", "Refer to authorities"),
                                ],
                                max_length=24,
                            ),
                        ),
                        (
                            "status",
                            models.CharField(
                                choices=[
                                    ("pending_approval", "Awaiting second approval"),
                                    ("active", "Active"),
                                    ("done", "Done"),
                                    ("expired", "Ended"),
                                    ("lifted", "Lifted early"),
                                    ("reversed", "Reversed on appeal"),
                                ],
                                max_length=20,
                            ),
                        ),
                        (
                            "ground_type",
                            models.CharField(choices=[("terms", "Terms of service"), ("law", "Law")], max_length=10),
                        ),
                        (
                            "ground",
                            models.CharField(help_text="The law or the clause of the terms of service", max_length=300),
                        ),
                        ("facts", models.TextField(help_text="The facts and circumstances, in plain words")),
                        (
                            "automated",
                            models.BooleanField(default=False, help_text="Whether automated means were used"),
                        ),
                        ("starts_at", models.DateTimeField()),
                        ("ends_at", models.DateTimeField(blank=True, null=True)),
                        ("ladder_override_reason", models.TextField(blank=True)),
                        ("decided_at", models.DateTimeField()),
                        ("approved_at", models.DateTimeField(blank=True, null=True)),
                        ("reference", models.CharField(blank=True, max_length=200)),
                        ("lifted_at", models.DateTimeField(blank=True, null=True)),
                        ("lift_reason", models.TextField(blank=True)),
                        (
                            "account",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="sanctions",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "approved_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "decided_by",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "lifted_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        ("reports", models.ManyToManyField(blank=True, related_name="sanctions", to="reports.report")),
                        (
                            "target",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="sanctions",
                                to="reports.target",
                            ),
                        ),
                    ],
                    options={
                        "ordering": ["-decided_at"],
                        "permissions": [
                            (
                                "apply_basic_action",
                                "Can warn, time out, kick, suspend temporarily, remove and quarantine",
                            ),
                            ("apply_severe_action", "Can terminate, withhold payments and refer to authorities"),
                            ("approve_referral", "Can approve another officer's referral to authorities"),
                            ("lift_sanction", "Can lift or reverse a sanction early"),
                            ("view_removed_content", "Can see removed content and quarantined files"),
                            ("decide_appeal", "Can decide appeals"),
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="Notice",
                    fields=[
                        ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                        (
                            "kind",
                            models.CharField(
                                choices=[
                                    ("statement_of_reasons", "Statement of reasons"),
                                    ("report_outcome", "Outcome of your report"),
                                    ("appeal_decision", "Decision on your appeal"),
                                    ("sanction_lifted", "Restriction lifted"),
                                    ("misuse_warning", "Warning about unfounded reports"),
                                    ("reports_paused", "Your reports are paused"),
                                ],
                                max_length=24,
                            ),
                        ),
                        ("decision_id", models.UUIDField(blank=True, null=True)),
                        ("email", models.EmailField(blank=True, max_length=254)),
                        ("subject", models.CharField(max_length=200)),
                        ("body", models.TextField()),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("emailed_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "appeal",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="notices",
                                to="enforcement.appeal",
                            ),
                        ),
                        (
                            "recipient",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="notices",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "report",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to="reports.report",
                            ),
                        ),
                        (
                            "sanction",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="notices",
                                to="enforcement.sanction",
                            ),
                        ),
                    ],
                    options={
                        "ordering": ["-created_at"],
                    },
                ),
                migrations.AddField(
                    model_name="appeal",
                    name="sanction",
                    field=models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="appeals",
                        to="enforcement.sanction",
                    ),
                ),
                migrations.AddIndex(
                    model_name="sanction",
                    index=models.Index(fields=["account", "status", "ends_at"], name="sanction_account_status_idx"),
                ),
                migrations.AddIndex(
                    model_name="sanction",
                    index=models.Index(fields=["status", "ends_at"], name="sanction_status_end_idx"),
                ),
                migrations.AddIndex(
                    model_name="sanction",
                    index=models.Index(fields=["decided_at"], name="sanction_decided_idx"),
                ),
                migrations.AddIndex(
                    model_name="notice",
                    index=models.Index(fields=["recipient", "created_at"], name="notice_recipient_idx"),
                ),
                migrations.AddIndex(
                    model_name="appeal",
                    index=models.Index(fields=["status", "due_at"], name="appeal_status_due_idx"),
                ),
                migrations.AddConstraint(
                    model_name="appeal",
                    constraint=models.UniqueConstraint(
                        fields=("appellant", "sanction"), name="appeal_once_per_sanction"
                    ),
                ),
                migrations.AddConstraint(
                    model_name="appeal",
                    constraint=models.UniqueConstraint(fields=("appellant", "report"), name="appeal_once_per_report"),
                ),
                migrations.AddConstraint(
                    model_name="appeal",
                    constraint=models.UniqueConstraint(
                        condition=models.Q(("appellant__isnull", True)),
                        fields=("report",),
                        name="appeal_once_per_complaint",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="appeal",
                    constraint=models.CheckConstraint(
                        condition=models.Q(
                            ("appellant__isnull", False),
                            models.Q(("report__isnull", False), models.Q(("appellant_email", ""), _negated=True)),
                            _connector="OR",
                        ),
                        name="appeal_has_appellant",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="appeal",
                    constraint=models.CheckConstraint(
                        condition=models.Q(("sanction__isnull", False), ("report__isnull", False), _connector="OR"),
                        name="appeal_has_subject",
                    ),
                ),
            ],
            database_operations=[],
        ),
    ]
