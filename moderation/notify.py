"""Mail from the moderator's side, sent after commit; a failure is logged, never undoes a decision.

Reporters are told the outcome of their report, never the sanction given to the other person.
"""

from __future__ import annotations

import logging
import uuid

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail

from reports.models import InfoRequest, Report, ReportStatus
from reports.notify import send_safely

logger = logging.getLogger(__name__)


def report_outcome(*, report_id: uuid.UUID) -> bool:
    report = Report.objects.select_related("reporter").get(pk=report_id)
    recipient = report.reporter.email if report.reporter else report.reporter_email
    acted = report.status == ReportStatus.RESOLVED
    return send_safely(
        subject=f"Outcome of your report {report.short_id}",
        template="reports/email/report_outcome.txt",
        context={"report": report, "acted": acted},
        recipient=recipient,
    )


def info_requested(*, info_request_id: int) -> bool:
    info = InfoRequest.objects.select_related("report__reporter").get(pk=info_request_id)
    reporter = info.report.reporter
    return send_safely(
        subject=f"A question about your report {info.report.short_id}",
        template="reports/email/info_requested.txt",
        context={"info": info, "report": info.report},
        recipient=reporter.email if reporter else "",
    )


def sla_alert(*, report_id: uuid.UUID) -> bool:
    """Tell the moderators that a report passed its deadline (or half of it, when critical)."""
    recipients = settings.MODERATION_ALERT_EMAILS or _staff_emails()
    if not recipients:
        return False
    report = Report.objects.get(pk=report_id)
    try:
        send_mail(
            f"[deadline] {report.get_severity_display()} report {report.short_id} needs action",
            f"Report {report.id} ({report.get_category_display()}) is due {report.due_at:%Y-%m-%d %H:%M} UTC "
            f"and has been escalated.\n",
            settings.DEFAULT_FROM_EMAIL,
            recipients,
        )
    except Exception:
        logger.exception("could not send the deadline alert for %s", report_id)
        return False
    return True


def _staff_emails() -> list[str]:
    """Without a configured alert list, the moderators and compliance officers themselves."""
    return list(
        get_user_model()
        .objects.filter(is_active=True, groups__name__in=["moderator", "compliance"])
        .exclude(email="")
        .values_list("email", flat=True)
        .distinct()
    )
