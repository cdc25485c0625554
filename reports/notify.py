"""Mail to reporters. Called after commit: a mail failure is logged and never undoes a report."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string

from reports.models import Report

logger = logging.getLogger(__name__)


def send_safely(*, subject: str, template: str, context: dict, recipient: str) -> bool:
    if not recipient:
        return False
    try:
        body = render_to_string(template, context)
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [recipient])
    except Exception:  # the decision is committed; a broken mail server must not turn it into a 500
        logger.exception("could not send %r to a reporter", subject)
        return False
    return True


def report_received(*, report: Report) -> bool:
    """The confirmation, from the report as the filing service just committed it (no second read)."""
    recipient = report.reporter.email if report.reporter else report.reporter_email
    return send_safely(
        subject=f"We received your report {report.short_id}",
        template="reports/email/report_received.txt",
        context={"report": report},
        recipient=recipient,
    )
