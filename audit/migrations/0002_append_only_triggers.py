from django.db import migrations

# The append-only triggers were installed here first. They are installed by 0003 now, which also
# lets the sealer fill an event's chain columns once; the statements live in audit/triggers.py, and
# installing that version here, before the columns it names exist, would fail on SQLite.


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = []
