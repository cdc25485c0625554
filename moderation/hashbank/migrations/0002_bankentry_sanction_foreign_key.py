"""BankEntry.sanction_id, a bare UUID, becomes a foreign key to enforcement's Sanction (PROTECT: an
entry never loses why it was banked), keeping every id that names a sanction.

An id that names no sanction (none should exist: decisions bank their files in the sanction's own
transaction) cannot be kept under a foreign key; it is set to NULL and printed, with its entry,
so that the migration's output says what it let go. The column keeps its name (sanction_id) and its
values: renamed to the field's new name, then altered into the foreign key, which renames it back
and adds the constraint and the index, on SQLite (a table rebuild) and PostgreSQL alike.
"""

import django.db.models.deletion
from django.db import migrations, models


def forget_ids_naming_no_sanction(apps, schema_editor):
    BankEntry = apps.get_model("hashbank", "BankEntry")  # noqa: N806
    Sanction = apps.get_model("enforcement", "Sanction")  # noqa: N806
    orphans = BankEntry.objects.filter(sanction_id__isnull=False).exclude(sanction_id__in=Sanction.objects.values("id"))
    for entry_id, sanction_id in orphans.values_list("id", "sanction_id"):
        print(f"\n  hash bank entry {entry_id}: sanction {sanction_id} does not exist; its sanction is set to NULL")
    orphans.update(sanction_id=None)


class Migration(migrations.Migration):
    dependencies = [
        ("enforcement", "0005_mail_outbox"),
        ("hashbank", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(forget_ids_naming_no_sanction, migrations.RunPython.noop),
        migrations.RenameField(model_name="bankentry", old_name="sanction_id", new_name="sanction"),
        migrations.AlterField(
            model_name="bankentry",
            name="sanction",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="bank_entries",
                to="enforcement.sanction",
            ),
        ),
    ]
