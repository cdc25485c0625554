"""The mail outbox: every mail is a row (reports.OutboxMail) written in the transaction of the change
it tells about, and a worker delivers it. The request never waits on the mail relay, a crash after
the commit loses no mail, and a change rolled back sends none.

Delivery (`deliver_due`, run by the worker's `reportdesk.deliver_mail` task, woken after each commit
that wrote mail and every few seconds by the schedule in config/celery.py):

1. claim a batch of due rows (CLAIM_BATCH): in a short transaction, `SELECT ... FOR UPDATE SKIP
   LOCKED` on PostgreSQL (two workers never wait on each other or take the same row; SQLite runs one
   writer at a time), and write one lease on them (`claim`, `claimed_until`) that outlives the
   transaction, renewed row by row once half of it is gone;
2. hand it to the relay, outside any transaction (a slow relay holds no lock);
3. mark it sent once the relay accepted it, only if the claim is still ours; on a refusal, record
   the error and schedule the next attempt with backoff (config/retry.py) and stop: the relay is
   probably down, and the rest waits for the next run.

A worker killed between 1 and 3 leaves its batch's lease to expire (MAIL_OUTBOX_LEASE_SECONDS, longer than
the relay's EMAIL_TIMEOUT) and the row is delivered once after that. The only repeat left is a
worker killed after the relay said "accepted" and before step 3 wrote it down (SMTP cannot make the
two one step); the message's Message-ID is the row's id, so a receiver can tell the repeat.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from config import tasks
from config.prepared import PreparedInsert
from config.retry import backoff
from reports.models import OutboxMail

logger = logging.getLogger(__name__)

#: The task the worker runs to deliver (config/celery.py's schedule names it too).
DELIVER_TASK = "reportdesk.deliver_mail"


_INSERT = PreparedInsert(OutboxMail)


def enqueue(
    *,
    kind: str,
    subject: str,
    recipients: list[str],
    body: str = "",
    template: str = "",
    context: dict | None = None,
    language: str = "",
) -> OutboxMail:
    """Write a mail to the outbox; must run inside the change's transaction. After the commit a worker
    is asked to deliver it (config/tasks.py `wake`). Its text is either `body`, written now, or
    `template` with the JSON `context`, rendered in `language` by the worker when it sends it
    (reports/notify.py render_at_send)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("outbox.enqueue() must run inside the change's transaction")
    if bool(body) == bool(template):
        raise ValueError("a mail has either its body or a template to render at send time")
    row = _INSERT.create(
        kind=kind,
        subject=subject[:300],
        body=body,
        template=template,
        context=context or {},
        language=language,
        recipients=list(recipients),
        next_attempt_at=timezone.now(),
    )
    tasks.wake_after_commit(DELIVER_TASK, run_here=deliver_due)
    return row


@dataclass
class DeliveryResult:
    sent: int = 0
    failed: int = 0
    purged: int = 0


def _lease() -> timedelta:
    return timedelta(seconds=settings.MAIL_OUTBOX_LEASE_SECONDS)


#: Rows claimed at once: one lease for the batch, so a mail costs its send and one UPDATE (marking it
#: sent) instead of a transaction of its own to claim it as well; the worker's CPU per mail was more
#: than the filing request's own share of the mail (README, "Filing").
CLAIM_BATCH = 50


def _claim(now: datetime, *, size: int) -> list[OutboxMail]:
    """The next due rows (at most `size`), leased to this worker together; [] when nothing is due."""
    with transaction.atomic():
        due = OutboxMail.objects.filter(sent_at__isnull=True, next_attempt_at__lte=now).filter(
            Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
        )
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        rows = list(due.order_by("next_attempt_at")[:size])
        if not rows:
            return []
        claim, claimed_until = uuid.uuid4(), now + _lease()
        OutboxMail.objects.filter(pk__in=[row.pk for row in rows]).update(
            claim=claim, claimed_until=claimed_until, attempts=F("attempts") + 1
        )
    for row in rows:
        row.claim, row.claimed_until, row.attempts = claim, claimed_until, row.attempts + 1
    return rows


def _still_mine(row: OutboxMail, now: datetime) -> bool:
    """Whether this worker may hand `row` over now. The batch's lease is renewed once half of it is
    gone, so that no other worker takes a row while it is being sent (the lease outlasts a send:
    MAIL_OUTBOX_LEASE_SECONDS is several EMAIL_TIMEOUTs); a row whose lease ran out and was taken
    by another worker meanwhile is left to that worker."""
    if row.claimed_until - now >= _lease() / 2:
        return True
    row.claimed_until = now + _lease()
    return bool(OutboxMail.objects.filter(pk=row.pk, claim=row.claim).update(claimed_until=row.claimed_until))


def _text(row: OutboxMail) -> str:
    """The mail's text: its body, or rendered now from its template (kept with the row once tried)."""
    if not row.template or row.body:
        return row.body
    from reports import notify  # notify writes to this outbox: imported where it renders, not above

    return notify.render_at_send(template=row.template, context=row.context, language=row.language)


def message_id(row: OutboxMail) -> str:
    return f"<{row.pk}@reportdesk.outbox>"


def deliver_due(*, limit: int = 500, now: datetime | None = None) -> DeliveryResult:
    """Deliver due mail, a leased batch at a time, over one relay connection (see the module's docstring)."""
    result = DeliveryResult()
    relay = None
    handled = 0
    try:
        while handled < limit:
            rows = _claim(now or timezone.now(), size=min(CLAIM_BATCH, limit - handled))
            if not rows:
                break
            handled += len(rows)
            for index, row in enumerate(rows):
                if not _still_mine(row, now or timezone.now()):
                    continue
                mine = OutboxMail.objects.filter(pk=row.pk, claim=row.claim)
                rendered: dict[str, str] = {}
                try:
                    body = _text(row)
                    if body != row.body:  # rendered now: kept with the row by the update below
                        rendered["body"] = body
                    if relay is None:
                        relay = get_connection(fail_silently=False)
                        relay.open()
                    EmailMessage(
                        row.subject,
                        body,
                        settings.DEFAULT_FROM_EMAIL,
                        row.recipients,
                        connection=relay,
                        headers={"Message-ID": message_id(row)},
                    ).send(fail_silently=False)
                except Exception as error:  # a refusal of the relay, or a text that would not render: kept, tried later
                    error_text = f"{type(error).__name__}: {error}"[:1000]
                    mine.update(
                        claim=None,
                        claimed_until=None,
                        last_error=error_text,
                        next_attempt_at=timezone.now() + backoff(row.attempts),
                        **rendered,
                    )
                    # The rest of the batch was not tried: released, its claim not counted as an attempt.
                    OutboxMail.objects.filter(pk__in=[other.pk for other in rows[index + 1 :]], claim=row.claim).update(
                        claim=None, claimed_until=None, attempts=F("attempts") - 1
                    )
                    logger.warning("mail %s (%s) failed, attempt %s: %s", row.pk, row.kind, row.attempts, error_text)
                    result.failed += 1
                    return result
                mine.update(sent_at=timezone.now(), claim=None, claimed_until=None, last_error="", **rendered)
                result.sent += 1
    finally:
        if relay is not None:
            try:
                relay.close()
            except Exception:  # a relay that dropped the connection: nothing left to close
                logger.debug("closing the relay connection failed", exc_info=True)
        result.purged = purge_sent()
    return result


def purge_sent(*, now: datetime | None = None, batch: int = 1000) -> int:
    """Delete sent mail older than MAIL_OUTBOX_KEEP_SENT_HOURS (a batch per run)."""
    before = (now or timezone.now()) - timedelta(hours=settings.MAIL_OUTBOX_KEEP_SENT_HOURS)
    old = list(OutboxMail.objects.filter(sent_at__lt=before).values_list("pk", flat=True)[:batch])
    if not old:
        return 0
    return OutboxMail.objects.filter(pk__in=old).delete()[0]
