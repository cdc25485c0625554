from django.db import migrations


def sync_roles(apps, schema_editor):
    from moderation.roles import sync_role_groups

    sync_role_groups(apps)


class Migration(migrations.Migration):
    """Gives the role groups the enforcement permissions added in 0003."""

    dependencies = [("moderation", "0003_enforcement")]

    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
