"""The filing benchmark: reports filed per second through gunicorn over loopback, next to a minimal
Django view that inserts one row, in the same run.

    DATABASE_URL=postgres://... python manage.py bench_filing --requests 4000

What it does, in order, and always stopping its server at the end (even on error or Ctrl-C):

1. migrates the baseline's table (the benchmarks app is installed outside production; its view is
   routed only with BENCHMARKS=1);
2. prepares accounts with personal API tokens (the same service as the account page) and one new
   target per request, so that every (reporter, target) pair is distinct and no report is refused
   as a duplicate;
3. starts gunicorn on a loopback port with DEBUG off, BENCHMARKS=1, and the per-token and
   per-person rate limits raised for this server only (API_TOKEN_RATE=off, REPORTS_PER_HOUR_LIMIT);
   mail goes to Django's dummy backend (production sends it after commit to a relay);
4. runs a bounded load generator (threads, each with one keep-alive http.client connection; a
   fixed number of requests and a time cap) against POST /api/reports, then against the baseline
   POST /bench/insert-one, after a warm-up of both;
5. prints requests per second, p50/p95 latency, errors (must be 0), the ratio, and the memory of
   each worker (RSS and PSS from /proc), and checks that every 201 left one report and one
   report.created audit event in the database.

Worker class: gthread (default 4 workers x 4 threads). Threads keep connections alive (sync
workers close each connection after one response) and let a worker take the next request while a
thread waits on PostgreSQL (a filing makes eight round trips, the baseline two). Compare with
--worker-class sync.
"""

from __future__ import annotations

import http.client
import itertools
import json
import os
import random
import signal
import subprocess  # nosec B404 -- starts our own gunicorn and manage.py, never with user input
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from audit.models import AuditEvent
from benchmarks import host_speed
from reports.categories import Category
from reports.models import Report, ReportChannel, Target, TargetKind
from reports.services import api_token_create
from tests.harness import free_port

API_PATH = "/api/reports"
BASELINE_PATH = "/bench/insert-one"
REASON_WORDS = ["insults", "spam", "scam", "threat", "link", "stream", "lobby", "fake", "offer", "again"]


@dataclass
class Phase:
    name: str
    path: str
    sent: int = 0
    elapsed: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> int:
        return len(self.latencies_ms)

    @property
    def per_second(self) -> float:
        return self.ok / self.elapsed if self.elapsed else 0.0

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.latencies_ms)
        if not ordered:
            return float("nan")
        return ordered[max(0, -(-int(fraction * 100) * len(ordered) // 100) - 1)]


def _load(
    *, port: int, phase: Phase, requests: list[tuple[bytes, dict[str, str]]], concurrency: int, max_seconds: float
) -> Phase:
    """Send `requests` with `concurrency` threads, each on one keep-alive connection, until all are
    sent or `max_seconds` have passed. Only 201 counts as a success; anything else is an error."""
    counter = itertools.count()  # next() on it is atomic under the GIL
    lock = threading.Lock()
    deadline = time.perf_counter() + max_seconds

    def worker() -> None:
        conn: http.client.HTTPConnection | None = None
        latencies: list[float] = []
        errors: list[str] = []
        while time.perf_counter() < deadline:
            index = next(counter)
            if index >= len(requests):
                break
            body, headers = requests[index]
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            started = time.perf_counter()
            try:
                conn.request("POST", phase.path, body=body, headers=headers)
                response = conn.getresponse()
                payload = response.read()
                if response.will_close:
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException) as error:
                errors.append(f"{type(error).__name__}: {error}")
                conn.close()
                conn = None
                continue
            if response.status == 201:
                latencies.append((time.perf_counter() - started) * 1000)
            else:
                errors.append(f"{response.status}: {payload[:200].decode('utf-8', 'replace')}")
        if conn is not None:
            conn.close()
        with lock:
            phase.latencies_ms.extend(latencies)
            phase.errors.extend(errors)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=max_seconds + 60)
    phase.elapsed = time.perf_counter() - started
    phase.sent = len(phase.latencies_ms) + len(phase.errors)
    return phase


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name is in parentheses and may hold spaces; the parent pid follows it.
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return sorted(found)


def _memory_kib(pid: int) -> tuple[int | None, int | None]:
    """(RSS, PSS) in KiB: PSS shares pages between the processes that map them (fairer for forks)."""

    def read(path: str, key: str) -> int | None:
        try:
            for line in Path(path).read_text().splitlines():
                if line.startswith(key + ":"):
                    return int(line.split()[1])
        except OSError:
            return None
        return None

    return read(f"/proc/{pid}/status", "VmRSS"), read(f"/proc/{pid}/smaps_rollup", "Pss")


class Command(BaseCommand):
    help = "Benchmark filing through gunicorn (POST /api/reports) against a minimal one-row insert view."

    def add_arguments(self, parser):
        parser.add_argument("--requests", type=int, default=3000, help="Requests per endpoint (default 3,000).")
        parser.add_argument("--concurrency", type=int, default=16, help="Client threads (default 16).")
        parser.add_argument("--max-seconds", type=float, default=60.0, help="Time cap per endpoint (default 60).")
        parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (default 4).")
        parser.add_argument("--threads", type=int, default=4, help="Threads per gthread worker (default 4).")
        parser.add_argument("--worker-class", default="gthread", choices=["gthread", "sync"])
        parser.add_argument("--accounts", type=int, default=200, help="Reporting accounts, one token each.")
        parser.add_argument("--port", type=int, default=0, help="Loopback port (default: a free one).")
        parser.add_argument("--check", action="store_true", help="Exit non-zero on errors or a ratio under target.")
        parser.add_argument("--min-ratio", type=float, default=0.5, help="Target: filing rate / baseline rate.")

    def handle(self, *args, **options):
        if options["requests"] < 10 or options["concurrency"] < 1 or options["accounts"] < 1:
            raise CommandError("--requests must be at least 10, --concurrency and --accounts at least 1")
        if connection.vendor != "postgresql":
            self.stdout.write(self.style.WARNING("Not PostgreSQL: the figures say little about production."))
        port = options["port"] or free_port()
        warmup = max(2 * options["workers"] * options["threads"], 20)
        self._migrate()
        api_requests, baseline_requests = self._prepare(options, warmup)
        log_path = Path(settings.VAR_DIR) / "bench_filing_gunicorn.log"
        server = self._start(options, port, log_path)
        try:
            self._wait_ready(server, port, log_path)
            for requests, path in ((api_requests[:warmup], API_PATH), (baseline_requests[:warmup], BASELINE_PATH)):
                warm = _load(port=port, phase=Phase("warm-up", path), requests=requests, concurrency=4, max_seconds=30)
                if warm.errors:
                    raise CommandError(f"warm-up of {path} failed: {warm.errors[:3]}")
            measure = {"concurrency": options["concurrency"], "max_seconds": options["max_seconds"]}
            probe_before = host_speed.loop_seconds()
            api = _load(
                port=port, phase=Phase("POST /api/reports", API_PATH), requests=api_requests[warmup:], **measure
            )
            baseline = _load(
                port=port,
                phase=Phase("baseline insert-one", BASELINE_PATH),
                requests=baseline_requests[warmup:],
                **measure,
            )
            workers = [(pid, *_memory_kib(pid)) for pid in _children(server.pid)]
            self.stdout.write(host_speed.describe(probe_before, host_speed.loop_seconds()))
        finally:
            self._stop(server)
        failures = self._print(options, api, baseline, workers, warmup)
        if options["check"] and failures:
            raise CommandError("; ".join(failures))

    # --- set-up ----------------------------------------------------------------------------------

    def _server_env(self, options) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                # A development profile with DEBUG off: production's HTTPS redirect would bounce
                # plain loopback HTTP, and BENCHMARKS is refused in production.
                "DJANGO_ENV": "development",
                "DJANGO_DEBUG": "0",
                "BENCHMARKS": "1",
                # bandit B105: a rate limit setting, not a password
                "API_TOKEN_RATE": "off",  # nosec B105
                "REPORTS_PER_HOUR_LIMIT": str(options["requests"] + 1000),
                "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
                "LOG_LEVEL": "WARNING",
                "ALLOWED_HOSTS": "127.0.0.1,localhost",
                "PYTHONUNBUFFERED": "1",
            }
        )
        return env

    def _migrate(self) -> None:
        """The baseline's table (this app is installed wherever this command runs)."""
        call_command("migrate", "benchmarks", interactive=False, verbosity=0)

    def _prepare(self, options, warmup: int):
        """Accounts with tokens and one fresh target per request: every (reporter, target) pair distinct."""
        run = uuid.uuid4().hex[:8]
        count = options["requests"] + warmup
        started = time.perf_counter()
        user_model = get_user_model()
        owner = user_model.objects.create_user(username=f"bench_filing_{run}_owner", password=None)
        users = user_model.objects.bulk_create(
            [
                user_model(
                    username=f"bench_filing_{run}_{n}",
                    email=f"bench_filing_{run}_{n}@example.test",
                    password=make_password(None),
                )
                for n in range(options["accounts"])
            ]
        )
        if any(user.pk is None for user in users):
            users = list(user_model.objects.filter(username__startswith=f"bench_filing_{run}_").exclude(pk=owner.pk))
        keys = [api_token_create(actor=user, name="bench_filing")[1] for user in users]
        targets = Target.objects.bulk_create(
            [
                Target(
                    public_id=uuid.uuid4(),
                    kind=TargetKind.MESSAGE,
                    external_id=f"bench-filing-{run}-{n}",
                    owner=owner,
                    title=f"message {n}",
                    snapshot_text="a message someone reported",
                )
                for n in range(count)
            ],
            batch_size=2000,
        )
        self._run_prefix = f"bench-filing-{run}-"
        # bandit B311: benchmark data, not security
        rng = random.Random(run)  # nosec B311
        categories = list(Category.values)
        api_requests, baseline_requests = [], []
        for n, target in enumerate(targets):
            body = json.dumps(
                {
                    "report_type": TargetKind.MESSAGE,
                    "target_id": str(target.public_id),
                    "reason": " ".join(rng.choices(REASON_WORDS, k=rng.randint(6, 30))),
                    "category": rng.choice(categories),
                }
            ).encode()
            headers = {"Content-Type": "application/json", "Authorization": f"Token {keys[n % len(keys)]}"}
            api_requests.append((body, headers))
            baseline_requests.append((body, {"Content-Type": "application/json"}))
        self.stdout.write(
            f"prepared {len(users)} accounts with tokens and {len(targets):,} targets "
            f"({time.perf_counter() - started:.1f}s); run {run}"
        )
        return api_requests, baseline_requests

    def _start(self, options, port: int, log_path: Path) -> subprocess.Popen:
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(options["workers"]),
            "--worker-class",
            options["worker_class"],
            "--keep-alive",
            "30",
            "--timeout",
            "60",
            "--log-level",
            "warning",
        ]
        if options["worker_class"] == "gthread":
            command += ["--threads", str(options["threads"])]
        self.stdout.write(
            f"gunicorn on 127.0.0.1:{port}: {options['workers']} {options['worker_class']} workers"
            + (f" x {options['threads']} threads" if options["worker_class"] == "gthread" else "")
            + f"; log {log_path}"
        )
        with log_path.open("wb") as log:
            # Its own session, so that stopping it stops exactly the server and its workers.
            return subprocess.Popen(  # noqa: S603  # nosec B603 -- our own interpreter and gunicorn
                command,
                cwd=settings.BASE_DIR,
                env=self._server_env(options),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def _wait_ready(self, server: subprocess.Popen, port: int, log_path: Path) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if server.poll() is not None:
                raise CommandError(f"gunicorn exited with {server.returncode}:\n{log_path.read_text()[-2000:]}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/accounts/login/")
                status = conn.getresponse().status
                conn.close()
            except OSError:
                time.sleep(0.2)
                continue
            if status == 200:
                return
            raise CommandError(f"gunicorn answered {status} to GET /accounts/login/")
        raise CommandError("gunicorn did not answer within 60 seconds")

    def _stop(self, server: subprocess.Popen) -> None:
        if server.poll() is not None:
            return
        try:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)
        except ProcessLookupError:
            pass

    # --- the figures -----------------------------------------------------------------------------

    def _print(self, options, api: Phase, baseline: Phase, workers, warmup: int) -> list[str]:
        ratio = api.per_second / baseline.per_second if baseline.per_second else 0.0
        filed = Report.objects.filter(
            target__external_id__startswith=self._run_prefix, channel=ReportChannel.API
        ).count()
        report_ids = [
            str(pk)
            for pk in Report.objects.filter(target__external_id__startswith=self._run_prefix).values_list(
                "pk", flat=True
            )
        ]
        audited = AuditEvent.objects.filter(
            event_type="report.created", object_type="report", object_id__in=report_ids
        ).count()
        expected = api.ok + warmup
        lines = [
            "",
            f"{'endpoint':<22} | {'requests':>8} {'errors':>6} | {'req/s':>7} | {'p50 ms':>7} {'p95 ms':>7}",
            "-" * 68,
        ]
        for phase in (api, baseline):
            lines.append(
                f"{phase.name:<22} | {phase.sent:>8,} {len(phase.errors):>6} | {phase.per_second:>7.1f} | "
                f"{phase.percentile(0.5):>7.1f} {phase.percentile(0.95):>7.1f}"
            )
        lines += [
            "",
            f"ratio (filing / baseline): {ratio:.2f} (target >= {options['min_ratio']:g})",
            f"database check: {filed:,} reports filed through the API, {audited:,} report.created audit events "
            f"(expected {expected:,} each, warm-up included)",
            "worker memory after the run:",
            *(
                f"  pid {pid}: RSS {rss / 1024:.1f} MiB, PSS {pss / 1024:.1f} MiB"
                if rss is not None and pss is not None
                else f"  pid {pid}: not readable"
                for pid, rss, pss in workers
            ),
            f"client: {options['concurrency']} threads, keep-alive; "
            f"{options['requests']:,} requests per endpoint, cap {options['max_seconds']:g}s; "
            f"CPUs: {os.cpu_count()}",
        ]
        for phase in (api, baseline):
            if phase.errors:
                lines.append(f"{phase.name} errors (first 5): {phase.errors[:5]}")
        self.stdout.write("\n".join(lines))
        failures = []
        for phase in (api, baseline):
            if phase.errors:
                failures.append(f"{phase.name}: {len(phase.errors)} errors")
            if phase.sent < options["requests"]:
                failures.append(f"{phase.name}: only {phase.sent} of {options['requests']} sent within the time cap")
        if ratio < options["min_ratio"]:
            failures.append(f"ratio {ratio:.2f} under {options['min_ratio']:g}")
        if filed != expected or audited != expected:
            failures.append(f"database holds {filed} reports and {audited} audit events, expected {expected}")
        if failures:
            self.stdout.write(self.style.WARNING("missed: " + "; ".join(failures)))
        else:
            self.stdout.write(self.style.SUCCESS("all targets met"))
        return failures
