"""Mail from the moderator's side, sent after commit; a failure is logged, never undoes a decision.

Reporters are told the outcome of their report, never the sanction given to the other person.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext

from config.dates import long_date
from config.i18n import language_of
from config.links import absolute_url
from moderation.enforcement.models import Notice
from moderation.enforcement.notices import complaint_appeal_token, email_notice
from moderation.enforcement.webhooks import backoff
from reports.models import InfoRequest, Report, ReportStatus, UnsentMail
from reports.notify import FIRST_RETRY_AFTER, reporter_page_url, send_or_keep, send_safely

logger = logging.getLogger(__name__)


def report_outcome(*, report_id: uuid.UUID) -> bool:
    report = Report.objects.select_related("reporter__profile").get(pk=report_id)
    recipient = report.reporter.email if report.reporter else report.reporter_email
    acted = report.status == ReportStatus.RESOLVED
    # In the reporter's language: their account's, else the one the report was sent in.
    with language_of(account=report.reporter, sent_in=report.language):
        subject = (
            # The subject says what happened, like the notices' (moderation/enforcement/wording.py).
            gettext("Your report %(reference)s: we took action")
            if acted
            else gettext("Your report %(reference)s: we found no violation")
        ) % {"reference": report.short_id}
        return send_safely(
            subject=subject,
            template="reports/email/report_outcome.txt",
            context={
                "report": report,
                "acted": acted,
                # People who filed with an account follow the report, and appeal a dismissal, on its
                # page; someone who used the complaint form appeals from a signed link to this address.
                "report_url": reporter_page_url(report),
                "complaint_appeal_url": absolute_url(
                    "enforcement:complaint_appeal", complaint_appeal_token(report=report)
                )
                if not (acted or report.reporter) and report.reporter_email
                else "",
                "appeal_days": settings.APPEAL_WINDOW_DAYS,
            },
            recipient=recipient,
        )


def info_requested(*, info_request_id: int) -> bool:
    info = InfoRequest.objects.select_related("report__reporter__profile").get(pk=info_request_id)
    reporter = info.report.reporter
    with language_of(account=reporter, sent_in=info.report.language):
        return send_safely(
            subject=gettext("A question about your report %(reference)s") % {"reference": info.report.short_id},
            template="reports/email/info_requested.txt",
            context={"info": info, "report": info.report, "report_url": reporter_page_url(info.report)},
            recipient=reporter.email if reporter else "",
        )


def sla_alert(*, report_id: uuid.UUID) -> bool:
    """Tell the moderators that a report passed its deadline (or half of it, when critical)."""
    recipients = settings.MODERATION_ALERT_EMAILS or _staff_emails()
    if not recipients:
        return False
    report = Report.objects.get(pk=report_id)
    # A list of addresses, not accounts: the site's language.
    with translation.override(settings.LANGUAGE_CODE):
        values = {
            "severity": report.get_severity_display(),
            "reference": report.short_id,
            "id": report.id,
            "category": report.get_category_display(),
            "due": long_date(report.due_at),
        }
        return send_or_keep(
            subject=gettext("[deadline] %(severity)s report %(reference)s needs action") % values,
            body=gettext("Report %(id)s (%(category)s) is due %(due)s and has been escalated.") % values + "\n",
            recipients=list(recipients),
        )


def _staff_emails() -> list[str]:
    """Without a configured alert list, the moderators and compliance officers themselves."""
    return list(
        get_user_model()
        .objects.filter(is_active=True, groups__name__in=["moderator", "compliance"])
        .exclude(email="")
        .values_list("email", flat=True)
        .distinct()
    )


# --- mail the relay refused -----------------------------------------------------------------------


@dataclass
class ResendResult:
    sent: int = 0
    failed: int = 0
    notices_sent: int = 0


def _claim_first(rows: QuerySet, *order: str):
    """The first row, locked until the transaction ends; rows another run holds are skipped (SKIP
    LOCKED on PostgreSQL), so two runs on two hosts never send the same mail."""
    if connection.features.has_select_for_update_skip_locked:
        rows = rows.select_for_update(skip_locked=True)
    return rows.order_by(*order).first()


def resend_due(*, limit: int = 500, now: datetime | None = None) -> ResendResult:
    """Send again what the relay refused: the kept mails (reports.UnsentMail) whose next attempt is
    due, deleted once sent, then the statements and notices never emailed. One at a time, each
    claimed while it is sent. Stops at the first failure: the relay is probably still down, and the
    rest waits for the next run."""
    result = ResendResult()
    now = now or timezone.now()
    for _ in range(limit):
        with transaction.atomic():
            kept = _claim_first(UnsentMail.objects.filter(next_attempt_at__lte=now), "next_attempt_at", "created_at")
            if kept is None:
                break
            kept.attempts += 1
            try:
                send_mail(kept.subject, kept.body, settings.DEFAULT_FROM_EMAIL, kept.recipients)
            except Exception as error:
                kept.last_error = f"{type(error).__name__}: {error}"[:1000]
                kept.next_attempt_at = timezone.now() + backoff(kept.attempts)
                kept.save(update_fields=["attempts", "last_error", "next_attempt_at"])
                logger.warning("resending %r failed (attempt %s): %s", kept.subject, kept.attempts, kept.last_error)
                result.failed += 1
                return result
            kept.delete()
            result.sent += 1
    # Notices keep their own body and emailed_at; those the relay refused are sent again here (a
    # minute after they were written, so that one still being sent after its commit is left alone).
    never_emailed = Notice.objects.filter(emailed_at__isnull=True, created_at__lte=now - FIRST_RETRY_AFTER).exclude(
        email=""
    )
    for _ in range(limit):
        with transaction.atomic():
            notice = _claim_first(never_emailed, "created_at")
            if notice is None:
                break
            if not email_notice(notice_id=notice.pk):
                result.failed += 1
                break
            result.notices_sent += 1
    return result
