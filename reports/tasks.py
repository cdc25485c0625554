"""The reports app's task for the worker (config/celery.py schedules it; commits that write mail wake it)."""

from __future__ import annotations

import logging

from celery import shared_task

from reports import outbox

logger = logging.getLogger(__name__)


@shared_task(name=outbox.DELIVER_TASK)
def deliver_mail(limit: int = 500) -> dict[str, int]:
    """Deliver the mail outbox. No lock: rows are claimed one by one, so workers deliver side by side."""
    result = outbox.deliver_due(limit=limit)
    if result.sent or result.failed:
        logger.info("mail outbox: %s sent, %s failed, %s old ones purged", result.sent, result.failed, result.purged)
    return {"sent": result.sent, "failed": result.failed, "purged": result.purged}
