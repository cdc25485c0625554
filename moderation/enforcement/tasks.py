"""The enforcement app's jobs for the worker (config/celery.py): the webhook outbox's delivery (woken
by each commit that writes a webhook, and on the schedule), sanctions' expiry and evidence retention."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings

from config.tasks import single_run
from moderation.enforcement import retention, services, webhooks

logger = logging.getLogger(__name__)


@shared_task(name=webhooks.DELIVER_TASK)
def deliver_webhooks(limit: int = 500) -> int:
    """No lock: each event is claimed while it is sent (SKIP LOCKED), so workers deliver side by side."""
    result = webhooks.deliver_due(limit=limit)
    if result.failed:
        logger.warning("webhooks: %s delivered, %s failed", len(result.delivered), len(result.failed))
    return len(result.delivered)


@shared_task(name="reportdesk.expire_sanctions")
def expire_sanctions() -> int | None:
    with single_run("expire_sanctions", timeout=300) as mine:
        if not mine:
            return None
        return len(services.expire_sanctions())


@shared_task(name="reportdesk.purge_evidence")
def purge_evidence() -> int | None:
    with single_run("purge_evidence", timeout=3600) as mine:
        if not mine:
            return None
        return retention.purge_evidence(older_than_days=settings.EVIDENCE_RETENTION_DAYS).reports
