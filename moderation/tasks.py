"""The moderation app's scheduled jobs for the worker (config/celery.py), each the service its
management command calls, under its lock (config/tasks.py `single_run`)."""

from __future__ import annotations

import logging

from celery import shared_task

from config.tasks import single_run
from moderation import rollups
from moderation.reconcile import reconcile_and_record
from moderation.services import sla_sweep as sweep

logger = logging.getLogger(__name__)


@shared_task(name="reportdesk.sla_sweep")
def sla_sweep() -> int | None:
    """Escalate and alert what passed its deadline. Each report is also claimed and marked in its own
    transaction (moderation.services.sla_sweep), so even two sweeps at once escalate it once."""
    with single_run("sla_sweep", timeout=300) as mine:
        if not mine:
            return None
        escalated = len(sweep().escalated)
    if escalated:
        logger.info("sla_sweep: %s report(s) escalated", escalated)
    return escalated


@shared_task(name="reportdesk.rollup_reports")
def rollup_reports() -> int | None:
    """Fold the reports' and sanctions' changes into the dashboard's rollups (which also take an advisory lock)."""
    with single_run("rollup_reports", timeout=900) as mine:
        if not mine:
            return None
        return rollups.fold_pending().folded


@shared_task(name="reportdesk.audit_reconcile")
def audit_reconcile() -> int | None:
    """Every report's, sanction's and appeal's row against its audit log (moderation/reconcile.py), daily: each
    row that disagrees is logged as an error for the on-call person (ids and fields, nothing personal)."""
    with single_run("audit_reconcile", timeout=3600) as mine:
        if not mine:
            return None
        result = reconcile_and_record()
    for disagreement in result.disagreements:
        logger.error(
            "audit_reconcile: %s %s disagrees with its audit log (fields: %s; last recorded state: event %s)",
            disagreement.object_type,
            disagreement.object_id,
            ", ".join(disagreement.fields) or "none recorded",
            disagreement.event_id,
        )
    return len(result.disagreements)
