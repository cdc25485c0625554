"""The webhook outbox survives the receiver being down and the app crashing: every event is
delivered once the receiver is back, exactly once, signed, even with two delivery workers at once.

Everything runs as separate processes on the live test database: a gunicorn app server where a
moderator takes decisions through the web pages, the platform's receiver (a real HTTP server on
loopback), and `manage.py deliver_webhooks`, the delivery job (run on two hosts at once).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from audit.models import AuditEvent
from moderation.enforcement.models import OutboxEvent
from reports.models import ReportStatus
from tests.factories import PASSWORD, ReportFactory, UserFactory
from tests.harness import (
    AppServer,
    Http,
    app_environment,
    database_url,
    free_port,
)

pytestmark = pytest.mark.django_db(transaction=True)

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET = "outbox-drill-secret"


class Receiver:
    """The platform's webhook endpoint on a fixed port; records each delivery and checks its signature."""

    def __init__(self, port: int) -> None:
        self.deliveries: list[dict] = []
        self.bad_signatures: list[str] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                signed = self.headers["X-ReportDesk-Timestamp"].encode() + b"." + body
                expected = "sha256=" + hmac.new(SECRET.encode(), signed, hashlib.sha256).hexdigest()
                if not hmac.compare_digest(expected, self.headers["X-ReportDesk-Signature"]):
                    receiver.bad_signatures.append(self.headers["X-ReportDesk-Delivery"])
                receiver.deliveries.append(json.loads(body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def decide_warning(client: Http, report_id) -> None:
    answer = client.post(
        f"/moderation/reports/{report_id}/decide/",
        form={
            "actions": "warning",
            "ground_type": "terms",
            "ground": "Terms of service §4.2 (harassment)",
            "facts": "Insults in the lobby, confirmed in the room log.",
        },
    )
    assert answer.status == 302, answer.text[:500]


def deliver_webhooks(env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", "deliver_webhooks"],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_outbox_survives_the_receiver_down_and_an_app_crash(tmp_path, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]  # what the server checks
    UserFactory(username="mod_outbox", role="moderator")
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    reports = [ReportFactory() for _ in range(6)]
    receiver_port = free_port(range(8100, 8200))  # nobody listens there yet: the receiver is down
    env = app_environment(
        database_url=database_url(connection.settings_dict),
        var_dir=tmp_path / "var",
        MEDIA_ROOT=str(settings.MEDIA_ROOT),
        WEBHOOK_URL=f"http://127.0.0.1:{receiver_port}/hooks",
        WEBHOOK_SECRET=SECRET,
        WEBHOOK_TIMEOUT_SECONDS="3",
    )
    app_port = free_port([p for p in range(8100, 8200) if p != receiver_port])
    log = tmp_path / "gunicorn.log"
    receiver = None
    server = AppServer(port=app_port, env=env, workers=1, log_path=log)
    try:
        # 1. The receiver is down: four decisions commit, each delivery right after commit fails.
        server.start()
        moderator = Http(server.url)
        moderator.sign_in("mod_outbox", PASSWORD)
        for report in reports[:4]:
            decide_warning(moderator, report.pk)
        waiting = list(OutboxEvent.objects.order_by("created_at"))
        assert len(waiting) == 4
        assert all(e.delivered_at is None and e.attempts == 1 and "refused" in e.last_error for e in waiting), [
            (e.attempts, e.last_error) for e in waiting
        ]

        # 2. The app crashes (SIGKILL: nothing in memory survives), the receiver comes back, the app restarts.
        server.kill()
        receiver = Receiver(receiver_port)
        server = AppServer(port=app_port, env=env, workers=1, log_path=log)
        server.start()
        moderator = Http(server.url)
        moderator.sign_in("mod_outbox", PASSWORD)
        # New decisions are delivered at once, after their commit.
        for report in reports[4:]:
            decide_warning(moderator, report.pk)
        assert len(receiver.deliveries) == 2

        # 3. The backoff of the four waiting events runs out (the clock moved on) and the delivery job
        #    runs on two hosts at the same time.
        assert OutboxEvent.objects.filter(delivered_at__isnull=True).count() == 4
        OutboxEvent.objects.filter(delivered_at__isnull=True).update(next_attempt_at=timezone.now())
        jobs = [deliver_webhooks(env), deliver_webhooks(env)]
        outputs = [job.communicate(timeout=60) for job in jobs]
        assert [job.returncode for job in jobs] == [0, 0], outputs
        delivered_counts = sorted(int(out.split("delivered ")[1].split(",")[0]) for out, _ in outputs)
        assert sum(delivered_counts) == 4, outputs
    finally:
        server.stop()
        if receiver is not None:
            receiver.close()

    # Every event delivered, exactly once, signed; each delivery on the audit record once.
    events = list(OutboxEvent.objects.all())
    assert len(events) == 6 and all(e.delivered_at is not None for e in events)
    received_ids = [delivery["id"] for delivery in receiver.deliveries]
    assert sorted(received_ids) == sorted(str(e.id) for e in events)  # each once, none missing
    assert receiver.bad_signatures == []
    assert {d["type"] for d in receiver.deliveries} == {"sanction.applied"}
    assert {d["data"]["account_id"] for d in receiver.deliveries} == {r.target.owner_id for r in reports}
    delivered_audit = AuditEvent.objects.filter(event_type="webhook.delivered")
    assert sorted(delivered_audit.values_list("object_id", flat=True)) == sorted(str(e.id) for e in events)
    assert {r.status for r in type(reports[0]).objects.all()} == {ReportStatus.RESOLVED}
