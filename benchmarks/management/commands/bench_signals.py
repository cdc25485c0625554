"""The ingestion benchmark: machine signals per second through gunicorn (POST /api/signals, batches of
100), next to single filings through POST /api/reports in the same run and on the same server.

    DATABASE_URL=postgres://... python manage.py bench_signals --batches 100 --filings 2000

What it does, in order, and always stopping its server at the end:

1. prepares a platform key and a detector of its own with a catch-all policy (floor 0.2, review
   threshold 0.5), a pool of targets for the signals (a quarter as many as signals, so that about
   half the signals open a report, a third join an open one and the rest are only kept), and, for
   the filings, accounts with tokens and one fresh target per filing (bench_filing's preparation);
2. starts gunicorn on a loopback port as bench_filing does (DEBUG off, the per-credential rate limits
   off for this server only, mail to the dummy backend);
3. after a warm-up of each, sends the single filings and the batches in alternating rounds (filings,
   batches, filings, ...; --rounds), so that the host's drifting speed weighs on both alike, with
   keep-alive client threads;
4. prints items per second, requests per second, p50/p95 latency per request, errors (must be 0) and
   the ratio, then counts rows: every acknowledged signal is a Signal row with its signal.received
   audit event, every created report has its report.created event, and every filing likewise.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import time
import uuid
from pathlib import Path

from django.conf import settings
from django.core.management.base import CommandError
from django.db import connection
from django.db.models import Count

from audit import services as audit
from audit.models import AuditEvent
from benchmarks import host_speed
from benchmarks.management.commands import bench_filing
from moderation.signals.models import Detector, Signal, SignalPolicy
from reports.categories import Category
from reports.models import Report, ReportChannel, Target, TargetKind
from reports.services import platform_key_create
from tests.harness import free_port

SIGNALS_PATH = "/api/signals"
FILING_PATH = bench_filing.API_PATH
ACKNOWLEDGED = {"created", "merged", "kept", "duplicate"}
# Categories without zero tolerance: the benchmark measures ingestion, not quarantines.
CATEGORIES = [
    c for c in Category.values if c not in {"child_safety", "underage_user", "human_trafficking", "sex_trafficking"}
]
_CHUNK = 900  # ids per IN (...) when counting, under SQLite's bound-parameter limit


class ItemsPhase(bench_filing.Phase):
    """A phase whose requests carry several items: items counted from the answers."""

    def __init__(self, name: str, path: str) -> None:
        super().__init__(name, path)
        self.items = 0
        self.item_errors = []
        self.acknowledged: list[str] = []

    @property
    def items_per_second(self) -> float:
        return self.items / self.elapsed if self.elapsed else 0.0


def _load(
    *,
    port: int,
    phase: ItemsPhase,
    requests: list[tuple[bytes, dict[str, str], int]],
    concurrency: int,
    max_seconds: float,
    expected_status: int,
) -> ItemsPhase:
    """bench_filing's load generator, counting items: for the signals endpoint every item of an
    answer must be acknowledged (anything refused is an error); a filing is one item."""

    def count_items(payload: bytes, request: tuple[bytes, dict[str, str], int]) -> None:
        if phase.path != SIGNALS_PATH:
            phase.items += request[2]
            return
        for result in json.loads(payload)["results"]:
            if result["status"] in ACKNOWLEDGED:
                phase.items += 1
                phase.acknowledged.append(result["signal_id"])
            else:
                phase.item_errors.append(json.dumps(result)[:200])

    bench_filing._load(
        port=port,
        phase=phase,
        requests=requests,
        concurrency=concurrency,
        max_seconds=max_seconds,
        expected_status=expected_status,
        on_success=count_items,
        timeout=60,
    )
    return phase


def _chunks(values: list[str]):
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


def _split(requests: list, rounds: int) -> list[list]:
    size = -(-len(requests) // rounds)
    return [requests[start : start + size] for start in range(0, size * rounds, size)]


def _fold_into(total: ItemsPhase, part: ItemsPhase) -> None:
    total.elapsed += part.elapsed
    total.sent += part.sent
    total.items += part.items
    total.latencies_ms.extend(part.latencies_ms)
    total.errors.extend(part.errors)
    total.item_errors.extend(part.item_errors)
    total.acknowledged.extend(part.acknowledged)


class Command(bench_filing.Command):
    help = (
        "Benchmark signals per second (POST /api/signals, batches of 100) next to single filings (POST /api/reports)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batches", type=int, default=100, help="Signal batches to send (default 100).")
        parser.add_argument("--batch-size", type=int, default=100, help="Signals per batch (default 100).")
        parser.add_argument("--filings", type=int, default=2000, help="Single filings to send (default 2,000).")
        parser.add_argument("--concurrency", type=int, default=16, help="Client threads for filings (default 16).")
        parser.add_argument("--batch-concurrency", type=int, default=4, help="Client threads for batches (default 4).")
        parser.add_argument("--max-seconds", type=float, default=120.0, help="Time cap per phase (default 120).")
        parser.add_argument(
            "--rounds", type=int, default=4, help="Filings and batches alternate in this many rounds (default 4)."
        )
        parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (default 4).")
        parser.add_argument("--threads", type=int, default=4, help="Threads per gthread worker (default 4).")
        parser.add_argument("--worker-class", default="gthread", choices=["gthread", "sync"])
        parser.add_argument("--accounts", type=int, default=200, help="Filing accounts, one token each.")
        parser.add_argument("--port", type=int, default=0, help="Loopback port (default: a free one).")
        parser.add_argument(
            "--broker",
            default="redis://127.0.0.1:6379/12",
            help="Redis the server enqueues its mail on (no worker runs: the confirmations wait in the outbox).",
        )
        parser.add_argument(
            "--check", action="store_true", help="Exit non-zero on errors, a missing row or a ratio under target."
        )
        parser.add_argument(
            "--min-ratio", type=float, default=10.0, help="Target: signals/s over filings/s (default 10)."
        )

    def handle(self, *args, **options):
        if options["batches"] < 2 or not 1 <= options["batch_size"] <= 500 or options["filings"] < 10:
            raise CommandError("--batches must be at least 2, --batch-size 1..500, --filings at least 10")
        if not 1 <= options["rounds"] <= min(options["batches"], options["filings"]):
            raise CommandError("--rounds must be from 1 to the number of batches and of filings")
        if connection.vendor != "postgresql":
            self.stdout.write(self.style.WARNING("Not PostgreSQL: the figures say little about production."))
        port = options["port"] or free_port()
        warm_filings = max(2 * options["workers"] * options["threads"], 20)
        warm_batches = 4
        # bench_filing's preparation and server, sized for the filings, without its mail relay phases.
        options["requests"], options["relay_requests"] = options["filings"], 0
        self._queue = f"bench-signals-{uuid.uuid4().hex[:8]}"
        self._migrate()
        plan = self._prepare(options, warm_filings)
        signal_requests = self._prepare_signals(options, warm_batches)
        filing_requests = [(body, headers, 1) for body, headers in plan[bench_filing.API_PATH]]
        log_path = Path(settings.VAR_DIR) / "bench_signals_gunicorn.log"
        server = self._start(options, port, log_path)
        try:
            self._wait_ready(server, port, log_path)
            warm = [
                (filing_requests[:warm_filings], FILING_PATH, 201),
                (signal_requests[:warm_batches], SIGNALS_PATH, 200),
            ]
            for requests, path, status in warm:
                phase = _load(
                    port=port,
                    phase=ItemsPhase("warm-up", path),
                    requests=requests,
                    concurrency=4,
                    max_seconds=60,
                    expected_status=status,
                )
                if phase.errors or phase.item_errors:
                    raise CommandError(f"warm-up of {path} failed: {(phase.errors + phase.item_errors)[:3]}")
                self._warm_signal_ids = phase.acknowledged if path == SIGNALS_PATH else []
            probe_before = host_speed.loop_seconds()
            filings = ItemsPhase("POST /api/reports", FILING_PATH)
            signals = ItemsPhase(f"POST /api/signals x{options['batch_size']}", SIGNALS_PATH)
            # In rounds, filings then batches: the host's speed drifts (other work on the machine),
            # and alternating spreads the drift over both instead of favouring whichever ran first.
            rounds = options["rounds"]
            filing_rounds = _split(filing_requests[warm_filings:], rounds)
            signal_rounds = _split(signal_requests[warm_batches:], rounds)
            for filing_chunk, signal_chunk in zip(filing_rounds, signal_rounds, strict=True):
                _fold_into(
                    filings,
                    _load(
                        port=port,
                        phase=ItemsPhase(filings.name, FILING_PATH),
                        requests=filing_chunk,
                        concurrency=options["concurrency"],
                        max_seconds=options["max_seconds"] / rounds,
                        expected_status=201,
                    ),
                )
                _fold_into(
                    signals,
                    _load(
                        port=port,
                        phase=ItemsPhase(signals.name, SIGNALS_PATH),
                        requests=signal_chunk,
                        concurrency=options["batch_concurrency"],
                        max_seconds=options["max_seconds"] / rounds,
                        expected_status=200,
                    ),
                )
            workers = [(pid, *bench_filing._memory_kib(pid)) for pid in bench_filing._pids(parent=server.pid)]
            self.stdout.write(host_speed.describe(probe_before, host_speed.loop_seconds()))
        finally:
            self._stop(server)
        failures = self._report(options, filings, signals, workers, warm_filings)
        if options["check"] and failures:
            raise CommandError("; ".join(failures))

    def _server_env(self, options) -> dict[str, str]:
        env = super()._server_env(options)
        env["PLATFORM_KEY_RATE"] = "off"
        return env

    def _prepare_signals(self, options, warm_batches: int) -> list[tuple[bytes, dict[str, str], int]]:
        run = uuid.uuid4().hex[:8]
        started = time.perf_counter()
        batches, size = options["batches"] + warm_batches, options["batch_size"]
        _, key = platform_key_create(actor=audit.SystemActor("bench_signals"), name=f"bench-signals-{run}")
        detector = Detector.objects.create(name=f"bench-{run}", description="bench_signals")
        SignalPolicy.objects.create(detector=detector, category="", floor="0.2", review_threshold="0.5")
        self._detector = detector
        pool = max(size, batches * size // 4)
        targets = Target.objects.bulk_create(
            [
                Target(
                    public_id=uuid.uuid4(),
                    kind=TargetKind.MESSAGE,
                    external_id=f"bench-signals-{run}-{n}",
                    title=f"message {n}",
                    snapshot_text="a message a detector flagged",
                )
                for n in range(pool)
            ],
            batch_size=2000,
        )
        rng = random.Random(run)  # nosec B311  # benchmark data, not security
        headers = {"Content-Type": "application/json", "Authorization": f"Platform {key}"}
        requests = []
        counter = itertools.count()
        for _batch in range(batches):
            items = []
            for _ in range(size):
                n = next(counter)
                items.append(
                    {
                        "idempotency_key": f"{run}-{n}",
                        "source": {"name": detector.name, "version": "1.0"},
                        "target_id": str(targets[n % pool].public_id),
                        "category": rng.choice(CATEGORIES),
                        "score": round(rng.uniform(0.05, 0.99), 4),
                        "labels": rng.sample(["text", "slur", "link", "spam", "threat", "nudity"], k=2),
                    }
                )
            requests.append((json.dumps({"signals": items}).encode(), headers, size))
        self.stdout.write(
            f"prepared detector {detector.name}, {pool:,} targets and {batches:,} batches of {size} "
            f"({time.perf_counter() - started:.1f}s)"
        )
        return requests

    # --- the figures -----------------------------------------------------------------------------

    def _report(self, options, filings: ItemsPhase, signals: ItemsPhase, workers, warm_filings: int) -> list[str]:
        ratio = signals.items_per_second / filings.items_per_second if filings.items_per_second else 0.0
        acknowledged = [*getattr(self, "_warm_signal_ids", []), *signals.acknowledged]
        stored = Signal.objects.filter(detector=self._detector).count()
        audited = sum(
            AuditEvent.objects.filter(event_type="signal.received", object_id__in=chunk).count()
            for chunk in _chunks(acknowledged)
        )
        stored_acknowledged = sum(Signal.objects.filter(pk__in=chunk).count() for chunk in _chunks(acknowledged))
        automated = Report.objects.filter(channel=ReportChannel.AUTOMATED, signals__detector=self._detector).distinct()
        automated_ids = [str(pk) for pk in automated.values_list("pk", flat=True)]
        automated_audited = sum(
            AuditEvent.objects.filter(event_type="report.created", object_id__in=chunk).count()
            for chunk in _chunks(automated_ids)
        )
        outcomes = dict(Signal.objects.filter(detector=self._detector).values_list("outcome").annotate(n=Count("id")))
        filed = Report.objects.filter(
            target__external_id__startswith=self._run_prefix, channel=ReportChannel.API
        ).count()
        filing_ids = [
            str(pk)
            for pk in Report.objects.filter(target__external_id__startswith=self._run_prefix).values_list(
                "pk", flat=True
            )
        ]
        filing_audited = sum(
            AuditEvent.objects.filter(event_type="report.created", object_id__in=chunk).count()
            for chunk in _chunks(filing_ids)
        )
        lines = [
            "",
            f"{'endpoint':<26} | {'requests':>8} {'items':>7} {'errors':>6} | {'items/s':>8} {'req/s':>7} | "
            f"{'p50 ms':>7} {'p95 ms':>7}",
            "-" * 92,
        ]
        for phase in (filings, signals):
            errors = len(phase.errors) + len(phase.item_errors)
            lines.append(
                f"{phase.name:<26} | {phase.sent:>8,} {phase.items:>7,} {errors:>6} | "
                f"{phase.items_per_second:>8.1f} {phase.per_second:>7.1f} | "
                f"{phase.percentile(0.5):>7.1f} {phase.percentile(0.95):>7.1f}"
            )
        lines += [
            "",
            f"ratio (signals/s / filings/s): {ratio:.1f} (target >= {options['min_ratio']:g})",
            f"signals: {len(acknowledged):,} acknowledged (warm-up included), {stored_acknowledged:,} of them stored, "
            f"{stored:,} rows of this run's detector, {audited:,} signal.received audit events; outcomes {outcomes}",
            f"automated reports: {len(automated_ids):,}, {automated_audited:,} report.created audit events",
            f"filings: {filed:,} reports through the API, {filing_audited:,} report.created audit events "
            f"(expected {filings.items + warm_filings:,} each, warm-up included)",
            "worker memory after the run:",
            *(
                f"  pid {pid}: RSS {rss / 1024:.1f} MiB, PSS {pss / 1024:.1f} MiB"
                if rss is not None and pss is not None
                else f"  pid {pid}: not readable"
                for pid, rss, pss in workers
            ),
            f"client: {options['concurrency']} threads for filings, {options['batch_concurrency']} for batches, "
            f"keep-alive; CPUs: {os.cpu_count()}",
        ]
        for phase in (filings, signals):
            if phase.errors or phase.item_errors:
                lines.append(f"{phase.name} errors (first 5): {(phase.errors + phase.item_errors)[:5]}")
        self.stdout.write("\n".join(lines))
        failures = []
        if filings.errors or signals.errors or signals.item_errors:
            failures.append("errors")
        if ratio < options["min_ratio"]:
            failures.append(f"ratio {ratio:.1f} under {options['min_ratio']:g}")
        if not (len(acknowledged) == stored_acknowledged == audited == stored):
            failures.append("an acknowledged signal without its row or audit event")
        if automated_audited != len(automated_ids):
            failures.append("an automated report without its audit event")
        if not (filed == filing_audited == filings.items + warm_filings):
            failures.append("a filing without its row or audit event")
        return failures
