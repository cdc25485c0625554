"""The moderation app's scheduled jobs for the worker (config/celery.py), each the service its
management command calls, under its lock (config/tasks.py `single_run`)."""

from __future__ import annotations

import logging

from celery import shared_task

from config.tasks import single_run
from moderation import rollups
from moderation.reconcile import Result, reconcile, reconcile_and_record
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
    """Every report's, sanction's, appeal's and story's row and every account's rights against the audit log
    (moderation/reconcile.py), daily: each row that disagrees is logged as an error for the on-call person
    (ids and fields, nothing personal), in the command's words."""
    with single_run("audit_reconcile", timeout=3600) as mine:
        if not mine:
            return None
        result = reconcile_and_record()
    return _log_disagreements("audit_reconcile", result)


@shared_task(name="reportdesk.rights_reconcile")
def rights_reconcile() -> int | None:
    """The accounts' rights and the role groups alone, every few minutes: a role taken with raw SQL is
    the insider's cheapest step, and the on-call person should not learn of it a day later. Only
    logged; the daily run records the whole check as an event."""
    with single_run("rights_reconcile", timeout=300) as mine:
        if not mine:
            return None
        result = reconcile(rights_only=True)
    return _log_disagreements("rights_reconcile", result)


def _log_disagreements(job: str, result: Result) -> int:
    for disagreement in result.disagreements:
        logger.error("%s: %s %s: %s", job, disagreement.object_type, disagreement.object_id, disagreement.describe())
    return len(result.disagreements)
