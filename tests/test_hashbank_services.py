"""The hash bank's services (moderation/hashbank/services.py) and matching (selectors.match_media):
what each writes, its audit event, its refusals, and matches exactly at the PDQ threshold and beyond."""

from __future__ import annotations

import io

import numpy as np
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.db.models import ProtectedError

from audit import services as audit
from audit.models import AuditEvent
from moderation.hashbank import services
from moderation.hashbank.hashing import hash_media
from moderation.hashbank.models import BankEntry, EntrySource, ImportBatch, MediaKind
from moderation.hashbank.selectors import MatchType, match_media
from tests.conftest import png_bytes
from tests.factories import ReportFactory, SanctionFactory
from tests.hashbank_media import edited_bytes, picture_bytes

pytestmark = pytest.mark.django_db

SHA_A = "a" * 64
SHA_B = "b" * 64


def flipped(pdq: str, distance: int, seed: int = 0) -> str:
    """The PDQ hex with exactly `distance` bits flipped."""
    bits = np.unpackbits(np.frombuffer(bytes.fromhex(pdq), dtype=np.uint8))
    positions = np.random.default_rng(seed).choice(256, size=distance, replace=False)
    bits[positions] ^= 1
    return np.packbits(bits).tobytes().hex()


def hex_distance(a: str, b: str) -> int:
    return int(
        np.bitwise_count(np.frombuffer(bytes.fromhex(a), np.uint8) ^ np.frombuffer(bytes.fromhex(b), np.uint8)).sum()
    )


def random_pdq(seed: int) -> str:
    return np.random.default_rng(seed).integers(0, 256, size=32, dtype=np.uint8).tobytes().hex()


def import_csv(text: str, *, actor=audit.SYSTEM, category: str | None = "child_safety", source: str = "Test list"):
    return services.hash_list_import(
        actor=actor, content=text.encode(), source_name=source, file_name="list.csv", default_category=category
    )


# --- adding confirmed media ---------------------------------------------------------------------------


def test_a_moderator_banks_the_media_they_confirmed_with_its_hashes_and_an_audit_event(moderator):
    report = ReportFactory(category="child_safety")
    content = picture_bytes(1)
    entry, created = services.entry_add_from_media(
        actor=moderator, content=content, category="child_safety", report=report
    )
    assert created
    expected = hash_media(content)
    assert (entry.sha256, entry.pdq, entry.pdq_quality) == (expected.sha256, expected.pdq, expected.pdq_quality)
    assert (entry.source, entry.report, entry.added_by, entry.active) == (EntrySource.DECISION, report, moderator, True)
    assert entry.source_name == "Report Desk moderation decision"
    event = AuditEvent.objects.get(event_type="hashbank.entry_added")
    assert (event.object_type, event.object_id, event.actor) == ("hashbank_entry", str(entry.pk), moderator)
    assert event.after["sha256"] == expected.sha256 and event.after["report_id"] == str(report.pk)
    # The bank keeps hashes only: no file field, nothing in storage.
    assert {field.name for field in BankEntry._meta.fields}.isdisjoint({"file", "content", "image"})


def test_the_same_file_confirmed_again_returns_the_entry_and_writes_nothing(moderator):
    content = picture_bytes(2)
    first, _ = services.entry_add_from_media(
        actor=moderator, content=content, category="child_safety", sanction=SanctionFactory()
    )
    again, created = services.entry_add_from_media(
        actor=moderator, content=content, category="child_safety", sanction=SanctionFactory()
    )
    assert (again, created) == (first, False)
    assert BankEntry.objects.count() == 1
    assert AuditEvent.objects.filter(event_type="hashbank.entry_added").count() == 1
    # As a video frame it is another entry (unique per kind of media).
    frame, created = services.entry_add_from_media(
        actor=moderator,
        content=content,
        category="child_safety",
        media_kind=MediaKind.VIDEO_FRAME,
        report=ReportFactory(),
    )
    assert created and frame.pk != first.pk


def test_an_entry_names_the_sanction_it_was_banked_on_and_keeps_it(moderator):
    sanction = SanctionFactory()
    entry, _ = services.entry_add_from_media(
        actor=moderator, content=picture_bytes(6), category="child_safety", sanction=sanction
    )
    assert BankEntry.objects.get(pk=entry.pk).sanction == sanction
    assert list(sanction.bank_entries.all()) == [entry]
    event = AuditEvent.objects.get(event_type="hashbank.entry_added")
    assert event.after["sanction_id"] == str(sanction.pk)
    # Why the file was banked is never lost: the sanction an entry names cannot be deleted.
    with pytest.raises(ProtectedError):
        sanction.delete()
    assert BankEntry.objects.get(pk=entry.pk).sanction_id == sanction.pk


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"category": "harassment"}, "category"),
        ({"media_kind": "video"}, "media_kind"),
        ({"content": b"not an image at all"}, "content"),
        ({"content": b"%PDF-1.4\n%%EOF"}, "content"),
        ({"report": None}, "__all__"),
    ],
)
def test_adding_media_refuses_bad_input_and_writes_nothing(moderator, changes, field):
    arguments = {"content": picture_bytes(3), "category": "non_consensual", "report": ReportFactory(), **changes}
    with pytest.raises(ValidationError) as refused:
        services.entry_add_from_media(actor=moderator, **arguments)
    assert field in refused.value.message_dict
    assert not BankEntry.objects.exists() and not AuditEvent.objects.filter(event_type__startswith="hashbank").exists()


def test_only_a_person_with_the_queue_may_add_media(user):
    report = ReportFactory()
    for actor in (user, audit.SYSTEM):
        with pytest.raises(PermissionDenied):
            services.entry_add_from_media(actor=actor, content=picture_bytes(4), category="child_safety", report=report)
    assert not BankEntry.objects.exists()


# --- importing a list ---------------------------------------------------------------------------------


def test_importing_a_good_list_adds_every_new_row_once_with_one_audit_event(compliance):
    pdq_only = random_pdq(1)
    existing = import_csv(f"sha256\n{SHA_A}\n", source="Earlier list")
    text = (
        "\ufeffSHA256,PDQ,Category,quality,note\n"  # a byte-order mark, capitals and an extra column
        f"{SHA_A.upper()},,,,already in the bank\n"
        f"{SHA_B},{random_pdq(2)},non_consensual,88,\n"
        f"{SHA_B},{random_pdq(2)},non_consensual,88,repeated in the file\n"
        f",{pdq_only},sex_trafficking,,\n"
        "\n"
        f"{'c' * 64},,,,\n"
    )
    result = import_csv(text, actor=compliance, source="Partner hash list 2026-11")
    assert (result.imported, result.duplicates) == (3, 2)
    batch = result.batch
    assert (batch.source_name, batch.imported_count, batch.duplicate_count, batch.imported_by) == (
        "Partner hash list 2026-11",
        3,
        2,
        compliance,
    )
    entries = {entry.sha256 or entry.pdq: entry for entry in batch.entries.all()}
    assert set(entries) == {SHA_B, pdq_only, "c" * 64}
    assert entries[SHA_B].category == "non_consensual" and entries[SHA_B].pdq_quality == 88
    assert entries[pdq_only].category == "sex_trafficking" and entries[pdq_only].sha256 is None
    assert entries["c" * 64].category == "child_safety"  # the list's default
    assert all(
        entry.source == EntrySource.IMPORT and entry.source_name == batch.source_name for entry in entries.values()
    )
    event = AuditEvent.objects.get(event_type="hashbank.list_imported", object_id=str(batch.pk))
    assert event.actor == compliance and event.object_type == "hashbank_import"
    assert event.after["imported"] == 3 and event.after["duplicates"] == 2
    assert event.after["file_sha256"] == batch.file_sha256 and len(batch.file_sha256) == 64
    assert existing.batch.pk != batch.pk


def test_a_list_with_bad_rows_is_refused_whole_with_a_message_per_bad_line():
    text = (
        "sha256,pdq,category,quality\n"
        f"{SHA_A},,,\n"
        f"{'a' * 63},,,\n"  # too short
        f",{'z' * 64},,\n"  # not hex
        ",,,\n"  # no hash at all
        f"{SHA_B},,harassment,\n"  # not a bank category
        f"{'d' * 64},{random_pdq(3)},,101\n"  # quality out of range
    )
    with pytest.raises(ValidationError) as refused:
        import_csv(text)
    messages = refused.value.messages
    assert messages[0] == "Nothing was imported: 5 bad lines."
    assert messages[1:] == [
        "line 3: sha256 is not 64 hex digits",
        "line 4: pdq is not 64 hex digits",
        "line 5: no sha256 and no pdq",
        "line 6: category 'harassment' is not one of: child_safety, non_consensual, human_trafficking, sex_trafficking",
        "line 7: quality '101' is not a whole number 0..100",
    ]
    assert not BankEntry.objects.exists() and not ImportBatch.objects.exists()
    assert not AuditEvent.objects.filter(event_type="hashbank.list_imported").exists()


def test_a_list_with_many_bad_rows_names_the_first_fifty_and_counts_the_rest():
    text = "sha256\n" + "nothex\n" * 70
    with pytest.raises(ValidationError) as refused:
        import_csv(text)
    messages = refused.value.messages
    assert messages[0] == "Nothing was imported: 70 bad lines."
    assert len(messages) == 1 + 50 + 1 and messages[-1] == "... and 20 more bad lines."


@pytest.mark.parametrize(
    ("text", "category", "message"),
    [
        ("id,name\n1,x\n", "child_safety", "The first line must name the columns"),
        (f"sha256\n{SHA_A}\n", None, "The file has no category column"),
        ("sha256\n", "child_safety", "The file has no rows"),
        ("", "child_safety", "The first line must name the columns"),
    ],
)
def test_a_list_without_the_columns_or_rows_it_needs_is_refused(text, category, message):
    with pytest.raises(ValidationError) as refused:
        import_csv(text, category=category)
    assert refused.value.messages[0].startswith(message)
    assert not BankEntry.objects.exists()


def test_a_list_that_is_not_utf8_or_has_no_source_is_refused():
    with pytest.raises(ValidationError, match="not UTF-8"):
        services.hash_list_import(
            actor=audit.SYSTEM, content=b"sha256\n\xff\xfe", source_name="x", file_name="x.csv", default_category=None
        )
    with pytest.raises(ValidationError) as refused:
        import_csv(f"sha256\n{SHA_A}\n", source="   ")
    assert "source_name" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        import_csv(f"sha256\n{SHA_A}\n", category="spam")
    assert "category" in refused.value.message_dict


def test_only_compliance_or_an_operators_command_may_import(moderator, compliance, admin_user):
    with pytest.raises(PermissionDenied):
        import_csv(f"sha256\n{SHA_A}\n", actor=moderator)
    assert not BankEntry.objects.exists()
    assert import_csv(f"sha256\n{SHA_A}\n", actor=compliance).imported == 1
    assert import_csv(f"sha256\n{SHA_B}\n", actor=admin_user).imported == 1


def test_the_import_command_imports_a_file_and_reports_refusals(tmp_path):
    good = tmp_path / "partner.csv"
    good.write_text(f"sha256,pdq\n{SHA_A},{random_pdq(4)}\n{SHA_A},{random_pdq(4)}\n")
    out = io.StringIO()
    call_command("hashbank_import", str(good), "--source", "Partner list", "--category", "child_safety", stdout=out)
    assert "Imported 1 hashes from partner.csv ('Partner list'" in out.getvalue()
    assert "1 already in the bank or repeated were skipped" in out.getvalue()
    event = AuditEvent.objects.get(event_type="hashbank.list_imported")
    assert event.actor_label == "hashbank_import command"

    bad = tmp_path / "bad.csv"
    bad.write_text("sha256\nnothex\n")
    with pytest.raises(CommandError, match="line 2: sha256 is not 64 hex digits"):
        call_command("hashbank_import", str(bad), "--source", "Partner list", "--category", "child_safety")
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("hashbank_import", str(tmp_path / "missing.csv"), "--source", "x", "--category", "child_safety")
    assert BankEntry.objects.count() == 1


# --- retiring -----------------------------------------------------------------------------------------


def test_retiring_an_entry_keeps_it_on_record_stops_its_matches_and_is_audited(compliance):
    pdq = random_pdq(5)
    import_csv(f"sha256,pdq\n{SHA_A},{pdq}\n")
    entry = BankEntry.objects.get()
    assert [match.entry for match in match_media(sha256=SHA_A, pdq=pdq)] == [entry]

    services.entry_retire(actor=compliance, entry_id=entry.pk, reason="Withdrawn by the list's source.")
    entry.refresh_from_db()
    assert not entry.active and entry.retired_by == compliance and entry.retire_reason.startswith("Withdrawn")
    assert match_media(sha256=SHA_A, pdq=pdq) == []
    assert match_media(sha256=None, pdq=flipped(pdq, 3)) == []
    event = AuditEvent.objects.get(event_type="hashbank.entry_retired")
    assert (event.object_id, event.before, event.after["active"]) == (str(entry.pk), {"active": True}, False)

    with pytest.raises(ValidationError, match="already retired"):
        services.entry_retire(actor=compliance, entry_id=entry.pk, reason="Again.")
    # Retired, the same hash may be banked again.
    assert import_csv(f"sha256\n{SHA_A}\n").imported == 1


def test_retiring_refuses_a_missing_entry_no_reason_and_a_moderator(moderator, compliance):
    import_csv(f"sha256\n{SHA_A}\n")
    entry = BankEntry.objects.get()
    with pytest.raises(ValidationError, match="no hash bank entry"):
        services.entry_retire(actor=compliance, entry_id=entry.pk + 100, reason="Wrong.")
    with pytest.raises(ValidationError) as refused:
        services.entry_retire(actor=compliance, entry_id=entry.pk, reason="  ")
    assert "reason" in refused.value.message_dict
    with pytest.raises(PermissionDenied):
        services.entry_retire(actor=moderator, entry_id=entry.pk, reason="Wrong.")
    assert BankEntry.objects.get().active


def test_the_retire_command(tmp_path):
    import_csv(f"sha256\n{SHA_A}\n")
    entry = BankEntry.objects.get()
    out = io.StringIO()
    call_command("hashbank_retire", str(entry.pk), "--reason", "Duplicate of a better entry.", stdout=out)
    assert f"Retired hash bank entry {entry.pk}" in out.getvalue()
    with pytest.raises(CommandError, match="already retired"):
        call_command("hashbank_retire", str(entry.pk), "--reason", "Again.")


# --- matching -----------------------------------------------------------------------------------------


def test_pdq_matches_up_to_the_threshold_and_not_one_bit_beyond(settings):
    pdq = random_pdq(6)
    import_csv(f"pdq\n{pdq}\n")
    entry = BankEntry.objects.get()
    assert settings.HASHBANK_PDQ_MAX_DISTANCE == 31
    at_threshold = match_media(sha256=None, pdq=flipped(pdq, 31))
    assert [(m.entry, m.match_type, m.distance) for m in at_threshold] == [(entry, MatchType.PDQ, 31)]
    assert match_media(sha256=None, pdq=flipped(pdq, 32)) == []
    settings.HASHBANK_PDQ_MAX_DISTANCE = 10
    assert match_media(sha256=None, pdq=flipped(pdq, 11)) == []
    assert match_media(sha256=None, pdq=flipped(pdq, 10))[0].distance == 10


def test_sha256_matches_exactly_and_comes_first(django_assert_max_num_queries):
    pdq = random_pdq(7)
    import_csv(f"sha256,pdq\n{SHA_A},{pdq}\n,{flipped(pdq, 5)}\n")
    exact, near = BankEntry.objects.order_by("id")
    query = flipped(pdq, 2)
    matches = match_media(sha256=SHA_A, pdq=query)
    assert [(m.entry, m.match_type, m.distance) for m in matches] == [
        (exact, MatchType.SHA256, 0),
        (near, MatchType.PDQ, hex_distance(near.pdq, query)),
    ]
    assert match_media(sha256=SHA_B, pdq=None) == []
    assert [m.entry for m in match_media(sha256=SHA_A, pdq=None)] == [exact]
    # The state row, then the matched entries with their batches: a fixed number of queries.
    with django_assert_max_num_queries(2):
        assert len(match_media(sha256=SHA_A, pdq=pdq)) == 2


def test_a_low_quality_upload_matches_by_sha256_only():
    pdq = random_pdq(8)
    import_csv(f"sha256,pdq\n{SHA_A},{pdq}\n")
    assert match_media(sha256=None, pdq=pdq, pdq_quality=20) == []
    assert len(match_media(sha256=SHA_A, pdq=pdq, pdq_quality=20)) == 1
    assert len(match_media(sha256=None, pdq=pdq, pdq_quality=50)) == 1


def test_an_edited_copy_of_banked_media_matches_by_pdq_and_other_media_does_not(moderator):
    entry, _ = services.entry_add_from_media(
        actor=moderator, content=picture_bytes(9), category="child_safety", report=ReportFactory()
    )
    copy = hash_media(edited_bytes(9))
    matches = match_media(sha256=copy.sha256, pdq=copy.pdq, pdq_quality=copy.pdq_quality)
    assert [(m.entry, m.match_type) for m in matches] == [(entry, MatchType.PDQ)] and 0 < matches[0].distance <= 31
    other = hash_media(picture_bytes(10))
    assert match_media(sha256=other.sha256, pdq=other.pdq, pdq_quality=other.pdq_quality) == []
    # A flat image is rated low by PDQ and never matches perceptually.
    assert hash_media(png_bytes()).pdq_quality < 50


def test_a_matched_check_is_audited_and_a_clean_one_is_not():
    pdq = random_pdq(11)
    import_csv(f"pdq\n{pdq}\n")
    platform = audit.SystemActor("platform key chat-backend")
    assert services.upload_check(actor=platform, sha256=SHA_B, pdq=random_pdq(12)) == []
    assert not AuditEvent.objects.filter(event_type="hashbank.matched").exists()
    matches = services.upload_check(actor=platform, sha256=SHA_B, pdq=flipped(pdq, 4))
    event = AuditEvent.objects.get(event_type="hashbank.matched")
    assert event.actor_label == "platform key chat-backend" and event.object_id == str(matches[0].entry.pk)
    assert event.data["matches"] == [{"entry_id": matches[0].entry.pk, "match_type": "pdq", "distance": 4}]
    assert event.data["checked"]["sha256"] == SHA_B
