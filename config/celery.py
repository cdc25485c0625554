"""The task engine: Celery, with Redis as the broker, and the schedule, in one place.

    celery -A config worker          # delivers the outboxes and runs the scheduled jobs
    celery -A config beat            # sends the scheduled jobs (SCHEDULE below) to the workers

Settings are the CELERY_* names of config/settings.py. Without a broker (CELERY_BROKER_URL unset:
the demo, development, the SQLite tests) tasks run in the process that asks for them and nothing
runs on a schedule; the management commands of the same names still do each job by hand.

The jobs are in each app's tasks.py, each a thin call of the service its management command calls,
and each holding its lock (config/tasks.py `single_run`) or claiming its rows, so that two `beat`
processes on two hosts, or a job still running when its next tick comes, never do work twice.
"""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("reportdesk")
app.config_from_object("django.conf:settings", namespace="CELERY")
# reports/tasks.py, moderation/tasks.py, moderation/enforcement/tasks.py, audit/tasks.py.
app.autodiscover_tasks()


def _every(seconds: float) -> float:
    """A job's interval. CELERY_SCHEDULE_SECONDS (drills and tests only) runs every job that often."""
    override = os.environ.get("CELERY_SCHEDULE_SECONDS")
    return float(override) if override else seconds


MINUTE = 60.0

#: Every periodic job, with its interval: the one place the schedule is written.
SCHEDULE = {
    # The outboxes: each commit that writes a row wakes a worker at once; this is the floor, and the
    # retry of what failed (each row waits for its own backoff).
    "deliver-mail": {"task": "reportdesk.deliver_mail", "schedule": _every(10.0)},
    "deliver-webhooks": {"task": "reportdesk.deliver_webhooks", "schedule": _every(10.0)},
    # Deadlines: escalate and alert once per report.
    "sla-sweep": {"task": "reportdesk.sla_sweep", "schedule": _every(MINUTE)},
    "expire-sanctions": {"task": "reportdesk.expire_sanctions", "schedule": _every(MINUTE)},
    # The dashboard's daily rollups.
    "rollup-reports": {"task": "reportdesk.rollup_reports", "schedule": _every(MINUTE)},
    # The audit chain: seal what the app did not (quiet times), then a signed checkpoint.
    "audit-seal": {"task": "reportdesk.audit_seal", "schedule": _every(MINUTE)},
    "audit-checkpoint": {"task": "reportdesk.audit_checkpoint", "schedule": _every(MINUTE)},
    # Rows against the record: a report, sanction, appeal, story or account's rights changed without an
    # event (raw SQL) is logged; the rights, cheap to read and the insider's first step, more often.
    "audit-reconcile": {"task": "reportdesk.audit_reconcile", "schedule": _every(24 * 60 * MINUTE)},
    "rights-reconcile": {"task": "reportdesk.rights_reconcile", "schedule": _every(5 * MINUTE)},
    # Retention: evidence of cases closed more than EVIDENCE_RETENTION_DAYS ago.
    "purge-evidence": {"task": "reportdesk.purge_evidence", "schedule": _every(60 * MINUTE)},
}
app.conf.beat_schedule = SCHEDULE
