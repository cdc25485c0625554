from django.db import migrations, models


def remove_triggers(apps, schema_editor):
    from audit import triggers

    triggers.remove(schema_editor.connection)


def install_triggers(apps, schema_editor):
    from audit import triggers

    triggers.install(schema_editor.connection)


def install_untagged_triggers(apps, schema_editor):
    from audit import triggers

    triggers.install(schema_editor.connection, content_columns=triggers.UNTAGGED_CONTENT_COLUMNS)


class Migration(migrations.Migration):
    """Each event carries its origin tag: an HMAC of its content with AUDIT_SIGNING_KEY, written by
    audit.record with the event. An event inserted with the database's credentials alone is sealed
    into the chain like any other, but cannot carry a valid tag, and audit_verify names it. Events
    written before keep NULL; they can only be a prefix of the chain (README, "The audit log")."""

    dependencies = [("audit", "0004_keyed_chain")]

    operations = [
        # The SQLite trigger names every column; it is put back with the new one below (and by every
        # `migrate`, audit.apps).
        migrations.RunPython(remove_triggers, install_untagged_triggers),
        migrations.AddField(
            model_name="auditevent",
            name="origin",
            field=models.CharField(
                blank=True,
                help_text="Key id and HMAC of the event's content, written by the app with the event",
                max_length=96,
                null=True,
            ),
        ),
        migrations.RunPython(install_triggers, remove_triggers),
    ]
