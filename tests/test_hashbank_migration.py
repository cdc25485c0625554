"""hashbank 0002: a bank entry's bare sanction id becomes a foreign key to the Sanction, keeping
every id that names one; an id that names none is set to NULL and said so on the migration's output.
Built from empty with the real migration graph, on SQLite and on PostgreSQL as the whole suite is."""

from __future__ import annotations

import uuid

import pytest
from django.db import DEFAULT_DB_ALIAS, IntegrityError, transaction
from django.utils import timezone
from django_test_migrations import sql

BEFORE = [("hashbank", "0001_initial"), ("enforcement", "0005_mail_outbox")]
AFTER = [("hashbank", "0002_bankentry_sanction_foreign_key")]


@pytest.mark.django_db(transaction=True)
def test_the_sanction_becomes_a_foreign_key_and_every_id_naming_one_is_kept(migrator, capsys):
    sql.drop_models_tables(DEFAULT_DB_ALIAS)
    sql.flush_django_migrations_table(DEFAULT_DB_ALIAS)
    before = migrator.apply_tested_migration(BEFORE).apps
    User = before.get_model("auth", "User")  # noqa: N806
    Sanction = before.get_model("enforcement", "Sanction")  # noqa: N806
    BankEntry = before.get_model("hashbank", "BankEntry")  # noqa: N806
    decider = User.objects.create(username="decider")
    now = timezone.now()
    sanction = Sanction.objects.create(
        kind="remove_content",
        status="active",
        ground_type="law",
        ground="§184b StGB",
        facts="Confirmed.",
        starts_at=now,
        decided_by=decider,
        decided_at=now,
    )
    lost = uuid.uuid4()

    def entry(n: int, sanction_id):
        return BankEntry.objects.create(
            sha256=f"{n:064x}",
            media_kind="image",
            category="child_safety",
            source="decision",
            sanction_id=sanction_id,
            added_by_label="decider",
        ).pk

    kept, orphan, without = entry(1, sanction.pk), entry(2, lost), entry(3, None)

    after = migrator.apply_tested_migration(AFTER).apps
    BankEntry = after.get_model("hashbank", "BankEntry")  # noqa: N806
    assert dict(BankEntry.objects.values_list("pk", "sanction_id")) == {kept: sanction.pk, orphan: None, without: None}
    assert BankEntry.objects.get(pk=kept).sanction.ground == "§184b StGB"
    assert f"hash bank entry {orphan}: sanction {lost} does not exist" in capsys.readouterr().out
    # Now the database refuses an id that names no sanction.
    with pytest.raises(IntegrityError), transaction.atomic():
        BankEntry.objects.create(
            sha256=f"{4:064x}",
            media_kind="image",
            category="child_safety",
            source="decision",
            sanction_id=uuid.uuid4(),
            added_by_label="decider",
        )
