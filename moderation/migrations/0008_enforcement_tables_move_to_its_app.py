from django.db import migrations


class Migration(migrations.Migration):
    """Sanctions, notices, appeals and the webhook outbox move to the enforcement app with every row.

    The database renames the tables (and the sanctions' table of reports) to the enforcement app's
    names: a rename only, no row is copied. Django's state forgets the models here and
    enforcement's 0001_initial knows them from there on; its 0002 moves their content types, so
    permissions and role groups stay. Why renamed and not kept: docs/architecture.md, "Migrations".
    """

    dependencies = [("moderation", "0007_complaint_appeals")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                # Renames the many-to-many table moderation_sanction_reports as well.
                migrations.AlterModelTable(name="sanction", table="enforcement_sanction"),
                migrations.AlterModelTable(name="notice", table="enforcement_notice"),
                migrations.AlterModelTable(name="appeal", table="enforcement_appeal"),
                migrations.AlterModelTable(name="outboxevent", table="enforcement_outboxevent"),
            ],
            state_operations=[
                migrations.DeleteModel(name="Notice"),
                migrations.DeleteModel(name="Appeal"),
                migrations.DeleteModel(name="Sanction"),
                migrations.DeleteModel(name="OutboxEvent"),
            ],
        ),
    ]
