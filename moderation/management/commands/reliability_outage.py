"""Database outage drill: PostgreSQL stops in the middle of a filing load and starts again.

It never touches the configured database. It makes a throwaway PostgreSQL cluster (Debian's initdb
and pg_ctl, run as the postgres user when started as root), migrates a database there, starts
gunicorn on it, drives a filing load through POST /api/reports from several clients (plus a
signed-in page view), stops the cluster with ``pg_ctl stop -m immediate`` (a crash: no shutdown
checkpoint, recovery on restart) in the middle of the load, starts it again and keeps the load
going. Then it reconciles:

- every answer was a 201, or a clean 503: JSON with Retry-After under /api/, the HTML page for the
  page view; never a 500 or a traceback, never a dropped connection;
- every report acknowledged with 201 is in the database with exactly one report.created audit event;
- nothing half-written: no report without its report.created event, no event without its report;
- the audit hash chain is intact (manage.py audit_verify);
- there were 503s during the outage and 201s after it (the drill really tested something).

It prints its findings and exits non-zero on failure. Run it as root or as the postgres user:

    python manage.py reliability_outage [--pg-port 5499] [--app-port 8190] [--data-dir /tmp/x]

The module also holds the harness the reliability tests share: `AppServer` (gunicorn as a
subprocess, always stopped), `Http` (a small client with cookies and CSRF that never follows
redirects), `ThrowawayCluster` and `free_port`.
"""

from __future__ import annotations

import contextlib
import glob
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess  # nosec B404 -- starts initdb/pg_ctl, our own gunicorn and manage.py, never with user input
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

BASE_DIR = Path(settings.BASE_DIR)
# The drill's database on the throwaway cluster; --prepare and --reconcile refuse any other.
DRILL_DB = "reliability_outage"
PASSWORD = "outage-drill-password-1"  # noqa: S105  # nosec B105: a throwaway account in a throwaway cluster


# --- the harness ---------------------------------------------------------------------------------


def free_port(candidates: range | list[int] | None = None) -> int:
    """A TCP port nobody listens on: the first free one of `candidates`, or any the kernel picks."""
    for port in candidates or [0]:
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return probe.getsockname()[1]
    raise RuntimeError(f"no free port in {candidates}")


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    set_cookies: list[str] = field(default_factory=list)  # every Set-Cookie header, as sent

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.body)


class Http:
    """An HTTP/1.1 client for one server, one connection per request (gunicorn's sync workers close
    them anyway). Keeps cookies, adds the CSRF token to form posts, never follows redirects."""

    def __init__(self, base_url: str, *, timeout: float = 20, headers: dict[str, str] | None = None) -> None:
        parsed = urllib.parse.urlsplit(base_url)
        self.host, self.port = parsed.hostname or "127.0.0.1", parsed.port or 80
        self.timeout = timeout
        self.cookies: dict[str, str] = {}
        self.default_headers = dict(headers or {})  # sent with every request (Host, X-Forwarded-Proto...)

    def request(
        self,
        method: str,
        path: str,
        *,
        form: dict[str, Any] | None = None,
        json_body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        headers = {**self.default_headers, **(headers or {})}
        body: bytes | None = None
        if form is not None:
            data = dict(form)
            if method != "GET" and "csrftoken" in self.cookies:
                data.setdefault("csrfmiddlewaretoken", self.cookies["csrftoken"])
            body = urllib.parse.urlencode(data, doseq=True).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif json_body is not None:
            body = json.dumps(json_body).encode()
            headers["Content-Type"] = "application/json"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            content = response.read()
            set_cookies = response.headers.get_all("Set-Cookie") or []
            for header in set_cookies:
                for name, morsel in SimpleCookie(header).items():
                    if morsel["max-age"] == "0" or not morsel.value:
                        self.cookies.pop(name, None)
                    else:
                        self.cookies[name] = morsel.value
            answer_headers = {name.lower(): value for name, value in response.getheaders()}
            return Answer(response.status, answer_headers, content, set_cookies)
        finally:
            conn.close()

    def get(self, path: str, **kwargs: Any) -> Answer:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Answer:
        return self.request("POST", path, **kwargs)

    def sign_in(self, username: str, password: str) -> None:
        self.get("/accounts/login/")
        answer = self.post("/accounts/login/", form={"username": username, "password": password})
        if answer.status != 302:
            raise RuntimeError(f"sign-in of {username} failed: {answer.status} {answer.text[:300]}")


def database_url(settings_dict: dict[str, Any]) -> str:
    """A DATABASE_URL for the database Django is connected to (in tests: the live test database)."""
    if settings_dict["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{settings_dict['NAME']}"
    user = urllib.parse.quote(settings_dict.get("USER") or "")
    password = urllib.parse.quote(settings_dict.get("PASSWORD") or "")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host, port = settings_dict.get("HOST") or "127.0.0.1", settings_dict.get("PORT") or "5432"
    return f"postgres://{credentials}{host}:{port}/{settings_dict['NAME']}"


def app_environment(*, database_url: str, var_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of an app server or a manage.py child: nothing inherited but the basics."""
    keep = {name: os.environ[name] for name in ("PATH", "LANG", "HOME", "TZ") if name in os.environ}
    return {
        **keep,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_DEBUG": "0",
        "DATABASE_URL": database_url,
        "VAR_DIR": str(var_dir),
        "MEDIA_ROOT": str(var_dir / "media"),
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "LOG_LEVEL": "WARNING",
        **extra,
    }


class AppServer:
    """gunicorn serving config.wsgi on 127.0.0.1:`port`, in its own process group.

    Use it as a context manager, so that it is stopped whatever happens; `kill()` is a crash
    (SIGKILL to the whole group, nothing finishes)."""

    def __init__(
        self, *, port: int, env: dict[str, str], workers: int = 2, log_path: Path, probe_headers: dict | None = None
    ) -> None:
        self.port, self.env, self.workers, self.log_path = port, env, workers, Path(log_path)
        self.probe_headers = probe_headers or {}  # for the readiness probe (e.g. Host in production)
        self.process: subprocess.Popen | None = None
        self.url = f"http://127.0.0.1:{port}"

    def start(self, *, timeout: float = 40) -> AppServer:
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(self.workers),
            "--timeout",
            "30",
            "--graceful-timeout",
            "3",
        ]
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(  # noqa: S603  # nosec B603: our own interpreter and arguments
                command, cwd=BASE_DIR, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn on port {self.port} exited:\n{self.log_tail()}")
            try:
                if Http(self.url, timeout=2, headers=self.probe_headers).get("/accounts/login/").status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"gunicorn on port {self.port} not ready in {timeout}s:\n{self.log_tail()}")

    def _signal_group(self, sig: int) -> None:
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, sig)  # the group we started (start_new_session)

    def stop(self) -> None:
        if self.process is None:
            return
        self._signal_group(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._signal_group(signal.SIGKILL)
            self.process.wait(timeout=10)
        self._reap_group()

    def kill(self) -> None:
        if self.process is None:
            return
        self._signal_group(signal.SIGKILL)
        self.process.wait(timeout=10)
        self._reap_group()

    def _reap_group(self) -> None:
        # Workers orphaned by a killed arbiter still belong to the group: end them too.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and _group_alive(self.process.pid):
            time.sleep(0.05)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def __enter__(self) -> AppServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


class ThrowawayCluster:
    """A PostgreSQL cluster of its own in `data_dir` on 127.0.0.1:`port` (socket in the data dir)."""

    def __init__(self, *, data_dir: Path, port: int) -> None:
        self.data_dir, self.port = Path(data_dir), port
        self.bin_dir = self.find_binaries()
        self.log_path = self.data_dir / "postgresql.log"  # inside: written by the postgres user

    @staticmethod
    def find_binaries() -> Path | None:
        found = sorted(
            (Path(p).parent for p in glob.glob("/usr/lib/postgresql/*/bin/initdb")),
            key=lambda path: int(path.parent.name) if path.parent.name.isdigit() else 0,
        )
        return found[-1] if found and (found[-1] / "pg_ctl").exists() else None

    @classmethod
    def unavailable_reason(cls) -> str:
        """Why a cluster cannot be made here, or "" if it can."""
        if cls.find_binaries() is None:
            return "PostgreSQL server binaries not found (/usr/lib/postgresql/*/bin/initdb, pg_ctl)"
        if os.geteuid() == 0:
            if shutil.which("runuser") is None:
                return "runuser not found (needed to run initdb as the postgres user)"
            try:
                import pwd

                pwd.getpwnam("postgres")
            except KeyError:
                return "no postgres system user to run the cluster as"
        return ""

    def _as_owner(self, *command: str) -> list[str]:
        # initdb refuses to run as root: run the cluster as the postgres user then.
        return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else list(command)

    def _run(self, *command: str, timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run(  # noqa: S603  # nosec B603: fixed binaries, our own arguments
            self._as_owner(*command), capture_output=True, text=True, timeout=timeout, check=False
        )

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{DRILL_DB}"

    def create(self) -> None:
        self.destroy()
        self.data_dir.mkdir(parents=True)
        if os.geteuid() == 0:
            shutil.chown(self.data_dir, "postgres", "postgres")
            self.data_dir.chmod(0o700)
        result = self._run(
            str(self.bin_dir / "initdb"), "-D", str(self.data_dir), "-U", "postgres", "-A", "trust", "--no-sync"
        )
        if result.returncode != 0:
            raise CommandError(f"initdb failed: {result.stderr or result.stdout}")
        self.start()
        result = subprocess.run(  # noqa: S603  # nosec B603
            [str(self.bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", DRILL_DB],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        if result.returncode != 0:
            raise CommandError(f"createdb failed: {result.stderr}")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.data_dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50"
        result = self._run(
            str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-o", options, "-l", str(self.log_path), "-w",
            "-t", "60", "start",
        )  # fmt: skip
        if result.returncode != 0:
            raise CommandError(f"pg_ctl start failed: {result.stderr or result.stdout}\n{self.log_tail()}")

    def stop(self, mode: str = "fast") -> None:
        if (self.data_dir / "postmaster.pid").exists():
            self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-m", mode, "-w", "-t", "60", "stop")

    def destroy(self) -> None:
        if self.data_dir.exists():
            self.stop("immediate")
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


# --- the drill ------------------------------------------------------------------------------------


@dataclass
class Outcome:
    """What the clients saw."""

    acknowledged: list[str] = field(default_factory=list)  # ids of reports answered with 201
    statuses: Counter = field(default_factory=Counter)
    page_statuses: Counter = field(default_factory=Counter)
    bad: list[str] = field(default_factory=list)  # anything that is not a 201/200 or a clean 503
    during_outage_503: int = 0
    after_restart_201: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


class Command(BaseCommand):
    help = (
        "Outage drill on a throwaway PostgreSQL cluster: stop the database in the middle of a filing "
        "load and start it again; check the clean 503s and that every acknowledged report is stored "
        "with its audit event. Exits non-zero on failure."
    )

    def add_arguments(self, parser):
        parser.add_argument("--pg-port", type=int, default=0, help="the throwaway cluster's port (default: 5499)")
        parser.add_argument("--app-port", type=int, default=0, help="gunicorn's port (default: a free one from 8190)")
        parser.add_argument("--data-dir", default="", help="the cluster's data directory (default: a new one in /tmp)")
        parser.add_argument("--clients", type=int, default=4, help="filing clients in parallel")
        parser.add_argument("--before", type=float, default=3.0, help="seconds of load before the outage")
        parser.add_argument("--outage", type=float, default=3.0, help="seconds the database stays down")
        parser.add_argument("--after", type=float, default=4.0, help="seconds of load after the restart")
        parser.add_argument("--targets", type=int, default=3000, help="targets to file on (one report each)")
        parser.add_argument("--keep", action="store_true", help="leave the cluster and logs for inspection")
        # Steps run in a child process whose database is the drill's (not for people).
        parser.add_argument("--prepare", action="store_true", help="(internal) set up accounts and targets")
        parser.add_argument("--reconcile", default="", help="(internal) check the database against a JSON file")

    # --- the child steps, run with DATABASE_URL on the throwaway cluster --------------------------

    def _refuse_other_databases(self) -> None:
        if connection.vendor != "postgresql" or connection.settings_dict["NAME"] != DRILL_DB:
            raise CommandError(f"--prepare and --reconcile run only on the drill's own database {DRILL_DB!r}")

    def _prepare(self, *, clients: int, targets: int) -> None:
        from django.contrib.auth import get_user_model

        from audit import services as audit
        from reports.models import Target, TargetKind
        from reports.services import api_token_create

        self._refuse_other_databases()
        User = get_user_model()
        # Only the first reporter signs in (for the page view); a password hash costs half a second.
        owner = User.objects.create_user("drill-owner", "owner@example.test")
        reporters = [
            User.objects.create_user(f"drill-reporter-{n}", f"reporter{n}@example.test", PASSWORD if n == 0 else None)
            for n in range(clients)
        ]
        tokens = [api_token_create(actor=reporter, name="outage drill")[1] for reporter in reporters]
        # Plain rows for speed: targets are the platform's data, registered long before the drill.
        with transaction.atomic():
            rows = Target.objects.bulk_create(
                Target(kind=TargetKind.MESSAGE, external_id=f"drill-{n}", owner=owner, title=f"Message {n}")
                for n in range(targets)
            )
            audit.record(
                actor=audit.SYSTEM,
                event_type="target.registered",
                object_type="target",
                object_id="drill",
                data={"count": len(rows)},
            )
        body = {
            "usernames": [r.username for r in reporters],
            "tokens": tokens,
            "targets": [str(pk) for pk in Target.objects.order_by("pk").values_list("public_id", flat=True)],
        }
        self.stdout.write(json.dumps(body))

    def _reconcile(self, path: str) -> None:
        from audit.models import AuditEvent
        from audit.services import seal_pending
        from audit.verify import verify
        from reports.models import Report

        self._refuse_other_databases()
        acknowledged = set(json.loads(Path(path).read_text())["acknowledged"])
        stored = {str(pk) for pk in Report.objects.values_list("pk", flat=True)}
        created = Counter(
            AuditEvent.objects.filter(event_type="report.created", object_type="report").values_list(
                "object_id", flat=True
            )
        )
        # Events committed just before the outage may still wait for the sealer: seal, then walk.
        seal_pending()
        chain = verify()
        self.stdout.write(
            json.dumps(
                {
                    "stored": len(stored),
                    "missing": sorted(acknowledged - stored),
                    "without_event": sorted(pk for pk in stored if created[pk] != 1),
                    "orphan_events": sorted(pk for pk in created if pk not in stored),
                    "stored_not_acknowledged": sorted(stored - acknowledged),
                    "chain_checked": chain.checked,
                    "chain_unsealed": chain.unsealed,
                    "chain_problem": "" if chain.intact else chain.problems[0],
                }
            )
        )

    # --- the drill itself ---------------------------------------------------------------------------

    def _say(self, message: str) -> None:
        self.stdout.write(f"[{time.monotonic() - self.started:5.1f}s] {message}")

    def handle(self, *args, **options):
        self.started = time.monotonic()
        if options["prepare"]:
            return self._prepare(clients=options["clients"], targets=options["targets"])
        if options["reconcile"]:
            return self._reconcile(options["reconcile"])

        reason = ThrowawayCluster.unavailable_reason()
        if reason:
            raise CommandError(f"cannot run the drill: {reason}")
        pg_port = options["pg_port"] or free_port(range(5499, 5489, -1))
        app_port = options["app_port"] or free_port(range(8190, 8200))
        # bandit B108: mkdtemp makes a fresh private directory; /tmp because the postgres user must reach it
        work = Path(tempfile.mkdtemp(prefix="reliability-outage-", dir="/tmp"))  # noqa: S108  # nosec B108
        work.chmod(0o755)  # the postgres user must reach the data directory inside
        data_dir = Path(options["data_dir"]) if options["data_dir"] else work / "pgdata"
        cluster = ThrowawayCluster(data_dir=data_dir, port=pg_port)
        env = app_environment(
            database_url=cluster.url,
            var_dir=work / "var",
            API_TOKEN_RATE="off",  # noqa: S106  # nosec B106 -- a rate limit, not a password
            REPORTS_PER_HOUR_LIMIT="1000000",
            DB_CONN_MAX_AGE="60",  # as in production: persistent connections that the outage breaks
        )
        failures: list[str] = []
        try:
            self._say(f"cluster: {data_dir} on port {pg_port}; app on port {app_port}")
            cluster.create()
            self._say("cluster created")
            self._child(env, "migrate", "--noinput", timeout=300)
            self._say("migrated")
            setup = json.loads(
                self._child(
                    env,
                    "reliability_outage",
                    "--prepare",
                    "--clients",
                    str(options["clients"]),
                    "--targets",
                    str(options["targets"]),
                ).splitlines()[-1]
            )
            self._say(f"prepared {len(setup['targets'])} targets and {len(setup['tokens'])} reporters")
            server = AppServer(port=app_port, env=env, workers=3, log_path=work / "gunicorn.log")
            with server:
                self._say("gunicorn ready; filing load starts")
                outcome = self._load(server, cluster, setup, options)
            failures += self._judge_answers(outcome)
            ack_file = work / "acknowledged.json"
            ack_file.write_text(json.dumps({"acknowledged": outcome.acknowledged}))
            found = json.loads(self._child(env, "reliability_outage", "--reconcile", str(ack_file)).splitlines()[-1])
            failures += self._judge_database(found, outcome)
            verify = subprocess.run(  # noqa: S603  # nosec B603
                [sys.executable, "manage.py", "audit_verify"],
                cwd=BASE_DIR,
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            self._say(f"audit_verify: {verify.stdout.strip() or verify.stderr.strip()}")
            if verify.returncode != 0:
                failures.append(f"audit_verify failed: {verify.stderr.strip()}")
            if failures and server.log_tail():
                self.stdout.write("gunicorn log (tail):\n" + server.log_tail(30))
        finally:
            if options["keep"]:
                cluster.stop()
                self.stdout.write(f"kept: {work} (cluster stopped; start it with pg_ctl -D {data_dir})")
            else:
                cluster.destroy()
                shutil.rmtree(work, ignore_errors=True)
        self._say("done")
        if failures:
            for failure in failures:
                self.stderr.write(f"FAIL: {failure}")
            raise CommandError(f"outage drill failed: {len(failures)} problem(s)")
        self.stdout.write(self.style.SUCCESS("OUTAGE DRILL PASSED"))

    def _child(self, env: dict[str, str], *args: str, timeout: float = 120) -> str:
        result = subprocess.run(  # noqa: S603  # nosec B603: our own interpreter and manage.py
            [sys.executable, "manage.py", *args],
            cwd=BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if result.returncode != 0:
            raise CommandError(f"manage.py {' '.join(args)} failed:\n{result.stderr[-3000:]}")
        return result.stdout

    def _load(self, server: AppServer, cluster: ThrowawayCluster, setup: dict, options: dict) -> Outcome:
        outcome = Outcome()
        targets = iter(setup["targets"])
        targets_lock = threading.Lock()
        phase = {"name": "before"}  # before -> down -> after
        stop = threading.Event()

        def record(status: int, ok: bool, problem: str = "", *, page: bool = False) -> None:
            with outcome.lock:
                (outcome.page_statuses if page else outcome.statuses)[status] += 1
                if problem:
                    outcome.bad.append(problem)
                if status == 503 and phase["name"] == "down":
                    outcome.during_outage_503 += 1

        def filer(token: str) -> None:
            client = Http(server.url, timeout=30)
            while not stop.is_set():
                with targets_lock:
                    target = next(targets, None)
                if target is None:
                    return
                try:
                    answer = client.post(
                        "/api/reports",
                        json_body={"report_type": "message", "target_id": target, "reason": "Spam links, drill."},
                        headers={"Authorization": f"Token {token}", "Accept": "application/json"},
                    )
                except OSError as error:  # gunicorn must always answer
                    record(0, False, f"POST /api/reports: no answer ({error})")
                    continue
                if answer.status == 201:
                    with outcome.lock:
                        outcome.acknowledged.append(answer.json()["id"])
                        if phase["name"] == "after":
                            outcome.after_restart_201 += 1
                    record(201, True)
                elif answer.status == 503:
                    record(503, True, _unclean_503(answer, api=True, what="POST /api/reports"))
                    time.sleep(0.05)  # a client honours Retry-After; a short pause keeps the drill short
                else:
                    record(answer.status, False, f"POST /api/reports: {answer.status} {answer.text[:200]}")

        # A signed-in page view: the session, the sanction check and the page all need the database.
        page_client = Http(server.url, timeout=30)
        page_client.sign_in(setup["usernames"][0], PASSWORD)  # before the load: it must not meet the outage

        def reader() -> None:
            client = page_client
            while not stop.is_set():
                try:
                    answer = client.get("/report/mine/")
                except OSError as error:
                    record(0, False, f"GET /report/mine/: no answer ({error})", page=True)
                    continue
                if answer.status == 503:
                    record(503, True, _unclean_503(answer, api=False, what="GET /report/mine/"), page=True)
                elif answer.status != 200:
                    record(answer.status, False, f"GET /report/mine/: {answer.status} {answer.text[:200]}", page=True)
                else:
                    record(200, True, page=True)
                time.sleep(0.1)

        threads = [threading.Thread(target=filer, args=(token,), daemon=True) for token in setup["tokens"]]
        threads.append(threading.Thread(target=reader, daemon=True))
        for thread in threads:
            thread.start()
        try:
            # The load runs for `before` seconds and until some reports are in (on a busy machine it
            # starts slowly), at most 30 seconds more.
            time.sleep(options["before"])
            deadline = time.monotonic() + 30
            while len(outcome.acknowledged) < 20 and time.monotonic() < deadline:
                time.sleep(0.1)
            with outcome.lock:
                phase["name"] = "down"
            down_at = time.monotonic()
            cluster.stop("immediate")
            self._say(f"database stopped (immediate) after {len(outcome.acknowledged)} acknowledged reports")
            time.sleep(options["outage"])
            cluster.start()
            with outcome.lock:
                phase["name"] = "after"
            self._say(f"database started again after {time.monotonic() - down_at:.1f}s")
            time.sleep(options["after"])
            deadline = time.monotonic() + 30
            while outcome.after_restart_201 < 20 and time.monotonic() < deadline:
                time.sleep(0.1)
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=60)
        if any(thread.is_alive() for thread in threads):
            outcome.bad.append("a client thread did not finish within 60s")
        return outcome

    def _judge_answers(self, outcome: Outcome) -> list[str]:
        self.stdout.write(
            f"filing answers: {dict(sorted(outcome.statuses.items()))}; page answers: "
            f"{dict(sorted(outcome.page_statuses.items()))}; 503 during the outage: {outcome.during_outage_503}; "
            f"201 after the restart: {outcome.after_restart_201}"
        )
        failures = [f"unclean answer: {problem}" for problem in sorted(set(outcome.bad))[:20]]
        if not outcome.during_outage_503:
            failures.append("no 503 was seen while the database was down: the outage was not exercised")
        if not outcome.after_restart_201:
            failures.append("no report was acknowledged after the restart: the app did not recover")
        if not outcome.page_statuses.get(503):
            failures.append("the signed-in page view never saw the outage")
        return failures

    def _judge_database(self, found: dict, outcome: Outcome) -> list[str]:
        self.stdout.write(
            f"database: {found['stored']} reports stored, {len(outcome.acknowledged)} acknowledged, "
            f"{len(found['stored_not_acknowledged'])} stored but not acknowledged (commits whose answer was lost); "
            f"audit chain: {found['chain_checked']} events checked"
        )
        failures = []
        if found["missing"]:
            failures.append(f"{len(found['missing'])} acknowledged reports are missing: {found['missing'][:5]}")
        if found["without_event"]:
            failures.append(f"{len(found['without_event'])} reports lack one report.created event")
        if found["orphan_events"]:
            failures.append(f"{len(found['orphan_events'])} report.created events have no report")
        if found["chain_problem"]:
            failures.append(f"audit chain broken at {found['chain_problem']}")
        if found["chain_unsealed"]:
            failures.append(f"{found['chain_unsealed']} audit events left out of the chain after sealing")
        if len(set(outcome.acknowledged)) != len(outcome.acknowledged):
            failures.append("one report id was acknowledged twice")
        return failures


def _unclean_503(answer: Answer, *, api: bool, what: str) -> str:
    """ "" if the 503 is the clean one (Retry-After; JSON under /api/, the HTML page elsewhere)."""
    if "retry-after" not in answer.headers:
        return f"{what}: 503 without Retry-After"
    if "Traceback" in answer.text:
        return f"{what}: 503 with a traceback"
    if api:
        try:
            body = answer.json()
        except ValueError:
            return f"{what}: 503 that is not JSON: {answer.text[:120]}"
        return "" if isinstance(body, dict) and body.get("detail") else f"{what}: 503 JSON without detail"
    if "text/html" not in answer.headers.get("content-type", "") or "Briefly unavailable" not in answer.text:
        return f"{what}: 503 that is not the service page: {answer.text[:120]}"
    return ""
