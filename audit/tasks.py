"""The audit chain's jobs for the worker (config/celery.py): seal what the app processes left (quiet
times), then write a signed checkpoint. Both also take their advisory lock in the database."""

from __future__ import annotations

import logging

from celery import shared_task

from audit.services import seal_pending
from audit.verify import CheckpointRefused, checkpoint_take
from config.tasks import single_run

logger = logging.getLogger(__name__)


@shared_task(name="reportdesk.audit_seal")
def audit_seal() -> int | None:
    with single_run("audit_seal", timeout=300) as mine:
        return seal_pending() if mine else None


@shared_task(name="reportdesk.audit_checkpoint")
def audit_checkpoint() -> int | None:
    with single_run("audit_checkpoint", timeout=300) as mine:
        if not mine:
            return None
        try:
            taken = checkpoint_take()
        except CheckpointRefused:
            # The chain does not verify: loud in the log (and audit_verify says where); never signed.
            logger.exception("audit_checkpoint refused to sign the chain")
            raise
        return taken.checkpoint.seq if taken.checkpoint else None
