"""Mail from the moderator's side, written to the outbox (reports/outbox.py) in the transaction of the
decision, question or escalation it tells about, and sent by a worker.

Reporters are told the outcome of their report, never the sanction given to the other person.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import translation
from django.utils.translation import gettext

from config.i18n import language_of
from config.links import absolute_url
from moderation.enforcement.notices import complaint_appeal_token
from reports.models import InfoRequest, OutboxMail, Report, ReportStatus
from reports.notify import compose, reporter_address, reporter_page_url


def report_outcome(*, report: Report) -> OutboxMail | None:
    acted = report.status == ReportStatus.RESOLVED
    # In the reporter's language: their account's, else the one the report was sent in.
    with language_of(account=report.reporter, sent_in=report.language):
        subject = (
            # The subject says what happened, like the notices' (moderation/enforcement/wording.py).
            gettext("Your report %(reference)s: we took action")
            if acted
            else gettext("Your report %(reference)s: we found no violation")
        ) % {"reference": report.short_id}
        return compose(
            kind="report_outcome",
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
                if not (acted or report.reporter_id) and report.reporter_email
                else "",
                "appeal_days": settings.APPEAL_WINDOW_DAYS,
            },
            recipients=[reporter_address(report)],
        )


def info_requested(*, info: InfoRequest) -> OutboxMail | None:
    report = info.report
    with language_of(account=report.reporter, sent_in=report.language):
        return compose(
            kind="info_requested",
            subject=gettext("A question about your report %(reference)s") % {"reference": report.short_id},
            template="reports/email/info_requested.txt",
            context={"info": info, "report": report, "report_url": reporter_page_url(report)},
            recipients=[report.reporter.email if report.reporter_id else ""],
        )


def sla_alert(*, report: Report) -> OutboxMail | None:
    """Tell the moderators that a report passed its deadline (or half of it, when critical)."""
    # A list of addresses, not accounts: the site's language.
    with translation.override(settings.LANGUAGE_CODE):
        return compose(
            kind="sla_alert",
            subject=gettext("[deadline] %(severity)s report %(reference)s needs action")
            % {"severity": report.get_severity_display(), "reference": report.short_id},
            template="moderation/email/sla_alert.txt",
            context={"report": report},
            recipients=list(settings.MODERATION_ALERT_EMAILS or _staff_emails()),
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
