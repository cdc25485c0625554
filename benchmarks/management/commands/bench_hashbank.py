"""The hash bank benchmark: PDQ lookups in a bank of a million hashes, the multi-index next to the
brute-force numpy scan, and exact SHA-256 lookups through the database's index.

    DATABASE_URL=postgres://... python manage.py bench_hashbank

The bank is synthetic: random 256-bit values (never hashes of real material) plus, for half the
queries, a near-duplicate planted at a known distance from 0 to the threshold. It enters the
database through the import service (the path a real hash list takes), the index loads it from the
database as a process would, and every query runs through both the index and the scan, so recall is
measured on every query. Everything runs in one transaction that is rolled back at the end (unless
--keep): the benchmark leaves no entry, no import batch and no audit event behind.

With --check the command exits non-zero when the index's p95 misses --p95-ms or its recall is
below 100 %.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from audit import services as audit
from benchmarks import host_speed
from moderation.hashbank.index import PdqTable, bank_index, scan
from moderation.hashbank.models import BankEntry
from moderation.hashbank.selectors import match_media
from moderation.hashbank.services import hash_list_import

SOURCE = "bench_hashbank synthetic hashes (random values, no media)"


def _percentiles(seconds: list[float]) -> tuple[float, float, float]:
    p50, p95, p99 = np.percentile(np.array(seconds) * 1000, [50, 95, 99])
    return float(p50), float(p95), float(p99)


def _row(name: str, seconds: list[float]) -> str:
    p50, p95, p99 = _percentiles(seconds)
    return f"{name:38} {p50:8.2f} {p95:8.2f} {p99:8.2f}"


def _rss_bytes() -> int | None:
    """The process's resident memory now (Linux), or None where /proc is not there."""
    statm = Path("/proc/self/statm")
    if not statm.exists():
        return None
    import resource

    return int(statm.read_text().split()[1]) * resource.getpagesize()


def _flip(hash_bytes: np.ndarray, distance: int, rng: np.random.Generator) -> np.ndarray:
    flipped = hash_bytes.copy()
    for bit in rng.choice(256, size=distance, replace=False):
        flipped[bit // 8] ^= 1 << (7 - bit % 8)
    return flipped


class Command(BaseCommand):
    help = "Benchmark PDQ lookups in the hash bank (multi-index vs brute-force scan) and SHA-256 lookups."

    def add_arguments(self, parser):
        parser.add_argument("--entries", type=int, default=1_000_000, help="Hashes in the bank (default 1,000,000).")
        parser.add_argument(
            "--queries", type=int, default=1000, help="Measured queries, half with a planted match (default 1,000)."
        )
        parser.add_argument("--warmup", type=int, default=20, help="Unmeasured queries first (default 20).")
        parser.add_argument("--sha-lookups", type=int, default=1000, help="Measured SHA-256 lookups (default 1,000).")
        parser.add_argument("--seed", type=int, default=20261129)
        parser.add_argument("--keep", action="store_true", help="Commit the synthetic bank instead of rolling back.")
        parser.add_argument("--check", action="store_true", help="Exit non-zero if a target is missed.")
        parser.add_argument("--p95-ms", type=float, default=20.0, help="Target: the index lookup's p95 (ms).")

    def handle(self, *args, **options):
        entries, queries = options["entries"], options["queries"]
        if queries < 2 or entries < queries:
            raise CommandError("Give at least 2 queries and at least as many entries as queries.")
        if BankEntry.objects.exists():
            raise CommandError("The hash bank is not empty: run the benchmark on a database of its own.")
        max_distance = settings.HASHBANK_PDQ_MAX_DISTANCE
        self.stdout.write(
            f"Hash bank benchmark on {connection.vendor}: {entries:,} PDQ hashes ({entries - queries // 2:,} random, "
            f"{queries // 2:,} planted near-duplicates of queries at distances 0..{max_distance}); {queries:,} queries "
            f"(half with a planted match, half without) after {options['warmup']} warm-ups; distance <= {max_distance}."
        )
        probe_before = host_speed.loop_seconds()
        with transaction.atomic():
            failures = self._run(options, max_distance)
            if not options["keep"]:
                transaction.set_rollback(True)
        self.stdout.write(host_speed.describe(probe_before, host_speed.loop_seconds()))
        if options["check"] and failures:
            raise CommandError("Targets missed: " + "; ".join(failures))

    def _run(self, options, max_distance: int) -> list[str]:
        rng = np.random.default_rng(options["seed"])
        entries, queries, warmup = options["entries"], options["queries"], options["warmup"]
        planted_count = queries // 2
        query_hashes = rng.integers(0, 256, size=(queries + warmup, 32), dtype=np.uint8)
        bank_pdq = rng.integers(0, 256, size=(entries, 32), dtype=np.uint8)
        planted_distances = rng.integers(0, max_distance + 1, size=planted_count)
        for number in range(planted_count):
            bank_pdq[number] = _flip(query_hashes[number], int(planted_distances[number]), rng)
        bank_sha = rng.integers(0, 256, size=(entries, 32), dtype=np.uint8)

        # Into the database through the import service, as a real hash list comes in.
        pdq_hex, sha_hex = bank_pdq.tobytes().hex(), bank_sha.tobytes().hex()
        lines = ["sha256,pdq"]
        lines.extend(f"{sha_hex[64 * n : 64 * n + 64]},{pdq_hex[64 * n : 64 * n + 64]}" for n in range(entries))
        csv_bytes = ("\n".join(lines) + "\n").encode()
        del lines, pdq_hex
        started = time.perf_counter()
        result = hash_list_import(
            actor=audit.SystemActor("bench_hashbank"),
            content=csv_bytes,
            source_name=SOURCE,
            file_name="synthetic.csv",
            default_category="child_safety",
        )
        import_seconds = time.perf_counter() - started
        del csv_bytes
        if result.imported != entries:
            raise CommandError(f"Imported {result.imported} of {entries} synthetic rows (random collisions?).")

        # The process's index loads from the database as at its first lookup after a start.
        bank_index.forget()
        rss_before = _rss_bytes()
        started = time.perf_counter()
        loaded = bank_index.sync()
        load_seconds = time.perf_counter() - started
        rss_after = _rss_bytes()
        started = time.perf_counter()
        PdqTable(loaded.table.ids, loaded.table.hashes)  # the build alone, without the database read
        build_seconds = time.perf_counter() - started
        ids, words = loaded.table.ids, loaded.table.words
        # The import keeps the file's order, so the planted rows have the lowest ids.
        if not np.array_equal(loaded.table.hashes[:planted_count], bank_pdq[:planted_count]):
            raise CommandError("The loaded index does not hold the planted hashes first.")
        planted_ids = set(ids[:planted_count].tolist())

        # Warm-ups are queries without a planted match; the measured ones are shuffled.
        order = rng.permutation(queries).tolist()
        index_times, lookup_times, scan_times, match_times, state_times = [], [], [], [], []
        found_total = scan_total = extra = planted_found = 0
        for number in [*range(queries, queries + warmup), *order]:
            query = query_hashes[number]
            query_hex = query.tobytes().hex()
            started = time.perf_counter()
            index_ids, _ = loaded.table.search(query, max_distance)
            index_seconds = time.perf_counter() - started
            started = time.perf_counter()
            bank_index.sync()  # what a lookup adds to the search: the state row's read
            state_seconds = time.perf_counter() - started
            started = time.perf_counter()
            bank_index.lookup(query_hex, max_distance=max_distance)
            lookup_seconds = time.perf_counter() - started
            started = time.perf_counter()
            scan_ids, _ = scan(ids, words, query, max_distance)
            scan_seconds = time.perf_counter() - started
            started = time.perf_counter()
            match_media(sha256=None, pdq=query_hex)
            match_seconds = time.perf_counter() - started
            if number >= queries:  # a warm-up
                continue
            index_times.append(index_seconds)
            lookup_times.append(lookup_seconds)
            state_times.append(state_seconds)
            scan_times.append(scan_seconds)
            match_times.append(match_seconds)
            found, expected = set(index_ids.tolist()), set(scan_ids.tolist())
            found_total += len(found & expected)
            scan_total += len(expected)
            extra += len(found - expected)
            planted_found += len(found & planted_ids)

        sha_times = self._sha_lookups(bank_sha, rng, options["sha_lookups"])
        recall = 100.0 if scan_total == 0 else 100.0 * found_total / scan_total
        rows = [
            ("index search (in memory)", index_times),
            ("state row read alone (sync check)", state_times),
            ("index lookup (state row + search)", lookup_times),
            ("brute-force numpy scan", scan_times),
            ("match_media (pdq: lookup + entries)", match_times),
            ("sha256 lookup (database index)", sha_times),
        ]
        lines = [
            f"import through the service (parse, checks, inserts): {import_seconds:.1f} s "
            f"({entries / import_seconds:,.0f} rows/s)",
            f"index load from the database: {load_seconds:.2f} s, of which the build {build_seconds:.2f} s",
            f"index memory: arrays {bank_index.nbytes / 1e6:.1f} MB ({bank_index.nbytes / len(ids):.0f} bytes per hash)"
            + (f"; process RSS +{(rss_after - rss_before) / 1e6:.0f} MB" if rss_before is not None else ""),
            "",
            f"{'':38} {'p50':>8} {'p95':>8} {'p99':>8}  (ms)",
            *(_row(name, times) for name, times in rows),
            "",
            f"recall of the index against the scan: {recall:.2f} % ({found_total:,} of {scan_total:,} matches; "
            f"{extra} not in the scan)",
            f"planted near-duplicates found: {planted_found:,} of {planted_count:,}",
            f"sha256 lookups use: {self._sha_plan(bank_sha)}",
        ]
        self.stdout.write("\n".join(lines))
        failures = []
        index_p95 = _percentiles(lookup_times)[1]
        if index_p95 >= options["p95_ms"]:
            failures.append(f"index lookup p95 {index_p95:.2f} ms, target < {options['p95_ms']} ms")
        if recall < 100.0 or extra or planted_found != planted_count:
            failures.append(f"recall {recall:.2f} %, {extra} extra, {planted_found} of {planted_count} planted found")
        if failures:
            self.stdout.write(self.style.WARNING("missed: " + "; ".join(failures)))
        else:
            self.stdout.write(self.style.SUCCESS(f"all targets met (p95 < {options['p95_ms']} ms, recall 100 %)"))
        return failures

    def _sha_lookups(self, bank_sha: np.ndarray, rng: np.random.Generator, count: int) -> list[float]:
        """Half present, half absent, each through match_media (one query on the partial unique index)."""
        present = bank_sha[rng.integers(0, len(bank_sha), size=count // 2)]
        absent = rng.integers(0, 256, size=(count - count // 2, 32), dtype=np.uint8)
        values = [row.tobytes().hex() for row in np.concatenate([present, absent])]
        rng.shuffle(values)
        times = []
        for value in values:
            started = time.perf_counter()
            match_media(sha256=value, pdq=None)
            times.append(time.perf_counter() - started)
        return times

    def _sha_plan(self, bank_sha: np.ndarray) -> str:
        """The plan's line that names the index (or its first line, when none does)."""
        plan = BankEntry.objects.filter(sha256=bank_sha[0].tobytes().hex(), active=True).explain().splitlines()
        return next((line.strip() for line in plan if "INDEX" in line.upper()), plan[0].strip())
