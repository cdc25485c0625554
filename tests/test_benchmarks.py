"""The benchmarks' small version for CI, and the baseline view's absence outside the benchmark server.

The real figures come from `manage.py bench_data --reports 1000000` then `bench_queue` and
`bench_filing` on PostgreSQL (see the README). Here a few thousand reports are enough to catch a
page that starts costing one query per row, a query that stops using its index badly enough to be
slow even on small data, or a command that no longer runs.
"""

from __future__ import annotations

import io

import pytest
from django.apps import apps
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection

from audit.verify import verify
from reports.models import Report

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the benchmarks measure PostgreSQL (COPY, its indexes and plans)"
)


@postgres_only
@pytest.mark.django_db
def test_bench_queue_check_passes_on_a_small_dataset():
    out = io.StringIO()
    call_command("bench_data", "--reports", "3000", stdout=out)
    assert Report.objects.count() == 3000
    assert verify().intact  # its events continue the keyed chain

    # CI machines are small and shared: generous times, but the query ceiling is exact whatever the
    # machine, and the ratio to the admin only means something at scale (--min-ratio 0 here).
    call_command(
        "bench_queue",
        "--check",
        "--iterations",
        "3",
        "--warmup",
        "1",
        "--queue-ms",
        "600",
        "--report-ms",
        "400",
        "--dashboard-ms",
        "1500",
        "--metrics-ms",
        "500",
        "--poll-ms",
        "200",
        "--min-ratio",
        "0",
        "--max-queries",
        "25",
        stdout=out,
    )
    text = out.getvalue()
    assert "all targets met" in text
    pages = ("queue: first page (open)", "+ pending", "queue: search", "queue: page", "report page", "dashboard")
    for page in (*pages, "dashboard (90 days)", "metrics scrape"):
        assert page in text, page
    # The live queue's poll, and what it costs a moderator a minute.
    assert "live poll: open queue" in text and "live poll, per moderator per minute" in text


@postgres_only
@pytest.mark.django_db
def test_bench_queue_check_fails_when_a_target_is_missed():
    call_command("bench_data", "--reports", "300", stdout=io.StringIO())
    out = io.StringIO()
    # No page renders in under a microsecond: --check must fail (manage.py then exits with 1).
    with pytest.raises(CommandError, match="Targets missed"):
        call_command("bench_queue", "--check", "--iterations", "1", "--warmup", "0", "--queue-ms", "0.001", stdout=out)
    assert "MISSED <0.001 ms" in out.getvalue()


def test_the_baseline_view_is_not_routed_without_benchmarks(client):
    # The app (its commands and its table) is installed outside production; the view is routed only on
    # the benchmark server. Production does not install it (tests/test_settings.py checks its commands).
    assert not settings.BENCHMARKS
    assert apps.is_installed("benchmarks")
    assert client.post("/bench/insert-one", b"{}", content_type="application/json").status_code == 404


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_bench_filing_runs_end_to_end_and_checks_itself(monkeypatch, tmp_path):
    """A few requests through every phase (gunicorn, the worker's delivery, the same-host and silent
    relay phases): the command must still run and its own checks must pass (every 201 a report and
    its audit event, every confirmation accepted by the SMTP server); the ratio means nothing here."""
    from tests.harness import database_url

    # gunicorn and the workers it starts connect to this test's database, not the configured one.
    monkeypatch.setenv("DATABASE_URL", database_url(connection.settings_dict))
    out = io.StringIO()
    call_command(
        "bench_filing",
        "--requests",
        "24",
        "--relay-requests",
        "8",
        "--rounds",
        "1",
        "--concurrency",
        "2",
        "--accounts",
        "3",
        "--workers",
        "2",
        "--check",
        "--min-ratio",
        "0",
        stdout=out,
    )
    text = out.getvalue()
    assert "all targets met" in text
    assert "delivery of the rounds'" in text and "ratio ours / DRF peer" in text


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_bench_signals_runs_end_to_end_and_checks_itself(monkeypatch):
    """bench_signals shares bench_filing's preparation, server and load generator (a change there once
    broke it unseen): a few batches and filings, its own checks on (every acknowledged signal with
    its row and audit event, every filing with its own)."""
    from tests.harness import database_url

    monkeypatch.setenv("DATABASE_URL", database_url(connection.settings_dict))
    out = io.StringIO()
    call_command(
        "bench_signals",
        *("--batches", "4", "--batch-size", "10", "--filings", "20", "--rounds", "2"),
        *("--concurrency", "2", "--batch-concurrency", "2", "--accounts", "3", "--workers", "2"),
        *("--check", "--min-ratio", "0"),
        stdout=out,
    )
    # 4 batches of 10 and the 4 warm-up batches: every signal acknowledged and stored.
    assert "signals: 80 acknowledged (warm-up included), 80 of them stored" in out.getvalue()
