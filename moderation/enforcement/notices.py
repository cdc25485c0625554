"""Notices: what a person is told, stored word for word and mailed through the outbox
(reports/outbox.py): the mail is written in the notice's own transaction and a worker sends it.

The reported person's notices never name, describe or identify the reporter: the templates get
only the sanction, the content and the decision, never the reports' reporters.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings
from django.core import signing
from django.template.loader import render_to_string

from audit import services as audit
from config.i18n import language_of
from config.links import absolute_url
from moderation.enforcement import wording
from moderation.enforcement.models import Appeal, Notice, NoticeKind, Sanction
from reports import outbox

# The salts keep the names they had before enforcement became an app of its own: links already
# mailed are signed with them and must keep working for the whole appeal window.
APPEAL_LINK_SALT = "moderation.appeal-link"
COMPLAINT_APPEAL_SALT = "moderation.complaint-appeal-link"


def appeal_token(*, sanction: Sanction) -> str:
    """A signed link that lets a signed-out (e.g. suspended) account read its notice and appeal."""
    return signing.dumps({"sanction": str(sanction.id), "account": sanction.account_id}, salt=APPEAL_LINK_SALT)


def read_appeal_token(token: str) -> dict:
    return signing.loads(token, salt=APPEAL_LINK_SALT, max_age=settings.APPEAL_WINDOW_DAYS * 86400)


def complaint_appeal_token(*, report) -> str:
    """A signed link, in the outcome mail of a complaint sent without an account, to appeal its
    dismissal: holding it proves the address the complaint came from."""
    return signing.dumps({"report": str(report.id), "email": report.reporter_email}, salt=COMPLAINT_APPEAL_SALT)


def read_complaint_appeal_token(token: str) -> dict:
    return signing.loads(token, salt=COMPLAINT_APPEAL_SALT, max_age=settings.APPEAL_WINDOW_DAYS * 86400)


def _create(
    *,
    actor,
    kind: str,
    recipient,
    subject: str,
    template: str,
    context: dict,
    email: str = "",
    details: dict | None = None,
    **links,
) -> Notice:
    """email: for a recipient without an account (a complainant); an account's own address otherwise.
    The subject (wording.py) is the mail's and the notices list's title; the body is the mail."""
    body = render_to_string(template, context)
    notice = Notice.objects.create(
        kind=kind,
        recipient=recipient,
        email=recipient.email if recipient else email,
        subject=subject[:200],
        body=body,
        details=details or {},
        **links,
    )
    audit.record(
        actor=actor,
        event_type="notice.sent",
        object_type="notice",
        object_id=notice.id,
        after={"kind": kind, "recipient": recipient.pk if recipient else None},
    )
    if notice.email:
        # The notice's own words, as the person reads them on its page; sent by a worker.
        outbox.enqueue(kind="notice", subject=notice.subject, body=notice.body, recipients=[notice.email])
    return notice


def statement_of_reasons(*, actor, sanctions: Sequence[Sanction]) -> Notice:
    primary = sanctions[0]
    # Written in the recipient's language (their account's, else the one they last used here).
    with language_of(account=primary.account):
        return _create(
            actor=actor,
            kind=NoticeKind.STATEMENT_OF_REASONS,
            recipient=primary.account,
            subject=wording.decision_subject(sanctions),
            template="enforcement/notices/statement_of_reasons.txt",
            context={
                **wording.statement_context(sanctions=sanctions, primary=primary),
                "appeal_url": absolute_url("enforcement:appeal_link", appeal_token(sanction=primary)),
            },
            sanction=primary,
            decision_id=primary.decision_id,
        )


def sanction_lifted(*, actor, sanction: Sanction) -> Notice:
    with language_of(account=sanction.account):
        return _create(
            actor=actor,
            kind=NoticeKind.SANCTION_LIFTED,
            recipient=sanction.account,
            subject=wording.lifted_subject(sanction),
            template="enforcement/notices/sanction_lifted.txt",
            context=wording.lift_context(sanction=sanction),
            sanction=sanction,
            decision_id=sanction.decision_id,
        )


def appeal_decision(*, actor, appeal: Appeal) -> Notice:
    # A complainant without an account is written to in the language their complaint was sent in.
    with language_of(account=appeal.appellant, sent_in=appeal.report.language if appeal.report_id else ""):
        return _create(
            actor=actor,
            kind=NoticeKind.APPEAL_DECISION,
            recipient=appeal.appellant,
            email=appeal.appellant_email,
            subject=wording.appeal_decision_subject(appeal),
            template="enforcement/notices/appeal_decision.txt",
            context=wording.appeal_context(appeal=appeal),
            appeal=appeal,
            sanction=appeal.sanction,
            # The decision appealed, so that its statement of reasons is found from here.
            decision_id=appeal.sanction.decision_id if appeal.sanction_id else None,
        )


def misuse(*, actor, account, paused_until, count: int) -> Notice:
    """The warning, or the pause, for repeated manifestly unfounded reports (DSA Art. 23)."""
    paused = paused_until is not None
    details = wording.misuse_details(paused_until=paused_until, count=count)
    with language_of(account=account):
        return _create(
            actor=actor,
            kind=NoticeKind.REPORTS_PAUSED if paused else NoticeKind.MISUSE_WARNING,
            recipient=account,
            subject=wording.misuse_subject(paused_until=paused_until),
            template="enforcement/notices/misuse.txt",
            context={"account": account, **wording.misuse_context(details=details)},
            details=details,
        )
