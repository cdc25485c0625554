"""bench_hashbank's small version: the command runs on both databases, measures recall against the
brute-force scan on every query, and leaves nothing behind. The real figures (1,000,000 hashes on
PostgreSQL) are in the README. The benchmarks app is installed only on the benchmark server
(BENCHMARKS=1), so the command is called as an object here."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from audit.models import AuditEvent
from benchmarks.management.commands.bench_hashbank import Command as BenchHashbank
from moderation.hashbank.models import BankEntry, ImportBatch

pytestmark = pytest.mark.django_db

SMALL = ("--entries", "3000", "--queries", "40", "--warmup", "2", "--sha-lookups", "40")


def test_bench_hashbank_measures_recall_and_leaves_nothing_behind():
    out = io.StringIO()
    # CI machines are small and shared: a generous time, but recall must be exact whatever the machine.
    call_command(BenchHashbank(), *SMALL, "--check", "--p95-ms", "500", stdout=out)
    text = out.getvalue()
    assert "recall of the index against the scan: 100.00 %" in text
    assert "planted near-duplicates found: 20 of 20" in text
    for row in ("index search (in memory)", "brute-force numpy scan", "sha256 lookup (database index)"):
        assert row in text
    assert "all targets met" in text and "host probe" in text
    assert not BankEntry.objects.exists() and not ImportBatch.objects.exists()
    assert not AuditEvent.objects.filter(event_type__startswith="hashbank.").exists()


def test_bench_hashbank_check_fails_when_the_target_is_missed():
    out = io.StringIO()
    with pytest.raises(CommandError, match="Targets missed: index lookup p95"):
        call_command(BenchHashbank(), *SMALL, "--check", "--p95-ms", "0.0001", stdout=out)
    assert "missed:" in out.getvalue()


def test_bench_hashbank_refuses_a_bank_in_use():
    call_command(BenchHashbank(), *SMALL, "--keep", stdout=io.StringIO())
    assert BankEntry.objects.count() == 3000
    with pytest.raises(CommandError, match="not empty"):
        call_command(BenchHashbank(), *SMALL, stdout=io.StringIO())
