"""Mail to reporters, written to the outbox (reports/outbox.py) inside the change's transaction: the
message is rendered here, when the change happens, and a worker sends it after the commit.
"""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from config.dates import long_date
from config.i18n import language_of
from config.links import absolute_url
from reports import outbox
from reports.models import OutboxMail, Report


def compose(*, kind: str, subject: str, template: str, context: dict, recipients: list[str]) -> OutboxMail | None:
    """Render a mail and put it in the outbox; call it inside the change's transaction. Nothing when
    there is nobody to write to. Every mail of the system is rendered here or is a notice's body
    (moderation/enforcement/notices.py), so the recipient's language is set in these two places."""
    recipients = [address for address in recipients if address]
    if not recipients:
        return None
    body = render_to_string(template, context)
    return outbox.enqueue(kind=kind, subject=subject, body=body, recipients=recipients)


def reporter_page_url(report: Report) -> str:
    """The reporter's page for the report, for mail; none for the complaint form's senders, who have
    no account to sign in with."""
    return absolute_url("reports:detail", report.pk) if report.reporter_id else ""


def reporter_address(report: Report) -> str:
    return report.reporter.email if report.reporter_id else report.reporter_email


def report_received(*, report: Report) -> OutboxMail | None:
    """The confirmation, from the report as the filing service is writing it (no second read), in
    the reporter's language: their account's, else the one the report was sent in."""
    with language_of(account=report.reporter, sent_in=report.language):
        return compose(
            kind="report_received",
            subject=_("We received your report %(reference)s") % {"reference": report.short_id},
            template="reports/email/report_received.txt",
            context={
                "report": report,
                "report_url": reporter_page_url(report),
                "received": long_date(report.created_at),
                "due": long_date(report.due_at),
            },
            recipients=[reporter_address(report)],
        )
