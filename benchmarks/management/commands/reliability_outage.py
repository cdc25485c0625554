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

Its gunicorn, HTTP client and throwaway cluster are tests/harness.py, which the reliability tests
share.
"""

from __future__ import annotations

import json
import shutil
import subprocess  # nosec B404  # starts our own manage.py, never with user input
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from tests.harness import (
    BASE_DIR,
    DRILL_DB,
    AppServer,
    ClusterError,
    Http,
    ThrowawayCluster,
    app_environment,
    free_port,
    unclean_503,
)

PASSWORD = "outage-drill-password-1"  # noqa: S105  # nosec B105  # a throwaway account in a throwaway cluster


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
            API_TOKEN_RATE="off",  # noqa: S106  # nosec B106  # a rate limit, not a password
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
        except ClusterError as error:
            raise CommandError(f"the throwaway cluster failed: {error}") from error
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
        result = subprocess.run(  # noqa: S603  # nosec B603  # our own interpreter and manage.py
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
                    record(503, True, unclean_503(answer, api=True, what="POST /api/reports"))
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
                    record(503, True, unclean_503(answer, api=False, what="GET /report/mine/"), page=True)
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
