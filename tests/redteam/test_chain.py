"""Someone who can write the audit table behind the app (its owner lifting the triggers, a DBA, a
restored backup) but does not hold AUDIT_SIGNING_KEY nor the checkpoint storage.

Before: the chain was plain SHA-256 with nothing outside the database; each attack below left
`audit_verify` saying "intact".
"""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from audit import checkpoints, triggers
from audit import services as audit
from audit.checkpoints import Checkpoint
from audit.models import AuditEvent
from audit.services import LEGACY, SigningKey, event_hash
from audit.verify import CheckpointRefused, checkpoint_take, verify
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
TABLE = triggers.TABLE


def record(count: int, start: int = 0) -> list[AuditEvent]:
    for number in range(start, start + count):
        with transaction.atomic():
            audit.record(actor=audit.SYSTEM, event_type="report.created", object_type="report", object_id=number)
    audit.seal_pending()
    return list(AuditEvent.objects.order_by("seq"))


def behind_the_triggers(statements: list[tuple[str, list]]) -> None:
    """What the table's owner can do: lift the triggers, write, put them back."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # Run the test transaction's deferred foreign-key checks now: PostgreSQL refuses to drop a
            # trigger on a table with such checks pending.
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        triggers.remove(connection)
        with connection.cursor() as cursor:
            for sql, params in statements:
                cursor.execute(sql, params)
        triggers.install(connection)


def relink(from_seq: int, key: SigningKey, until_seq: int | None = None) -> None:
    """Recompute every link from `from_seq` on (to the end, or `until_seq`), as an attacker would
    after editing that event."""
    events = AuditEvent.objects.filter(seq__gte=from_seq).order_by("seq")
    events = list(events.filter(seq__lte=until_seq) if until_seq else events)
    previous = AuditEvent.objects.filter(seq=from_seq - 1).values_list("hash", flat=True).first()
    updates = []
    for event in events:
        event.prev_hash = previous or audit.GENESIS_HASH
        event.hash = previous = event_hash(event, key)
        key_id = None if key is LEGACY else key.id
        updates.append(
            (
                f"UPDATE {TABLE} SET prev_hash = %s, hash = %s, key_id = %s WHERE id = %s",
                [event.prev_hash, event.hash, key_id, event.pk],
            )
        )
    behind_the_triggers(updates)


def insert(content: dict, *, origin: str | None) -> None:
    """An event inserted with the database's credentials (the runtime role may insert)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {TABLE} (created_at, event_type, actor_id, actor_label, object_type, object_id, "
            "before, after, data, correlation_id, origin) VALUES (%s, %s, %s, %s, %s, %s, NULL, %s, %s, NULL, %s)",
            [
                content["created_at"],
                content["event_type"],
                content["actor_id"],
                content["actor_label"],
                content["object_type"],
                content["object_id"],
                json.dumps(content["after"]) if content["after"] is not None else None,
                json.dumps(content["data"]),
                origin,
            ],
        )


def verify_fails(match: str) -> str:
    with pytest.raises(CommandError, match=match) as caught:
        call_command("audit_verify")
    return str(caught.value)


def test_an_edited_event_rehashed_without_the_key_is_named():
    """The issue's attack: edit an event, recompute prev_hash and hash with plain SHA-256 from it on."""
    events = record(5)
    behind_the_triggers([(f"UPDATE {TABLE} SET object_id = 'forged' WHERE id = %s", [events[2].pk])])
    relink(3, LEGACY)
    message = verify_fails(f"event #{events[2].pk} ")
    assert "after keyed events" in message


def test_an_edited_event_left_in_its_place_is_named_by_its_link_and_its_tag():
    events = record(3)
    behind_the_triggers([(f"UPDATE {TABLE} SET object_id = 'forged' WHERE id = %s", [events[1].pk])])
    problems = verify().problems
    assert [problem.split(": ", 1)[1] for problem in problems] == [
        "its content does not match its hash",
        "its content does not match its origin tag (changed, or not written by the app)",
    ]
    assert all(problem.startswith(f"event #{events[1].pk} ") for problem in problems)


def test_an_edited_event_rehashed_with_a_guessed_key_is_named():
    events = record(5)
    behind_the_triggers([(f"UPDATE {TABLE} SET object_id = 'forged' WHERE id = %s", [events[2].pk])])
    relink(3, SigningKey(audit.current_key().id, b"a guess"))  # even claiming the right key id
    verify_fails(f"event #{events[2].pk} .*its content does not match its hash")


def test_events_cut_off_the_end_are_caught_by_the_checkpoint():
    events = record(6)
    taken = checkpoint_take()
    assert taken.written and taken.checkpoint.seq == 6
    behind_the_triggers([(f"DELETE FROM {TABLE} WHERE seq > %s", [3])])
    assert verify(with_checkpoints=False).intact  # the chain alone looks whole
    verify_fails(re.escape(f"checkpoint {taken.checkpoint.file_name()} names seq 6 but the chain ends at seq 3"))
    assert len(events) == 6


def test_a_rebuilt_chain_no_longer_matches_the_checkpoint():
    """Everything deleted and written again, consistently, with a key the attacker made up."""
    record(4)
    taken = checkpoint_take()
    behind_the_triggers([(f"UPDATE {TABLE} SET data = '{{\"rewritten\": true}}'", [])])
    attacker = SigningKey("f" * 16, b"attacker's own key")
    relink(1, attacker)
    verify_fails("sealed with an unknown key")
    expected = f"checkpoint {taken.checkpoint.file_name()} no longer matches the chain at seq 4: rewritten"
    assert expected in verify().problems


def test_a_back_dated_event_sealed_after_a_checkpoint_is_named(settings):
    """Inserting is the app's right, so the database allows it; claiming to be older than a checkpoint
    that did not contain it is what gives the insert away."""
    record(3)
    taken = checkpoint_take()
    backdated = taken.checkpoint.created_at - timedelta(days=30)
    # With a valid origin tag, as the app's own code would write it (a transaction held open, or
    # someone holding the key): the date alone gives it away.
    content = {
        "created_at": backdated,
        "event_type": "report.reviewed",
        "actor_id": None,
        "actor_label": "system",
        "object_type": "report",
        "object_id": "1",
        "before": None,
        "after": None,
        "data": {},
        "correlation_id": None,
    }
    insert(content, origin=audit.origin_tag(**content))
    audit.seal_pending()
    inserted = AuditEvent.objects.get(seq=4)
    verify_fails(f"event #{inserted.pk} .*is dated before checkpoint .*inserted back-dated")
    # An event of a transaction still open when the checkpoint was taken is within the tolerance.
    settings.AUDIT_BACKDATE_TOLERANCE_SECONDS = 31 * 24 * 3600
    call_command("audit_verify")


def test_a_forged_or_unreadable_checkpoint_is_named():
    record(2)
    forged = Checkpoint(seq=2, hash="0" * 64, count=2, created_at=timezone.now(), key_id="", legacy_until=0).signed(
        SigningKey(audit.current_key().id, b"not our key")
    )
    checkpoints.store(forged)
    verify_fails(re.escape(f"checkpoint {forged.file_name()} is not signed with a known key"))
    checkpoints.storage().delete(forged.file_name())
    checkpoints.storage().save(f"{checkpoints._folder()}/2030-01-01/x.json", ContentFile(b"{not json"))
    verify_fails("x.json is not a checkpoint file")


def test_checkpoints_are_idempotent_and_refuse_to_bless_a_broken_chain():
    events = record(3)
    first = checkpoint_take()
    again = checkpoint_take()
    assert first.written and not again.written and again.checkpoint.file_name() == first.checkpoint.file_name()
    stored = json.loads(checkpoints.storage().open(first.checkpoint.file_name()).read())
    assert {key: stored[key] for key in ("seq", "hash", "count")} == {"seq": 3, "hash": events[-1].hash, "count": 3}
    record(2, start=3)
    behind_the_triggers([(f"UPDATE {TABLE} SET object_id = 'forged' WHERE seq = 5", [])])
    with pytest.raises(CheckpointRefused, match="its content does not match its hash"):
        checkpoint_take()
    with pytest.raises(CommandError, match="No checkpoint written"):
        call_command("audit_checkpoint")


def test_dropped_triggers_are_reported_by_audit_verify_and_migrate_puts_them_back(capsys):
    """Before: nothing noticed, and nothing put them back."""
    record(2)
    behind_the_triggers([])
    triggers.remove(connection)
    verify_fails("append-only triggers: trigger .* is missing")
    call_command("migrate", verbosity=0)
    assert triggers.problems(connection) == []
    call_command("audit_verify")
    assert "Audit chain intact: 2 events checked" in capsys.readouterr().out


# --- events sealed before the chain had a key (the upgrade path of migration 0004) -------------------


def upgraded_chain() -> list[AuditEvent]:
    """Two events sealed before the key (no key id, plain SHA-256, and no origin tag: tags came later
    still), then three sealed with it."""
    record(2)
    behind_the_triggers([(f"UPDATE {TABLE} SET key_id = NULL, origin = NULL", [])])
    relink(1, LEGACY)
    return record(3, start=2)


def test_events_sealed_before_the_key_still_verify_and_are_marked(capsys):
    events = upgraded_chain()
    assert [event.key_id is None for event in events] == [True, True, False, False, False]
    call_command("audit_verify")
    output = capsys.readouterr().out
    assert "Audit chain intact: 5 events checked" in output
    assert "2 of them were sealed before the chain was keyed" in output
    taken = checkpoint_take()
    assert taken.checkpoint.legacy_until == 2


def test_an_event_sealed_before_the_key_is_anchored_by_the_first_keyed_one():
    events = upgraded_chain()
    behind_the_triggers([(f"UPDATE {TABLE} SET object_id = 'forged' WHERE id = %s", [events[0].pk])])
    relink(1, LEGACY, until_seq=2)  # the legacy prefix re-hashed (anyone can); keyed event 3 links to its end
    verify_fails(f"event #{events[2].pk} .*its prev_hash does not match")


def test_keyed_events_passed_off_as_pre_key_ones_are_caught_by_the_checkpoint():
    upgraded_chain()
    taken = checkpoint_take()
    behind_the_triggers(
        [
            (f"UPDATE {TABLE} SET object_id = 'forged' WHERE seq = 4", []),
            (f"UPDATE {TABLE} SET origin = NULL", []),  # and as if written before origin tags
        ]
    )
    relink(3, LEGACY)  # every keyed event made to look sealed before the key, re-hashed in plain SHA-256
    assert verify(with_checkpoints=False).intact  # without the checkpoint, a consistent all-legacy chain
    verify_fails(re.escape(f"checkpoint {taken.checkpoint.file_name()} no longer matches the chain at seq 5"))


def test_the_audit_page_and_the_transparency_report_show_the_latest_checkpoint(client, capsys):
    record(3)
    taken = checkpoint_take().checkpoint
    client.force_login(UserFactory(username="compliance_officer", role="compliance"))
    page = client.get(reverse("audit:log")).content.decode()
    assert "Latest signed checkpoint: event seq 3 (3 events)" in page and "signature valid, matches the chain" in page
    today = timezone.localdate().isoformat()
    call_command("transparency_report", "--start", today, "--end", today)
    shown = json.loads(capsys.readouterr().out)["audit_checkpoint"]
    assert shown["seq"] == 3 and shown["hash"] == taken.hash and shown["signature_valid"] and shown["matches_chain"]
    # Rewritten behind the triggers: the page says so at once (audit_verify says where).
    behind_the_triggers([(f"DELETE FROM {TABLE} WHERE seq = 3", [])])
    assert "the chain no longer has this hash at this seq" in client.get(reverse("audit:log")).content.decode()


# --- events inserted around the app ------------------------------------------------------------------


def forged_grant(moderator_pk: int) -> dict:
    """The event an insider would insert beside a raw-SQL role: it passes audit_reconcile."""
    return {
        "created_at": timezone.now(),
        "event_type": "staff.created",
        "actor_id": None,
        "actor_label": "manage.py create_staff",
        "object_type": "user",
        "object_id": str(moderator_pk),
        "before": None,
        "after": {"username": "insider", "role": "compliance"},
        "data": {"created": False},
        "correlation_id": None,
    }


@pytest.mark.parametrize(
    "origin, problem",
    [
        (None, "carries no origin tag, after tagged events: inserted around the app"),
        ("made-up", r"its content does not match its origin tag \(changed, or not written by the app\)"),
        ("with a guessed key", r"its content does not match its origin tag \(changed, or not written by the app\)"),
    ],
)
def test_an_event_inserted_with_the_databases_credentials_is_sealed_but_named(origin, problem, caplog):
    """The sealer seals whatever is committed, so the chain alone would take an inserted event as the
    app's own; its origin tag, written by audit.record with the key, is what the insert lacks."""
    record(3)
    content = forged_grant(UserFactory(username="insider").pk)
    if origin == "with a guessed key":  # even claiming the right key id
        origin = audit.origin_tag(key=SigningKey(audit.current_key().id, b"a guess"), **content)
    insert(content, origin=origin)
    with caplog.at_level("ERROR", logger="audit.services"):
        audit.seal_pending()
    inserted = AuditEvent.objects.get(seq=4)
    assert f"audit: event {inserted.pk} (staff.created on user) has no valid origin tag" in caplog.text
    # Recorded in the log itself by the sealer, with the app's own tag (sealed next).
    noted = AuditEvent.objects.get(event_type="audit.foreign_event")
    assert (noted.seq, noted.actor_label, noted.object_id) == (5, "audit sealer", str(inserted.pk))
    assert noted.data == {
        "seq": 4,
        "event_type": "staff.created",
        "object": f"user:{content['object_id']}",
        "tag": "missing" if origin is None else "invalid",
    }
    verify_fails(f"event #{inserted.pk} .*{problem}")
    # Not damage to the chain: checkpoints go on anchoring its tail.
    assert verify(with_origins=False).intact
    assert checkpoint_take().checkpoint.seq == 5


def test_the_audit_page_says_when_events_were_inserted_around_the_app(client):
    record(2)
    client.force_login(UserFactory(username="compliance_officer", role="compliance"))
    assert "without the app's origin tag" not in client.get(reverse("audit:log")).content.decode()
    for number in range(2):
        insert(forged_grant(UserFactory(username=f"insider{number}").pk), origin=None)
        audit.seal_pending()
    latest = AuditEvent.objects.filter(event_type="audit.foreign_event").order_by("-id").first()
    page = client.get(reverse("audit:log")).content.decode()
    assert 'role="alert"' in page
    assert "2 events were sealed into the chain without the app's origin tag" in page
    assert f"Event #{latest.pk} names the latest" in page


def test_events_written_before_origin_tags_are_a_prefix_and_marked(capsys):
    """After the upgrade (migration 0005), the events written before carry no tag; they can only be
    the chain's beginning, as the app tags every event it writes from then on."""
    record(2)
    behind_the_triggers([(f"UPDATE {TABLE} SET origin = NULL", [])])  # as an upgraded database has them,
    relink(1, audit.current_key())  # sealed without a tag
    record(2, start=2)
    call_command("audit_verify")
    assert "2 of them were written before events carried their origin tag" in capsys.readouterr().out
    insert(forged_grant(UserFactory(username="insider").pk), origin=None)
    audit.seal_pending()
    verify_fails("carries no origin tag, after tagged events")


def test_a_tag_stripped_to_pass_an_event_off_as_written_before_tags_breaks_its_link():
    """The tag is in the event's hash: making the whole chain look untagged needs the key."""
    events = record(3)
    insert(forged_grant(UserFactory(username="insider").pk), origin=None)
    audit.seal_pending()
    behind_the_triggers([(f"UPDATE {TABLE} SET origin = NULL", [])])
    verify_fails(f"event #{events[0].pk} .*its content does not match its hash")
