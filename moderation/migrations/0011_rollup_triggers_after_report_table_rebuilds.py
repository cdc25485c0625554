"""The reports' rollup triggers again, after the migrations that followed 0009.

SQLite cannot alter a column in place: Django rebuilds the table (a new table, the rows copied, the
old one dropped), and the old table's triggers go with it. reports 0012 rebuilt reports_report after
0009 had installed its triggers, so on SQLite (the demo, the SQLite tests) no report change reached
the rollups since, and the dashboard counted nothing received. PostgreSQL alters tables in place and
kept its triggers; installing them again there changes nothing. On SQLite with reports, the rollups
are marked unbuilt: the next `rollup_reports` counts everything again (the dashboard counts from the
reports until then). tests/test_migrations.py checks the triggers on a database migrated from empty.
"""

from django.db import migrations


def install_triggers(apps, schema_editor):
    from moderation import rollup_triggers

    rollup_triggers.install(schema_editor.connection)
    if schema_editor.connection.vendor == "sqlite" and (
        apps.get_model("reports", "Report").objects.exists()
        or apps.get_model("enforcement", "Sanction").objects.exists()
    ):
        apps.get_model("moderation", "RollupState").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("moderation", "0010_dashboard_flat_rollups"),
        ("reports", "0013_outboxmail_rendered_at_send"),
    ]

    operations = [migrations.RunPython(install_triggers, migrations.RunPython.noop)]
