"""Mail to reporters, written to the outbox (reports/outbox.py) inside the change's transaction: the
message is rendered here, when the change happens, and a worker sends it after the commit. The one
exception is the confirmation of a new report, written on every filing: its row holds its facts
(JSON) and the language chosen at filing, and the worker renders it when it sends it
(`render_at_send`), so that a filing does not spend its time on the mail's text (README, "Filing").
"""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils import translation
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from config.dates import long_date
from config.i18n import language_of
from config.links import absolute_url
from reports import outbox
from reports.categories import Category
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


RECEIVED_TEMPLATE = "reports/email/report_received.txt"


def report_received(*, report: Report) -> OutboxMail | None:
    """The confirmation, from the report as the filing service is writing it (no second read), in
    the reporter's language: their account's, else the one the report was sent in. Its text is
    rendered by the worker (`render_at_send`) from the facts kept here, which never change."""
    recipient = reporter_address(report)
    if not recipient:
        return None
    with language_of(account=report.reporter, sent_in=report.language) as language:
        subject = _("We received your report %(reference)s") % {"reference": report.short_id}
    return outbox.enqueue(
        kind="report_received",
        subject=subject,
        template=RECEIVED_TEMPLATE,
        context={
            "name": report.reporter.get_username() if report.reporter_id else report.reporter_name,
            "reference": report.short_id,
            "category": report.category,
            "received": report.created_at.isoformat(),
            "due": report.due_at.isoformat(),
            "report_url": reporter_page_url(report),
            "report_id": str(report.id),
        },
        language=language,
        recipients=[recipient],
    )


def render_at_send(*, template: str, context: dict, language: str) -> str:
    """The text of a mail the worker renders (the confirmation above), in the language chosen when it
    was written: its facts' dates (ISO 8601) written the way that language writes them and its
    category (a code) named in it."""
    with translation.override(language or None):
        values = dict(context)
        for name in ("received", "due"):
            if values.get(name):
                values[name] = long_date(parse_datetime(values[name]))
        if values.get("category"):
            values["category"] = Category(values["category"]).label
        return render_to_string(template, values)
