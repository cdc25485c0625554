from django.db import migrations, models


def remove_triggers(apps, schema_editor):
    from audit import triggers

    triggers.remove(schema_editor.connection)


def install_triggers(apps, schema_editor):
    from audit import triggers

    # As they were at this migration: the origin column comes with 0005.
    triggers.install(schema_editor.connection, content_columns=triggers.UNTAGGED_CONTENT_COLUMNS)


def install_unkeyed_triggers(apps, schema_editor):
    from audit import triggers

    triggers.install(
        schema_editor.connection,
        chain_columns=triggers.UNKEYED_CHAIN_COLUMNS,
        content_columns=triggers.UNTAGGED_CONTENT_COLUMNS,
    )


class Migration(migrations.Migration):
    """The chain is keyed: the sealer stores the id of the HMAC key (AUDIT_SIGNING_KEY) that sealed each
    event. Events sealed before keep key_id NULL and their plain SHA-256 hashes, untouched: re-sealing
    them would rewrite the very history the chain proves. audit_verify checks them as a prefix of the
    chain, anchored by the first keyed event and by every checkpoint (README, "The audit log")."""

    dependencies = [("audit", "0003_chain_sealed_after_commit")]

    operations = [
        migrations.RunPython(remove_triggers, install_unkeyed_triggers),
        migrations.AddField(
            model_name="auditevent",
            name="key_id",
            field=models.CharField(
                blank=True,
                help_text="Id of the key whose HMAC sealed the event; empty when sealed before the chain was keyed",
                max_length=16,
                null=True,
            ),
        ),
        migrations.RunPython(install_triggers, remove_triggers),
    ]
