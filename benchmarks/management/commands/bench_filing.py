"""The filing benchmark: three endpoints through one gunicorn over loopback, in one run:

- ours: POST /api/reports (personal token with the sign-in block, strict body, the hourly limit,
  the report, its audit event and its confirmation mail in the outbox, in one transaction);
- the peer: a plain DRF CreateAPIView with DRF's stock TokenAuthentication writing the same report
  and audit rows and nothing else (benchmarks/peer.py, POST /bench/peer/reports);
- the baseline: a view inserting one row (POST /bench/insert-one).

    DATABASE_URL=postgres://... python manage.py bench_filing --requests 3000

What it does, always stopping its processes at the end (even on error or Ctrl-C):

1. migrates the benchmarks app (its tables: the baseline's rows, the peer's tokens);
2. prepares accounts, each with one of our tokens and one peer token, and a fresh target per
   request, so that no report is refused as a duplicate;
3. starts an SMTP server that accepts everything (aiosmtpd, in a process of its own) and gunicorn
   with DEBUG off, BENCHMARKS=1, the broker, and the per-token and per-person limits raised for
   this server only;
4. runs a bounded load generator (threads, each with one keep-alive connection; a fixed number of
   requests and a time cap) against the three endpoints, in --rounds rounds that alternate the
   order, after a warm-up of each (six by default: the host's speed drifts within a run, and the
   finer the alternation, the more alike both endpoints share the drift). No mail worker runs
   meanwhile: in production the worker runs on hosts of its own (Procfile), so the rounds measure
   the web tier, and the confirmations wait in the outbox;
5. starts a celery worker on its own queue of the Redis at --broker and times it delivering what
   the rounds left (mails a second, CPU a mail of the worker and of the SMTP server);
6. then ours again with that worker delivering beside it on the same cores (everything on one
   host), and ours again with the worker restarted against a relay that accepts connections and
   never answers: the p95 of the two side by side;
7. prints requests per second, p50/p95, errors (must be 0), the CPU per request of gunicorn, of
   PostgreSQL, of the worker, of the SMTP server and of the whole host, both ratios, the workers'
   memory, and checks that every 201 left one report and one report.created audit event, and that
   every confirmation but the silent relay's was accepted by the SMTP server.

Server: as the Procfile runs it, 4 sync workers (gunicorn's default class; a sync worker closes the
connection after each answer, the proxy in front keeps the clients' alive). Compare with
--worker-class gthread (4 workers x 4 threads, keep-alive): on two cores the threads take turns on
each process's interpreter lock, and every round trip to PostgreSQL or Redis costs a turn.
"""

from __future__ import annotations

import http.client
import itertools
import json
import os
import random
import secrets
import signal
import subprocess  # nosec B404  # starts our own gunicorn and manage.py, never with user input
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils import timezone

from audit.models import AuditEvent
from benchmarks import host_speed
from benchmarks.models import PeerToken
from reports.categories import Category
from reports.models import OutboxMail, Report, Target, TargetKind
from reports.outbox import message_id
from reports.services import api_token_create
from tests.harness import CeleryProcess, SilentRelay, SmtpSinkProcess, free_port

API_PATH = "/api/reports"
PEER_PATH = "/bench/peer/reports"
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
    # CPU seconds used during the phase by gunicorn's workers, by the celery worker delivering mail
    # and by the SMTP server receiving it (on this host all take turns on the same cores).
    server_cpu: float = 0.0
    worker_cpu: float = 0.0
    relay_cpu: float = 0.0
    # PostgreSQL's processes, and every process of the host together (the client's threads included).
    database_cpu: float = 0.0
    host_cpu: float = 0.0

    def cpu_ms(self, seconds: float) -> float:
        return seconds * 1000 / self.ok if self.ok else float("nan")

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
    *,
    port: int,
    phase: Phase,
    requests: list[tuple],
    concurrency: int,
    max_seconds: float,
    expected_status: int = 201,
    on_success: Callable[[bytes, tuple], None] | None = None,
    timeout: float = 30,
) -> Phase:
    """Send `requests` ((body, headers, ...) each) with `concurrency` threads, each on one keep-alive
    connection, until all are sent or `max_seconds` have passed. Only `expected_status` counts as a
    success; anything else is an error. `on_success(payload, request)` reads each successful answer
    (bench_signals counts the items of a batch), one call at a time."""
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
            body, headers = requests[index][:2]
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
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
            if response.status != expected_status:
                errors.append(f"{response.status}: {payload[:200].decode('utf-8', 'replace')}")
                continue
            latencies.append((time.perf_counter() - started) * 1000)
            if on_success is not None:
                with lock:
                    on_success(payload, requests[index])
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
        thread.join(timeout=max_seconds + 2 * timeout)
    phase.elapsed = time.perf_counter() - started
    phase.sent = len(phase.latencies_ms) + len(phase.errors)
    return phase


def _chunk(items: list, number: int, rounds: int) -> list:
    """The `number`-th of `rounds` equal slices of `items`."""
    size = -(-len(items) // rounds)
    return items[number * size : (number + 1) * size]


def _merge(total: Phase, part: Phase) -> None:
    total.latencies_ms.extend(part.latencies_ms)
    total.errors.extend(part.errors)
    total.elapsed += part.elapsed
    total.sent += part.sent
    total.server_cpu += part.server_cpu
    total.worker_cpu += part.worker_cpu
    total.relay_cpu += part.relay_cpu
    total.database_cpu += part.database_cpu
    total.host_cpu += part.host_cpu


@dataclass
class Delivery:
    """The worker delivering the mail the web tier's rounds left in the outbox, timed on its own."""

    mails: int
    seconds: float
    worker_cpu: float
    relay_cpu: float

    def cpu_ms(self, seconds: float) -> float:
        return seconds * 1000 / self.mails if self.mails else float("nan")


_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pids: list[int], *, exited_children: bool = False) -> float:
    """User and system CPU seconds the processes have used so far (/proc/<pid>/stat), with
    `exited_children` also their children's that have exited (PostgreSQL's postmaster holds the
    CPU of every backend whose connection closed)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime: fields 14 and 15 of stat(5)
        if exited_children:
            total += int(fields[13]) + int(fields[14])  # cutime, cstime: fields 16 and 17
    return total / _CLOCK_TICKS


def _host_busy_seconds() -> float:
    """CPU seconds every core of the host has spent busy so far (/proc/stat: all but idle and iowait)."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / _CLOCK_TICKS


def _pids(*, parent: int | None = None, command: str | None = None) -> list[int]:
    """The processes on this host with this parent, or with this command name (/proc/<pid>/stat)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name is in parentheses and may hold spaces; the parent pid follows it.
        head, tail = stat.rsplit(")", 1)
        if int(tail.split()[1]) == parent or head.split("(", 1)[1] == command:
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
    help = "Filing through gunicorn: ours, a plain DRF peer, a one-row insert; and ours with a silent mail relay."

    def add_arguments(self, parser):
        parser.add_argument("--requests", type=int, default=3000, help="Requests per endpoint (default 3,000).")
        parser.add_argument("--rounds", type=int, default=6, help="Rounds, the order alternating (default 6).")
        parser.add_argument(
            "--relay-requests", type=int, default=1000, help="Requests per relay phase (default 1,000)."
        )
        parser.add_argument("--concurrency", type=int, default=16, help="Client threads (default 16).")
        parser.add_argument("--max-seconds", type=float, default=60.0, help="Time cap per phase (default 60).")
        parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (default 4).")
        parser.add_argument("--threads", type=int, default=4, help="Threads per gthread worker (default 4).")
        parser.add_argument(
            "--worker-class", default="sync", choices=["sync", "gthread"], help="Default sync, as the Procfile."
        )
        parser.add_argument("--accounts", type=int, default=200, help="Reporting accounts, one token of each kind.")
        parser.add_argument("--port", type=int, default=0, help="Loopback port (default: a free one).")
        parser.add_argument("--broker", default="redis://127.0.0.1:6379/12", help="Redis for the celery worker.")
        parser.add_argument("--check", action="store_true", help="Exit non-zero on errors or a ratio under target.")
        parser.add_argument("--min-ratio", type=float, default=1.0, help="Target: ours / the DRF peer (req/s).")

    def handle(self, *args, **options):
        if options["requests"] < 10 or options["concurrency"] < 1 or options["accounts"] < 1 or options["rounds"] < 1:
            raise CommandError("--requests must be at least 10, --concurrency, --accounts and --rounds at least 1")
        if connection.vendor != "postgresql":
            self.stdout.write(self.style.WARNING("Not PostgreSQL: the figures say little about production."))
        port = options["port"] or free_port()
        warmup = max(2 * options["workers"] * options["threads"], 20)
        self._queue = f"bench-filing-{uuid.uuid4().hex[:8]}"
        self._started_at = timezone.now()
        self._migrate()
        plan = self._prepare(options, warmup)
        log_path = Path(settings.VAR_DIR) / "bench_filing_gunicorn.log"
        processes: list = []
        # The SMTP server in a process of its own: in this one it would slow the client's threads.
        accepted_log = Path(settings.VAR_DIR) / "bench_filing_smtp_accepted.txt"
        with SmtpSinkProcess(record=accepted_log) as sink, SilentRelay() as silent:
            try:
                server = self._start(options, port, log_path)
                processes.append(server)
                self._wait_ready(server, port, log_path)
                for path in (API_PATH, PEER_PATH, BASELINE_PATH):
                    warm = _load(
                        port=port,
                        phase=Phase("warm-up", path),
                        requests=plan[path][:warmup],
                        concurrency=4,
                        max_seconds=30,
                    )
                    if warm.errors:
                        raise CommandError(f"warm-up of {path} failed: {warm.errors[:3]}")
                measure = {"concurrency": options["concurrency"], "max_seconds": options["max_seconds"]}
                worker: CeleryProcess | None = None

                def load(phase: Phase, requests: list) -> Phase:
                    """_load, with the CPU each process used meanwhile. The processes are looked up at
                    each end: PostgreSQL's backends come and go (the database is local; its postmaster
                    holds the CPU of those that exited)."""
                    readings = {
                        "server": lambda: _cpu_seconds(_pids(parent=server.pid)),
                        "worker": lambda: _cpu_seconds([worker.process.pid] if worker else []),
                        "relay": lambda: _cpu_seconds([sink.process.pid]),
                        "database": lambda: _cpu_seconds(_pids(command="postgres"), exited_children=True),
                    }
                    before = {name: read() for name, read in readings.items()}
                    host_before = _host_busy_seconds()
                    _load(port=port, phase=phase, requests=requests, **measure)
                    phase.server_cpu, phase.worker_cpu, phase.relay_cpu, phase.database_cpu = (
                        read() - before[name] for name, read in readings.items()
                    )
                    phase.host_cpu = _host_busy_seconds() - host_before
                    return phase

                probe_before = host_speed.loop_seconds()
                phases = {
                    API_PATH: Phase("ours POST /api/reports", API_PATH),
                    PEER_PATH: Phase("DRF peer", PEER_PATH),
                    BASELINE_PATH: Phase("baseline insert-one", BASELINE_PATH),
                }
                # The web tier: the worker runs on hosts of its own in production (Procfile), so here
                # it delivers after these rounds rather than on the same two cores during them.
                rounds = options["rounds"]
                order = [API_PATH, PEER_PATH, BASELINE_PATH]
                for number in range(rounds):
                    for path in order if number % 2 == 0 else order[::-1]:
                        chunk = _chunk(plan[path][warmup : warmup + options["requests"]], number, rounds)
                        _merge(phases[path], load(Phase("", path), chunk))
                # Then the worker delivers what the rounds left in the outbox, timed on its own.
                worker, delivery = self._drain(options, sink)
                processes.append(worker)
                # Ours with the worker delivering beside it on the same cores, relay answering; then the
                # worker restarted against a relay that never answers.
                relay_ok = load(Phase("ours + worker, same host", API_PATH), plan["relay-ok"])
                self._wait_for_mail()
                worker.kill()
                worker = self._worker(options, relay_port=silent.port, name="relay-silent")
                processes.append(worker)
                relay_silent = load(Phase("ours, relay silent", API_PATH), plan["relay-silent"])
                workers = [(pid, *_memory_kib(pid)) for pid in _pids(parent=server.pid)]
                self.stdout.write(host_speed.describe(probe_before, host_speed.loop_seconds()))
            finally:
                for process in reversed(processes):
                    if isinstance(process, CeleryProcess):
                        process.kill()
                    else:
                        self._stop(process)
            mail_accepted = set(sink.accepted)
        failures = self._print(options, phases, relay_ok, relay_silent, delivery, workers, warmup, mail_accepted)
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
                "REPORTS_PER_HOUR_LIMIT": str(options["requests"] + options["relay_requests"] * 2 + 1000),
                # The outbox is delivered by the worker, as in production: the server never talks to a relay.
                "CELERY_BROKER_URL": options["broker"],
                # The cache on Redis, as production requires: the attempt counter's round trip counts.
                "REDIS_URL": options["broker"],
                "CELERY_QUEUE": self._queue,
                "CACHE_KEY_PREFIX": self._queue,
                "LOG_LEVEL": "WARNING",
                "ALLOWED_HOSTS": "127.0.0.1,localhost",
                "PYTHONUNBUFFERED": "1",
            }
        )
        return env

    def _worker(self, options, *, relay_port: int, name: str) -> CeleryProcess:
        env = self._server_env(options)
        env.update(
            {
                "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                "EMAIL_HOST": "127.0.0.1",
                "EMAIL_PORT": str(relay_port),
                "EMAIL_TIMEOUT": "5",
                "LOG_LEVEL": "INFO",
            }
        )
        log_path = Path(settings.VAR_DIR) / f"bench_filing_worker_{name}.log"
        log_path.write_text("")
        self.stdout.write(f"celery worker ({name}, relay on port {relay_port}); log {log_path}")
        return CeleryProcess("worker", env=env, log_path=log_path, name=name).start()

    def _waiting_mail(self):
        """This run's confirmations not yet sent."""
        return OutboxMail.objects.filter(
            sent_at__isnull=True, subject__startswith="We received your report", created_at__gte=self._started_at
        )

    def _wait_for_mail(self, timeout: float = 300) -> None:
        """Until the worker has sent every confirmation so far (the working relay's)."""
        deadline = time.monotonic() + timeout
        waiting = self._waiting_mail()
        while time.monotonic() < deadline and waiting.exists():
            time.sleep(0.1)

    def _drain(self, options, sink: SmtpSinkProcess) -> tuple[CeleryProcess, Delivery]:
        """Start the worker and time it delivering what waits in the outbox (nothing else running)."""
        mails = self._waiting_mail().count()
        worker = self._worker(options, relay_port=sink.port, name="relay-ok")
        pids = [worker.process.pid], [sink.process.pid]
        worker_before, relay_before = (_cpu_seconds(group) for group in pids)
        started = time.perf_counter()
        self._wait_for_mail()
        worker_after, relay_after = (_cpu_seconds(group) for group in pids)
        return worker, Delivery(
            mails=mails,
            seconds=time.perf_counter() - started,
            worker_cpu=worker_after - worker_before,
            relay_cpu=relay_after - relay_before,
        )

    def _migrate(self) -> None:
        """The benchmarks app's tables (this app is installed wherever this command runs)."""
        call_command("migrate", "benchmarks", interactive=False, verbosity=0)

    def _prepare(self, options, warmup: int) -> dict[str, list[tuple[bytes, dict[str, str]]]]:
        """Accounts with both kinds of tokens, and one fresh target per filing: every pair distinct."""
        run = uuid.uuid4().hex[:8]
        per_filing_endpoint = options["requests"] + warmup
        counts = {
            API_PATH: per_filing_endpoint,
            PEER_PATH: per_filing_endpoint,
            "relay-ok": options["relay_requests"],
            "relay-silent": options["relay_requests"],
        }
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
        peer_keys = [
            token.key
            for token in PeerToken.objects.bulk_create(
                [PeerToken(key=secrets.token_hex(20), user=user) for user in users]
            )
        ]
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
                for n in range(sum(counts.values()))
            ],
            batch_size=2000,
        )
        self._run_prefix = f"bench-filing-{run}-"
        # bandit B311: benchmark data, not security
        rng = random.Random(run)  # nosec B311
        categories = list(Category.values)
        plan: dict[str, list[tuple[bytes, dict[str, str]]]] = {}
        remaining = iter(targets)
        for kind, count in counts.items():
            requests = []
            for n in range(count):
                target = next(remaining)
                body = json.dumps(
                    {
                        "report_type": TargetKind.MESSAGE,
                        "target_id": str(target.public_id),
                        "reason": " ".join(rng.choices(REASON_WORDS, k=rng.randint(6, 30))),
                        "category": rng.choice(categories),
                    }
                ).encode()
                key = peer_keys[n % len(peer_keys)] if kind == PEER_PATH else keys[n % len(keys)]
                auth = f"Token {key}"
                requests.append((body, {"Content-Type": "application/json", "Authorization": auth}))
            plan[kind] = requests
        plan[BASELINE_PATH] = [(body, {"Content-Type": "application/json"}) for body, _ in plan[API_PATH]]
        self.stdout.write(
            f"prepared {len(users)} accounts with both kinds of tokens and {len(targets):,} targets "
            f"({time.perf_counter() - started:.1f}s); run {run}"
        )
        return plan

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
            return subprocess.Popen(  # noqa: S603  # nosec B603  # our own interpreter and gunicorn
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

    def _print(
        self,
        options,
        phases,
        relay_ok: Phase,
        relay_silent: Phase,
        delivery: Delivery,
        workers,
        warmup,
        accepted_ids: set[str],
    ) -> list[str]:
        ours, peer, baseline = phases[API_PATH], phases[PEER_PATH], phases[BASELINE_PATH]
        ratio = ours.per_second / peer.per_second if peer.per_second else 0.0
        ratio_same_host = relay_ok.per_second / peer.per_second if peer.per_second else 0.0
        ratio_baseline = ours.per_second / baseline.per_second if baseline.per_second else 0.0
        run_reports = Report.objects.filter(target__external_id__startswith=self._run_prefix)
        filed = run_reports.count()
        report_ids = [str(pk) for pk in run_reports.values_list("pk", flat=True)]
        audited = AuditEvent.objects.filter(
            event_type="report.created", object_type="report", object_id__in=report_ids
        ).count()
        # Every filing of ours wrote one confirmation; the peer's none.
        confirmations = OutboxMail.objects.filter(
            subject__startswith="We received your report", created_at__gte=self._started_at
        )
        expected = ours.ok + peer.ok + relay_ok.ok + relay_silent.ok + 2 * warmup
        expected_mail_sent = ours.ok + relay_ok.ok + warmup
        sent = confirmations.filter(sent_at__isnull=False).count()
        # This run's only: mail an earlier run left in the outbox is delivered in this one too.
        accepted = len(accepted_ids & {message_id(row) for row in confirmations.only("pk")})
        lines = [
            "",
            f"{'endpoint':<26} | {'requests':>8} {'errors':>6} | {'req/s':>7} | {'p50 ms':>7} {'p95 ms':>7} | "
            f"CPU ms a request: {'gunicorn':>8} {'PostgreSQL':>10} {'worker':>6} {'SMTP':>5} {'host':>6}",
            "-" * 124,
        ]
        for phase in (ours, peer, baseline, relay_ok, relay_silent):
            lines.append(
                f"{phase.name:<26} | {phase.sent:>8,} {len(phase.errors):>6} | {phase.per_second:>7.1f} | "
                f"{phase.percentile(0.5):>7.1f} {phase.percentile(0.95):>7.1f} | "
                f"{'':>17} {phase.cpu_ms(phase.server_cpu):>8.2f} {phase.cpu_ms(phase.database_cpu):>10.2f} "
                f"{phase.cpu_ms(phase.worker_cpu):>6.2f} {phase.cpu_ms(phase.relay_cpu):>5.2f} "
                f"{phase.cpu_ms(phase.host_cpu):>6.2f}"
            )
        lines += [
            "",
            f"ratio ours / DRF peer: {ratio:.2f} (target >= {options['min_ratio']:g}; the web tier, the mail "
            f"delivered by the worker after the rounds as from a host of its own); "
            f"ours / one-row baseline: {ratio_baseline:.2f}",
            f"ratio ours with the worker delivering on these same {os.cpu_count()} cores / DRF peer: "
            f"{ratio_same_host:.2f}",
            f"delivery of the rounds' {delivery.mails:,} confirmations by one worker (solo pool), alone: "
            f"{delivery.seconds:.1f} s, {delivery.mails / delivery.seconds if delivery.seconds else 0:.0f} mails/s, "
            f"CPU ms a mail: worker {delivery.cpu_ms(delivery.worker_cpu):.2f}, "
            f"SMTP server {delivery.cpu_ms(delivery.relay_cpu):.2f}",
            f"filing p95 with the relay answering: {relay_ok.percentile(0.95):.1f} ms; "
            f"with a relay that never answers: {relay_silent.percentile(0.95):.1f} ms",
            f"database check: {filed:,} reports and {audited:,} report.created audit events "
            f"(expected {expected:,} each, warm-ups included)",
            f"mail: {sent:,} confirmations sent by the worker and {accepted:,} accepted by the SMTP server "
            f"(expected {expected_mail_sent:,}: every filing of ours but the silent relay's phase); "
            f"{confirmations.filter(sent_at__isnull=True).count():,} waiting (the silent relay's phase)",
            "gunicorn worker memory after the run:",
            *(
                f"  pid {pid}: RSS {rss / 1024:.1f} MiB, PSS {pss / 1024:.1f} MiB"
                if rss is not None and pss is not None
                else f"  pid {pid}: not readable"
                for pid, rss, pss in workers
            ),
            f"client: {options['concurrency']} threads, keep-alive; {options['requests']:,} requests per endpoint "
            f"in {options['rounds']} rounds, {options['relay_requests']:,} per relay phase, cap "
            f"{options['max_seconds']:g}s a phase; CPUs: {os.cpu_count()}",
        ]
        for phase in (ours, peer, baseline, relay_ok, relay_silent):
            if phase.errors:
                lines.append(f"{phase.name} errors (first 5): {phase.errors[:5]}")
        self.stdout.write("\n".join(lines))
        failures = []
        for phase, wanted in (
            (ours, options["requests"]),
            (peer, options["requests"]),
            (baseline, options["requests"]),
            (relay_ok, options["relay_requests"]),
            (relay_silent, options["relay_requests"]),
        ):
            if phase.errors:
                failures.append(f"{phase.name}: {len(phase.errors)} errors")
            if phase.sent < wanted:
                failures.append(f"{phase.name}: only {phase.sent} of {wanted} sent within the time cap")
        if ratio < options["min_ratio"]:
            failures.append(f"ratio {ratio:.2f} under {options['min_ratio']:g}")
        if filed != expected or audited != expected:
            failures.append(f"database holds {filed} reports and {audited} audit events, expected {expected}")
        if sent < expected_mail_sent or accepted < expected_mail_sent:
            failures.append(f"{sent} confirmations sent, {accepted} accepted, expected {expected_mail_sent}")
        if failures:
            self.stdout.write(self.style.WARNING("missed: " + "; ".join(failures)))
        else:
            self.stdout.write(self.style.SUCCESS("all targets met"))
        return failures
