from django.db import migrations

# The models that moved here, by the app they came from.
MOVED = {"moderation": ("sanction", "notice", "appeal", "outboxevent"), "reports": ("accountstanding",)}


def _move_content_types(apps, schema_editor, *, forwards: bool) -> None:
    """The moved models' content types follow them, so their permissions (the same rows, now
    "enforcement.lift_sanction" and so on) stay with the role groups and with any account given them."""
    from django.contrib.contenttypes.models import ContentType as LiveContentType

    ContentType = apps.get_model("contenttypes", "ContentType")  # noqa: N806
    db = schema_editor.connection.alias
    for old_app, models in MOVED.items():
        source, destination = (old_app, "enforcement") if forwards else ("enforcement", old_app)
        for model in models:
            if not ContentType.objects.using(db).filter(app_label=destination, model=model).exists():
                ContentType.objects.using(db).filter(app_label=source, model=model).update(app_label=destination)
    LiveContentType.objects.clear_cache()


def forwards(apps, schema_editor):
    from moderation.roles import sync_role_groups

    _move_content_types(apps, schema_editor, forwards=True)
    # On a new database the role migrations ran before these permissions had their app: give them now.
    sync_role_groups(apps)


def backwards(apps, schema_editor):
    # The groups keep the same permission rows, which read "moderation.…" again.
    _move_content_types(apps, schema_editor, forwards=False)


class Migration(migrations.Migration):
    dependencies = [
        ("enforcement", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
