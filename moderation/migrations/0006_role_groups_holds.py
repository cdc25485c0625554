from django.db import migrations


def sync_roles(apps, schema_editor):
    from moderation.roles import sync_role_groups

    sync_role_groups(apps)


class Migration(migrations.Migration):
    """Gives the role groups the legal-hold and trusted-flagger permissions (reports 0002)."""

    dependencies = [("moderation", "0005_misuse_notices"), ("reports", "0002_standing_holds_trusted_flaggers")]

    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
