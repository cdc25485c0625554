"""Mail to reporters. Called after commit: a mail failure is logged and never undoes a report.

A mail the relay refuses (or does not answer within EMAIL_TIMEOUT) is kept as an UnsentMail, and
`manage.py resend_mail` sends it later: the reporter still hears back after a relay outage.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from config.dates import long_date
from config.i18n import language_of
from config.links import absolute_url
from reports.models import Report, UnsentMail

logger = logging.getLogger(__name__)

# When a failed mail is first tried again; later retries back off (moderation.notify.resend_due).
FIRST_RETRY_AFTER = timedelta(minutes=1)


def send_or_keep(*, subject: str, body: str, recipients: list[str]) -> bool:
    """Send now; if the relay fails, keep the mail for `manage.py resend_mail`. Never raises."""
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)
    except Exception as error:  # the decision is committed; a broken relay must not turn it into a 500
        logger.exception("could not send %r; kept for resend_mail", subject)
        try:
            UnsentMail.objects.create(
                recipients=recipients,
                subject=subject[:300],
                body=body,
                next_attempt_at=timezone.now() + FIRST_RETRY_AFTER,
                last_error=f"{type(error).__name__}: {error}"[:1000],
            )
        except Exception:  # the database is down too: the log line above is all there is
            logger.exception("could not keep %r for a later attempt", subject)
        return False
    return True


def send_safely(*, subject: str, template: str, context: dict, recipient: str) -> bool:
    if not recipient:
        return False
    try:
        body = render_to_string(template, context)
    except Exception:  # a template bug is logged, never a 500 after the commit
        logger.exception("could not render %r", subject)
        return False
    return send_or_keep(subject=subject, body=body, recipients=[recipient])


def reporter_page_url(report: Report) -> str:
    """The reporter's page for the report, for mail; none for the complaint form's senders, who have
    no account to sign in with."""
    return absolute_url("reports:detail", report.pk) if report.reporter_id else ""


def report_received(*, report: Report) -> bool:
    """The confirmation, from the report as the filing service just committed it (no second read),
    in the reporter's language: their account's, else the one the report was sent in."""
    recipient = report.reporter.email if report.reporter else report.reporter_email
    if not recipient:
        return False
    with language_of(account=report.reporter, sent_in=report.language):
        return send_safely(
            subject=_("We received your report %(reference)s") % {"reference": report.short_id},
            template="reports/email/report_received.txt",
            context={
                "report": report,
                "report_url": reporter_page_url(report),
                "received": long_date(report.created_at),
                "due": long_date(report.due_at),
            },
            recipient=recipient,
        )
