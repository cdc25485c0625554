from django.db import migrations, models


def remove_triggers(apps, schema_editor):
    from audit import triggers

    triggers.remove(schema_editor.connection)


def install_triggers(apps, schema_editor):
    from audit import triggers

    # The triggers as they were before the chain was keyed (0004 installs the current ones).
    triggers.install(
        schema_editor.connection,
        chain_columns=triggers.UNKEYED_CHAIN_COLUMNS,
        content_columns=triggers.UNTAGGED_CONTENT_COLUMNS,
    )


class Migration(migrations.Migration):
    """The chain is linked after commit by a sealer (audit.services.seal_pending) instead of under a
    lock inside every transaction. Events chained so far were chained in id order: their seq is their id."""

    dependencies = [("audit", "0002_append_only_triggers")]

    operations = [
        migrations.RunPython(remove_triggers, install_triggers),
        migrations.AddField(
            model_name="auditevent",
            name="seq",
            field=models.BigIntegerField(blank=True, help_text="Position in the hash chain", null=True, unique=True),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="prev_hash",
            field=models.CharField(blank=True, max_length=64, null=True),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="hash",
            field=models.CharField(blank=True, max_length=64, null=True, unique=True),
        ),
        migrations.RunSQL("UPDATE audit_auditevent SET seq = id", migrations.RunSQL.noop),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(condition=models.Q(("seq__isnull", True)), fields=["id"], name="audit_unsealed_idx"),
        ),
        migrations.RunPython(install_triggers, remove_triggers),
    ]
