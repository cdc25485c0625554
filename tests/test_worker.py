"""The worker and the schedule as they run in production: real `celery worker` and `celery beat`
processes on the real Redis (127.0.0.1:6379), a real SMTP server (aiosmtpd) and a real webhook
receiver on loopback, all on the live test database.

- A worker killed (SIGKILL) in the middle of delivering mail, and again in the middle of delivering
  webhooks, is restarted: every mail and every webhook is accepted exactly once.
- Two schedulers and two workers race on the same due work (overdue reports, mail, webhooks): each
  report is escalated once and its alert mailed once, each mail and webhook accepted once.
- Filing through gunicorn with a broker never waits on the mail relay, even one that never answers.

Each test run has its own queue (CELERY_QUEUE) and key prefix on the shared Redis.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import select
import socket
import threading
import time
import uuid
from collections import Counter
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import redis
from django.db import connection
from django.utils import timezone

from audit.models import AuditEvent
from moderation.enforcement.models import OutboxEvent
from reports.models import OutboxMail, Report
from reports.services import api_token_create
from tests.factories import OutboxEventFactory, OutboxMailFactory, ReportFactory, TargetFactory, UserFactory
from tests.harness import (
    AppServer,
    CeleryProcess,
    Http,
    SilentRelay,
    SmtpSink,
    app_environment,
    database_url,
    free_port,
)

REDIS = "redis://127.0.0.1:6379/12"
SECRET = "worker-test-webhook-secret"


def _redis_answers() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not _redis_answers(), reason="needs the Redis at 127.0.0.1:6379"),
]


class Receiver:
    """The platform's webhook endpoint. A delivery counts as accepted only when its sender is still
    there to get the answer (`delay` seconds after the request came in): a sender killed meanwhile
    has not had its delivery accepted, and must send it again."""

    def __init__(self) -> None:
        self.delay = 0.0
        self.begun = 0  # requests received, counted before their delay
        self.accepted: list[str] = []
        self.abandoned: list[str] = []
        self.bad_signatures: list[str] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                delivery = self.headers["X-ReportDesk-Delivery"]
                signed = self.headers["X-ReportDesk-Timestamp"].encode() + b"." + body
                expected = "sha256=" + hmac.new(SECRET.encode(), signed, hashlib.sha256).hexdigest()
                if not hmac.compare_digest(expected, self.headers["X-ReportDesk-Signature"]):
                    receiver.bad_signatures.append(delivery)
                receiver.begun += 1
                time.sleep(receiver.delay)
                if _peer_gone(self.connection):
                    receiver.abandoned.append(delivery)
                    return
                receiver.accepted.append(json.loads(body)["id"])
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _peer_gone(sock: socket.socket) -> bool:
    readable, _, _ = select.select([sock], [], [], 0)
    if not readable:
        return False
    try:
        return sock.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True


@pytest.fixture
def sink():
    with SmtpSink() as running:
        yield running


@pytest.fixture
def receiver():
    running = Receiver()
    yield running
    running.close()


@pytest.fixture
def engine(tmp_path, sink, receiver):
    """Starts workers and schedulers on this run's own queue; stops (kills) them all at the end."""
    queue = f"test-{uuid.uuid4().hex[:12]}"
    started: list[CeleryProcess] = []

    class Engine:
        def env(self, **extra: str) -> dict[str, str]:
            settings = dict(
                CELERY_BROKER_URL=REDIS,
                CELERY_QUEUE=queue,
                CACHE_KEY_PREFIX=queue,
                EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
                EMAIL_HOST="127.0.0.1",
                EMAIL_PORT=str(sink.port),
                EMAIL_TIMEOUT="5",
                MAIL_OUTBOX_LEASE_SECONDS="3",
                WEBHOOK_URL=receiver.url,
                WEBHOOK_SECRET=SECRET,
                MODERATION_ALERT_EMAILS="oncall@example.test",
                AUDIT_CHECKPOINT_DIR=str(tmp_path / "checkpoints"),
                AUDIT_SEAL_INTERVAL="0",
                LOG_LEVEL="INFO",
            )
            settings.update(extra)
            return app_environment(database_url=database_url(connection.settings_dict), var_dir=tmp_path, **settings)

        def worker(self, name: str) -> CeleryProcess:
            process = CeleryProcess("worker", env=self.env(), log_path=tmp_path / f"{name}.log", name=name)
            started.append(process)
            return process.start()

        def beat(self, name: str, *, every: float = 1.0) -> CeleryProcess:
            env = self.env(CELERY_SCHEDULE_SECONDS=str(every))
            process = CeleryProcess("beat", env=env, log_path=tmp_path / f"{name}.log", name=name)
            started.append(process)
            return process.start()

        def logs(self) -> str:
            return "\n".join(f"--- {p.name} ({p.kind})\n{p.log_tail(60)}" for p in started)

    yield Engine()
    for process in started:
        process.kill()
    client = redis.Redis.from_url(REDIS)
    for key in client.scan_iter(f"{queue}*"):
        client.delete(key)
    client.close()


def wait_for(condition, *, timeout: float, what: str, engine=None, poll: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(poll)
    raise AssertionError(f"timed out waiting for {what}\n{engine.logs() if engine else ''}")


def test_a_worker_killed_mid_delivery_leaves_every_mail_and_webhook_to_go_out_exactly_once(engine, sink, receiver):
    mails = [OutboxMailFactory(recipients=[f"reporter{n}@example.test"], subject=f"mail {n}") for n in range(12)]
    # The kill must land while a delivery waits in the server's delay, never in the few milliseconds
    # between the server accepting and the worker recording it: a crash there is a resend by design
    # (at-least-once), and receivers de-duplicate on the Message-ID / X-ReportDesk-Delivery id. So
    # each kill waits for the next delivery to begin, polled well inside the delay.
    sink.rcpt_delay = 0.8
    beat = engine.beat("beat")

    # 1. The first worker delivers the mail; killed after three were accepted, the fourth under way.
    first = engine.worker("first")
    wait_for(
        lambda: len(sink.accepted) >= 3 and sink.rcpts_begun > len(sink.accepted),
        timeout=60, what="three mails and the fourth under way", engine=engine, poll=0.02,
    )  # fmt: skip
    first.kill()
    interrupted = OutboxMail.objects.filter(sent_at__isnull=True, claim__isnull=False).count()
    accepted_before_restart = len(sink.accepted)

    # 2. Webhooks arrive, and the receiver is slow. Restarted, the worker sends the rest of the mail
    #    (the interrupted one once its claim expired) and the webhooks, and is killed in their middle.
    sink.rcpt_delay = 0
    events = [OutboxEventFactory(payload={"n": n}) for n in range(12)]
    receiver.delay = 0.8
    second = engine.worker("second")
    wait_for(
        lambda: len(receiver.accepted) >= 3 and receiver.begun > len(receiver.accepted),
        timeout=90, what="three webhooks and the fourth under way", engine=engine, poll=0.02,
    )  # fmt: skip
    second.kill()

    # 3. Restarted again: everything goes out.
    receiver.delay = 0
    engine.worker("third")
    wait_for(
        lambda: (
            not OutboxMail.objects.filter(sent_at__isnull=True).exists()
            and not OutboxEvent.objects.filter(delivered_at__isnull=True).exists()
        ),
        timeout=90,
        what="every mail and webhook",
        engine=engine,
    )
    beat.kill()

    # Killed with the rest of its batch claimed (one lease, reports/outbox.py CLAIM_BATCH) and mail left.
    assert interrupted >= 1 and accepted_before_restart < 12, "killed with mail claimed and mail left"
    assert Counter(message_id for message_id, _, _ in sink.accepted) == Counter(
        f"<{row.pk}@reportdesk.outbox>" for row in mails
    ), "every mail accepted exactly once"
    assert Counter(receiver.accepted) == Counter(str(event.pk) for event in events), "every webhook once"
    assert receiver.abandoned, "the second worker was killed with a webhook under way"
    assert receiver.bad_signatures == []
    assert AuditEvent.objects.filter(event_type="webhook.delivered").count() == 12


def test_two_schedulers_and_two_workers_escalate_and_send_each_thing_once(engine, sink, receiver, tmp_path):
    now = timezone.now()
    overdue = [ReportFactory(due_at=now - timedelta(minutes=n + 1)) for n in range(10)]
    mails = [OutboxMailFactory(recipients=[f"reader{n}@example.test"]) for n in range(10)]
    events = [OutboxEventFactory(payload={"n": n}) for n in range(10)]
    for name in ("beat-a", "beat-b"):
        engine.beat(name)
    for name in ("worker-a", "worker-b"):
        engine.worker(name)

    wait_for(
        lambda: (
            Report.objects.filter(sla_alerted_at__isnull=False).count() == 10
            and not OutboxMail.objects.filter(sent_at__isnull=True).exists()
            and not OutboxEvent.objects.filter(delivered_at__isnull=True).exists()
        ),
        timeout=90,
        what="the sweep and both outboxes",
        engine=engine,
    )
    time.sleep(4)  # several more ticks of both schedulers: nothing more may happen

    breached = Counter(AuditEvent.objects.filter(event_type="report.sla_breached").values_list("object_id", flat=True))
    assert breached == Counter(str(r.pk) for r in overdue), "each report escalated once"
    subjects = [subject for _, subject, _ in sink.accepted if subject.startswith("[deadline]")]
    alerts = Counter(subject.split(" report ")[1].split()[0] for subject in subjects)
    assert alerts == Counter(r.short_id for r in overdue), "each alert mailed once"
    ids = Counter(message_id for message_id, _, _ in sink.accepted)
    assert all(n == 1 for n in ids.values()) and len(ids) == 20
    assert {f"<{row.pk}@reportdesk.outbox>" for row in mails} <= set(ids)
    assert Counter(receiver.accepted) == Counter(str(event.pk) for event in events)
    # Both workers did work, and both schedulers sent the jobs: the locks and claims kept it single.
    for name in ("worker-a", "worker-b"):
        assert "succeeded" in (tmp_path / f"{name}.log").read_text(), name
    for name in ("beat-a", "beat-b"):
        assert (tmp_path / f"{name}.log").read_text().count("Sending due task sla-sweep") >= 3, name


def test_filing_does_not_wait_on_a_relay_that_never_answers(engine, tmp_path):
    """gunicorn with a broker, a relay that accepts connections and never answers (EMAIL_TIMEOUT 8 s),
    a worker: after a warm-up filing per gunicorn worker, every filing answers well within the relay's
    timeout; the worker is the one that waits, and records the timeout on the row."""
    user = UserFactory()
    _, key = api_token_create(actor=user, name="test")
    targets = [TargetFactory() for _ in range(8)]
    with SilentRelay() as relay:
        env = engine.env(EMAIL_PORT=str(relay.port), EMAIL_TIMEOUT="8", API_TOKEN_RATE="off")
        engine_worker = CeleryProcess("worker", env=env, log_path=tmp_path / "silent-worker.log", name="silent")
        try:
            engine_worker.start()
            port = free_port()
            with AppServer(port=port, env=env, log_path=tmp_path / "gunicorn.log"):
                client = Http(f"http://127.0.0.1:{port}", headers={"Authorization": f"Token {key}"})
                took = []
                for target in targets:  # the first two warm the two gunicorn workers up (not counted)
                    started = time.monotonic()
                    answer = client.post(
                        "/api/reports",
                        json_body={"report_type": target.kind, "target_id": str(target.public_id), "reason": "Spam."},
                    )
                    took.append(time.monotonic() - started)
                    assert answer.status == 201, answer.text
            assert max(took[2:]) < 4, took  # the relay's timeout is 8 s: nobody waited for it
            assert OutboxMail.objects.filter(kind="report_received").count() == 8
            wait_for(
                lambda: OutboxMail.objects.exclude(last_error="").exists(),
                timeout=60,
                what="the worker's attempt to time out",
            )
            assert "timed out" in OutboxMail.objects.exclude(last_error="").first().last_error
            assert not OutboxMail.objects.filter(sent_at__isnull=False).exists()
        finally:
            engine_worker.kill()


def test_the_schedule_names_only_tasks_the_worker_has():
    from config.celery import SCHEDULE, app

    app.loader.import_default_modules()
    names = {entry["task"] for entry in SCHEDULE.values()}
    assert names == {
        "reportdesk.deliver_mail",
        "reportdesk.deliver_webhooks",
        "reportdesk.sla_sweep",
        "reportdesk.expire_sanctions",
        "reportdesk.rollup_reports",
        "reportdesk.audit_seal",
        "reportdesk.audit_checkpoint",
        "reportdesk.audit_reconcile",
        "reportdesk.rights_reconcile",
        "reportdesk.purge_evidence",
    }
    assert names <= set(app.tasks)
