"""What the reliability tests and the outage drill (benchmarks/management/commands/reliability_outage.py)
share: `AppServer` (gunicorn as a subprocess, always stopped), `Http` (a small client with cookies
and CSRF that never follows redirects), `ThrowawayCluster` (a PostgreSQL cluster of its own),
`free_port`, the environment of a child process, and what counts as a clean 503.

It lives in tests/ (not in a management command, which tests must not import) and imports no
Django module, so a test and the drill use it the same way.
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
import subprocess  # nosec B404  # starts initdb/pg_ctl and our own gunicorn, never with user input
import sys
import time
import urllib.parse
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parent.parent
# The drill's database on the throwaway cluster.
DRILL_DB = "reliability_outage"


# --- servers and clients ---------------------------------------------------------------------------------


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
            self.process = subprocess.Popen(  # noqa: S603  # nosec B603  # our own interpreter and arguments
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


class ClusterError(RuntimeError):
    """initdb, createdb or pg_ctl failed (the message has their output)."""


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
        return subprocess.run(  # noqa: S603  # nosec B603  # fixed binaries, our own arguments
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
            raise ClusterError(f"initdb failed: {result.stderr or result.stdout}")
        self.start()
        result = subprocess.run(  # noqa: S603  # nosec B603
            [str(self.bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", DRILL_DB],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        if result.returncode != 0:
            raise ClusterError(f"createdb failed: {result.stderr}")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.data_dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50"
        result = self._run(
            str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-o", options, "-l", str(self.log_path), "-w",
            "-t", "60", "start",
        )  # fmt: skip
        if result.returncode != 0:
            raise ClusterError(f"pg_ctl start failed: {result.stderr or result.stdout}\n{self.log_tail()}")

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


def unclean_503(answer: Answer, *, api: bool, what: str) -> str:
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


# --- the task engine and the mail relay ------------------------------------------------------------------


class CeleryProcess:
    """`celery -A config worker` or `celery -A config beat` as a subprocess in its own process group.

    `kill()` is a crash (SIGKILL: nothing finishes, no message is acknowledged); `stop()` is a warm
    shutdown. Each test run passes its own CELERY_QUEUE, so runs sharing a Redis never meet."""

    def __init__(self, kind: str, *, env: dict[str, str], log_path: Path, name: str = "worker") -> None:
        if kind not in {"worker", "beat"}:
            raise ValueError(kind)
        self.kind, self.env, self.log_path, self.name = kind, env, Path(log_path), name
        self.process: subprocess.Popen | None = None

    def command(self) -> list[str]:
        base = [sys.executable, "-m", "celery", "-A", "config", self.kind, "--loglevel", "INFO"]
        if self.kind == "worker":
            # One task at a time in the one process, so that a SIGKILL hits the task itself; no
            # gossip or mingle with other workers on the same Redis (other test runs).
            return base + [
                "--pool", "solo", "--hostname", f"{self.name}@%h", "--queues", self.env["CELERY_QUEUE"],
                "--without-mingle", "--without-gossip", "--without-heartbeat",
            ]  # fmt: skip
        return base + ["--schedule", str(self.log_path.with_suffix(".schedule")), "--max-interval", "1"]

    def start(self, *, ready_text: str | None = None, timeout: float = 60) -> CeleryProcess:
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(  # noqa: S603  # nosec B603  # our own interpreter and arguments
                self.command(),
                cwd=BASE_DIR,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        ready_text = ready_text or ("ready." if self.kind == "worker" else "beat: Starting...")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"celery {self.kind} exited:\n{self.log_tail()}")
            if ready_text in self.log_path.read_text(errors="replace"):
                return self
            time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"celery {self.kind} not ready in {timeout}s:\n{self.log_tail()}")

    def _signal_group(self, sig: int) -> None:
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, sig)

    def kill(self) -> None:
        if self.process is None:
            return
        self._signal_group(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self._signal_group(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


class SmtpSink:
    """A real SMTP server on loopback (aiosmtpd, in a thread) that keeps what it accepted.

    `rcpt_delay` slows every RCPT TO: a client killed during it never reached DATA, so, as with any
    SMTP server, nothing was accepted. `accepted` holds (Message-ID, subject, recipients) per message."""

    def __init__(self, *, rcpt_delay: float = 0.0, port: int | None = None, record: Path | None = None) -> None:
        import asyncio
        import email
        import logging

        from aiosmtpd.controller import Controller

        logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every SMTP line at INFO

        self.accepted: list[tuple[str, str, list[str]]] = []
        self.rcpts_begun = 0  # RCPT commands received, counted before their delay
        self.rcpt_delay = rcpt_delay
        sink = self

        class Handler:
            async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
                sink.rcpts_begun += 1
                if sink.rcpt_delay:
                    await asyncio.sleep(sink.rcpt_delay)
                envelope.rcpt_tos.append(address)
                return "250 OK"

            async def handle_DATA(self, server, session, envelope):  # noqa: N802
                message = email.message_from_bytes(envelope.content)
                sink.accepted.append((message["Message-ID"], str(message["Subject"]), list(envelope.rcpt_tos)))
                if record is not None:
                    with record.open("a") as lines:
                        lines.write(f"{message['Message-ID']}\n")
                return "250 Message accepted for delivery"

        self.port = port or free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> SmtpSink:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()


class SmtpSinkProcess:
    """An SmtpSink in a process of its own, for a benchmark: in the load generator's process its
    SMTP work would take turns with the client threads on one interpreter lock and slow the client
    down for exactly the endpoint that sends mail. `accepted` is the Message-IDs it accepted, read
    from the file the process appends each one to."""

    def __init__(self, *, record: Path) -> None:
        self.port = free_port()
        self.record = Path(record)
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> SmtpSinkProcess:
        self.record.write_text("")
        self.process = subprocess.Popen(  # noqa: S603  # nosec B603  # our own interpreter and module
            [sys.executable, "-m", "tests.harness", "smtp-sink", str(self.port), str(self.record)],
            cwd=BASE_DIR,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return self
            if self.process.poll() is not None:
                raise RuntimeError(f"the SMTP sink exited with {self.process.returncode}")
            time.sleep(0.1)
        self.__exit__()
        raise RuntimeError("the SMTP sink did not listen within 30 seconds")

    def __exit__(self, *exc: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()

    @property
    def accepted(self) -> list[str]:
        return self.record.read_text().splitlines()


class SilentRelay:
    """A mail relay that accepts TCP connections and never says a word (a hung relay): an SMTP
    client waits for its greeting until its own timeout."""

    def __init__(self) -> None:
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(128)  # the kernel completes the handshakes; nobody ever accepts
        self.port = self.socket.getsockname()[1]

    def __enter__(self) -> SilentRelay:
        return self

    def __exit__(self, *exc: object) -> None:
        self.socket.close()


if __name__ == "__main__" and sys.argv[1:2] == ["smtp-sink"]:
    # SmtpSinkProcess's child: python -m tests.harness smtp-sink PORT RECORD
    sink_port, sink_record = int(sys.argv[2]), Path(sys.argv[3])
    with SmtpSink(port=sink_port, record=sink_record):
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        while True:
            time.sleep(3600)
