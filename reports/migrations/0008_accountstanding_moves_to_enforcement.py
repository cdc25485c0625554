from django.db import migrations


class Migration(migrations.Migration):
    """An account's standing moves to the enforcement app, the side that writes it, with every row:
    the table is renamed (no row is copied), enforcement's 0001_initial knows the model from there
    on. See moderation's 0008 and docs/architecture.md, "Migrations"."""

    dependencies = [("reports", "0007_unsent_mail")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.AlterModelTable(name="accountstanding", table="enforcement_accountstanding"),
            ],
            state_operations=[migrations.DeleteModel(name="AccountStanding")],
        ),
    ]
