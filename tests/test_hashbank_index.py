"""The in-memory PDQ index (moderation/hashbank/index.py): its answers against the brute-force scan, and
how it stays in step with the database when other processes change the bank."""

from __future__ import annotations

import numpy as np
import pytest

from audit import services as audit
from moderation.hashbank import services
from moderation.hashbank.hashing import hash_media, pdq_hex
from moderation.hashbank.index import BankIndex, PdqTable, as_words, hashes_from_hex, probe_masks, scan
from moderation.hashbank.models import BankEntry, BankState
from tests.hashbank_media import edited_bytes, picture_bytes


def flip_bits(hash_bytes: np.ndarray, distance: int, rng: np.random.Generator) -> np.ndarray:
    """A copy of a (32,) uint8 hash with exactly `distance` distinct bits flipped."""
    flipped = hash_bytes.copy()
    for bit in rng.choice(256, size=distance, replace=False):
        flipped[bit // 8] ^= 1 << (7 - bit % 8)
    return flipped


def hamming(a: np.ndarray, b: np.ndarray) -> int:
    return int(np.bitwise_count(a ^ b).sum())


def test_pdq_hex_is_threatexchanges_spelling_bit_zero_first():
    bits = np.zeros(256, dtype=np.int64)
    bits[0] = 1  # the first bit of PDQ's vector is the hex string's most significant bit
    bits[255] = 1
    assert pdq_hex(bits) == "8" + "0" * 62 + "1"
    # And back: the index reads the same hex into the same bits.
    assert np.unpackbits(hashes_from_hex([pdq_hex(bits)])[0]).tolist() == bits.tolist()


def test_probe_masks_are_every_16_bit_value_within_the_radius():
    assert probe_masks(0).tolist() == [0]
    assert len(probe_masks(1)) == 17 and all(bin(mask).count("1") <= 1 for mask in probe_masks(1))
    assert len(probe_masks(2)) == 1 + 16 + 120


@pytest.mark.parametrize("max_distance", [31, 15, 47])
def test_the_index_finds_exactly_what_the_brute_force_scan_finds(max_distance):
    """Recall 100 % and no false match: a few thousand random hashes plus near-duplicates of the
    queries planted at every distance from 0 to 40 (those beyond max_distance must not come back)."""
    rng = np.random.default_rng(20261129 + max_distance)
    background = rng.integers(0, 256, size=(3000, 32), dtype=np.uint8)
    queries = rng.integers(0, 256, size=(40, 32), dtype=np.uint8)
    planted, planted_distance = [], []
    for query in queries:
        for distance in range(0, 41):
            planted.append(flip_bits(query, distance, rng))
            planted_distance.append(distance)
    hashes = np.concatenate([background, np.array(planted)])
    ids = np.arange(1, len(hashes) + 1, dtype=np.int64) * 7  # ids that are not positions
    table = PdqTable(ids, hashes)
    words = as_words(hashes)

    planted_found = 0
    for number, query in enumerate(queries):
        index_ids, index_distances = table.search(query, max_distance)
        scan_ids, scan_distances = scan(ids, words, query, max_distance)
        assert sorted(zip(index_ids.tolist(), index_distances.tolist(), strict=True)) == sorted(
            zip(scan_ids.tolist(), scan_distances.tolist(), strict=True)
        )
        assert len(set(index_ids.tolist())) == len(index_ids)  # each entry once
        # Every planted neighbour within the distance is found, and none beyond it.
        mine = {int(ids[3000 + number * 41 + d]): d for d in range(41)}
        for entry_id, distance in mine.items():
            assert (entry_id in index_ids) == (distance <= max_distance), (entry_id, distance)
        planted_found += sum(1 for entry_id in index_ids if entry_id in mine)
    assert planted_found == len(queries) * (min(max_distance, 40) + 1)


def test_an_empty_table_finds_nothing():
    table = PdqTable(np.empty(0, dtype=np.int64), np.empty((0, 32), dtype=np.uint8))
    ids, distances = table.search(np.zeros(32, dtype=np.uint8), 31)
    assert len(ids) == 0 and len(distances) == 0


def test_a_real_pdq_hash_of_an_edited_picture_is_found_and_another_picture_is_not():
    original, edited, other = (hash_media(content) for content in (picture_bytes(1), edited_bytes(1), picture_bytes(2)))
    assert min(original.pdq_quality, edited.pdq_quality, other.pdq_quality) >= 50
    original_hash, edited_hash, other_hash = hashes_from_hex([original.pdq, edited.pdq, other.pdq])
    assert original.sha256 != edited.sha256
    assert 0 < hamming(original_hash, edited_hash) <= 31 < hamming(original_hash, other_hash)
    table = PdqTable(np.array([1], dtype=np.int64), original_hash.reshape(1, 32))
    assert table.search(edited_hash, 31)[0].tolist() == [1]
    assert table.search(other_hash, 31)[0].tolist() == []


# --- two processes over one database ------------------------------------------------------------------


def _import(rows: list[tuple[str, str]], source: str = "test list") -> None:
    lines = ["sha256,pdq", *(f"{sha},{pdq}" for sha, pdq in rows)]
    services.hash_list_import(
        actor=audit.SYSTEM,
        content="\n".join(lines).encode(),
        source_name=source,
        file_name="list.csv",
        default_category="child_safety",
    )


def _random_hex(rng: np.random.Generator) -> str:
    return rng.integers(0, 256, size=32, dtype=np.uint8).tobytes().hex()


@pytest.mark.django_db
def test_two_indexes_over_one_database_see_each_others_additions_and_retirements(django_assert_max_num_queries):
    rng = np.random.default_rng(11)
    first_process, second_process = BankIndex(), BankIndex()
    known = [(_random_hex(rng), _random_hex(rng)) for _ in range(5)]
    _import(known)
    for index in (first_process, second_process):
        assert [entry for entry, _ in index.lookup(known[0][1], max_distance=31)] == [
            BankEntry.objects.get(pdq=known[0][1]).pk
        ]

    # Added later (through "the other process": the database is all they share).
    added_sha, added_pdq = _random_hex(rng), _random_hex(rng)
    near_query = flip_bits(hashes_from_hex([added_pdq])[0], 31, rng).tobytes().hex()
    assert first_process.lookup(near_query, max_distance=31) == []
    _import([(added_sha, added_pdq)], source="second list")
    added = BankEntry.objects.get(pdq=added_pdq)
    # Catching up reads the state row and the new entries only.
    with django_assert_max_num_queries(3):
        assert first_process.lookup(near_query, max_distance=31) == [(added.pk, 31)]
    assert second_process.lookup(near_query, max_distance=31) == [(added.pk, 31)]
    # Nothing changed: one query (the state row).
    with django_assert_max_num_queries(1):
        first_process.lookup(near_query, max_distance=31)

    # Retired through one: neither matches it any more.
    services.entry_retire(actor=audit.SYSTEM, entry_id=added.pk, reason="Withdrawn by its source.")
    assert first_process.lookup(near_query, max_distance=31) == []
    assert second_process.lookup(near_query, max_distance=31) == []
    assert first_process.size == second_process.size == 5


@pytest.mark.django_db
def test_additions_past_the_delta_limit_are_folded_into_the_table(monkeypatch):
    from moderation.hashbank import index as index_module

    monkeypatch.setattr(index_module, "DELTA_LIMIT", 3)
    rng = np.random.default_rng(12)
    index = BankIndex()
    _import([(_random_hex(rng), _random_hex(rng))])
    sizes = [(len(index.sync().table), len(index.sync().delta_ids))]
    for batch in range(3):
        _import([(_random_hex(rng), _random_hex(rng)) for _ in range(2)], source=f"list {batch}")
        loaded = index.sync()
        sizes.append((len(loaded.table), len(loaded.delta_ids)))
    # 1 in the table; +2 scanned apart; +2 more passes 3: all 5 in a new table; +2 scanned apart.
    assert sizes == [(1, 0), (1, 2), (5, 0), (5, 2)]
    for entry_id, pdq in BankEntry.objects.values_list("id", "pdq"):
        assert index.lookup(pdq, max_distance=0) == [(entry_id, 0)]


@pytest.mark.django_db
def test_low_quality_hashes_are_not_indexed(settings):
    rng = np.random.default_rng(13)
    good, poor = _random_hex(rng), _random_hex(rng)
    services.hash_list_import(
        actor=audit.SYSTEM,
        content=f"pdq,quality\n{good},90\n{poor},20\n".encode(),
        source_name="graded list",
        file_name="graded.csv",
        default_category="non_consensual",
    )
    index = BankIndex()
    assert index.lookup(good, max_distance=31) != []
    assert index.lookup(poor, max_distance=31) == []
    settings.HASHBANK_PDQ_MIN_QUALITY = 10  # a new minimum rebuilds the index
    assert index.lookup(poor, max_distance=31) != []


@pytest.mark.django_db
def test_the_state_row_moves_with_every_change_and_the_epoch_with_retirements():
    rng = np.random.default_rng(14)
    _import([(_random_hex(rng), _random_hex(rng))])
    first = BankState.objects.get()
    _import([(_random_hex(rng), _random_hex(rng))], source="another")
    second = BankState.objects.get()
    assert (second.version, second.epoch) == (first.version + 1, first.epoch)
    services.entry_retire(actor=audit.SYSTEM, entry_id=BankEntry.objects.first().pk, reason="Wrong entry.")
    third = BankState.objects.get()
    assert third.version == second.version + 1 and third.epoch != second.epoch
