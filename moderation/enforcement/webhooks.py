"""The outbox: webhooks to the host platform, written in the transaction of the change they
announce and delivered by a worker (the `reportdesk.deliver_webhooks` task, woken after the commit
and run on the schedule of config/celery.py), HMAC-signed, retried with backoff until accepted.

Receiver check: hex(HMAC-SHA256(secret, f"{X-ReportDesk-Timestamp}.{raw body}")) must equal the
X-ReportDesk-Signature header after its "sha256=" prefix.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

from audit import services as audit
from config import tasks
from config.retry import backoff
from moderation.enforcement.models import OutboxEvent

logger = logging.getLogger(__name__)

#: The task the worker runs to deliver (config/celery.py's schedule names it too).
DELIVER_TASK = "reportdesk.deliver_webhooks"


def enqueue(*, event_type: str, payload: dict[str, Any]) -> OutboxEvent:
    """Write a webhook to the outbox; must run inside the caller's transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("webhooks.enqueue() must run inside the change's transaction")
    body = json.loads(json.dumps(payload, cls=DjangoJSONEncoder))
    event = OutboxEvent.objects.create(event_type=event_type, payload=body, next_attempt_at=timezone.now())
    if settings.WEBHOOK_URL:
        tasks.wake_after_commit(DELIVER_TASK, run_here=deliver_due)
    return event


def sign(*, secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


@dataclass
class DeliveryResult:
    delivered: list[uuid.UUID] = field(default_factory=list)
    failed: dict[uuid.UUID, str] = field(default_factory=dict)


def _post(event: OutboxEvent) -> None:
    url = settings.WEBHOOK_URL
    if not url.startswith(("http://", "https://")):
        raise ValueError("WEBHOOK_URL must be an http(s) URL")
    body = json.dumps(
        {
            "id": str(event.id),
            "type": event.event_type,
            "created_at": event.created_at.isoformat(),
            "data": event.payload,
        },
        separators=(",", ":"),
    ).encode()
    timestamp = str(int(time.time()))
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "ReportDesk-Webhook/1",
            "X-ReportDesk-Event": event.event_type,
            "X-ReportDesk-Delivery": str(event.id),
            "X-ReportDesk-Timestamp": timestamp,
            "X-ReportDesk-Signature": sign(secret=settings.WEBHOOK_SECRET, timestamp=timestamp, body=body),
        },
    )
    # bandit B310: http(s) checked above
    with urllib.request.urlopen(request, timeout=settings.WEBHOOK_TIMEOUT_SECONDS) as response:  # noqa: S310  # nosec B310
        if not 200 <= response.status < 300:
            raise urllib.error.HTTPError(url, response.status, "not a 2xx answer", response.headers, None)


def deliver_due(*, ids: list[uuid.UUID] | None = None, limit: int = 500, now: datetime | None = None) -> DeliveryResult:
    """Deliver due events one by one. Each is locked (SKIP LOCKED on PostgreSQL) while it is sent,
    so several workers never send the same event; a failure schedules the next attempt."""
    result = DeliveryResult()
    if not settings.WEBHOOK_URL:
        return result
    for _ in range(limit):
        with transaction.atomic():
            due = OutboxEvent.objects.filter(delivered_at__isnull=True, next_attempt_at__lte=now or timezone.now())
            if ids is not None:
                due = due.filter(id__in=ids)
            if connection.features.has_select_for_update_skip_locked:
                due = due.select_for_update(skip_locked=True)
            event = due.order_by("next_attempt_at", "created_at").first()
            if event is None:
                break
            event.attempts += 1
            try:
                _post(event)
            except (OSError, ValueError, urllib.error.URLError) as exc:
                event.last_error = f"{type(exc).__name__}: {exc}"[:1000]
                event.next_attempt_at = timezone.now() + backoff(event.attempts)
                event.save(update_fields=["attempts", "last_error", "next_attempt_at"])
                result.failed[event.id] = event.last_error
                logger.warning("webhook %s failed (attempt %s): %s", event.id, event.attempts, event.last_error)
                if ids is None:
                    # The receiver is probably down: leave the rest for the next run.
                    break
                continue
            event.delivered_at = timezone.now()
            event.last_error = ""
            event.save(update_fields=["attempts", "delivered_at", "last_error"])
            audit.record(
                actor=audit.SYSTEM,
                event_type="webhook.delivered",
                object_type="outbox",
                object_id=event.id,
                data={"event_type": event.event_type, "attempts": event.attempts},
            )
            result.delivered.append(event.id)
    return result
