"""The webhook outbox against a real HTTP receiver on loopback: signed, delivered after commit,
retried after a failure, delivered exactly once, nothing lost while the receiver is down."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from moderation.enforcement.actions import ActionKind
from moderation.enforcement.models import OutboxEvent
from moderation.enforcement.webhooks import backoff, deliver_due
from tests.factories import ReportFactory
from tests.test_enforcement import decide

pytestmark = pytest.mark.django_db


class Receiver:
    """A platform stand-in: records every request; answers with the next status in `answers`."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict, bytes]] = []
        self.answers: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                self.send_response(receiver.answers.pop(0) if receiver.answers else 204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(settings):
    receiver = Receiver()
    settings.WEBHOOK_URL = receiver.url
    settings.WEBHOOK_SECRET = "s3cret"
    yield receiver
    receiver.close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_delivered_after_commit_with_a_valid_signature(receiver, moderator, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        decide(moderator, ReportFactory(), ActionKind.WARNING, ladder_override_reason="")
    assert len(receiver.requests) == 1
    headers, body = receiver.requests[0]
    expected = hmac.new(b"s3cret", headers["X-Reportdesk-Timestamp"].encode() + b"." + body, hashlib.sha256).hexdigest()
    assert headers["X-Reportdesk-Signature"] == f"sha256={expected}"
    payload = json.loads(body)
    assert payload["type"] == "sanction.applied" and payload["data"]["kind"] == "warning"
    assert "reporter" not in body.decode()
    assert OutboxEvent.objects.get().delivered_at is not None


def test_a_failed_delivery_is_retried_with_backoff_and_delivered_once(receiver, moderator):
    decide(moderator, ReportFactory(), ActionKind.WARNING, ladder_override_reason="")  # on_commit not run here
    receiver.answers = [500]
    first = deliver_due()
    event = OutboxEvent.objects.get()
    assert list(first.failed) == [event.id] and event.delivered_at is None and event.attempts == 1
    assert event.next_attempt_at > timezone.now() + backoff(1) - timedelta(seconds=5)
    assert deliver_due().delivered == []  # not due yet
    second = deliver_due(now=event.next_attempt_at + timedelta(seconds=1))
    assert second.delivered == [event.id]
    assert deliver_due(now=timezone.now() + timedelta(days=1)).delivered == []  # never twice
    assert len(receiver.requests) == 2


def test_nothing_is_lost_while_the_receiver_is_down(settings, moderator, capsys):
    settings.WEBHOOK_URL = f"http://127.0.0.1:{_free_port()}/down"
    for _ in range(3):
        decide(moderator, ReportFactory(), ActionKind.WARNING, ladder_override_reason="")
    with pytest.raises(CommandError, match="retried"):
        call_command("deliver_webhooks")
    assert OutboxEvent.objects.filter(delivered_at__isnull=True).count() == 3

    receiver = Receiver()  # the platform comes back
    settings.WEBHOOK_URL = receiver.url
    try:
        OutboxEvent.objects.update(next_attempt_at=timezone.now())
        call_command("deliver_webhooks")
        assert "delivered 3, failed 0, still waiting 0" in capsys.readouterr().out
        assert len(receiver.requests) == 3
    finally:
        receiver.close()


def test_backoff_grows_and_is_capped():
    assert backoff(1) < backoff(2) < backoff(5)
    assert backoff(50) == timedelta(hours=1)
