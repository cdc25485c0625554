"""The mail outbox (reports/outbox.py), in one process: every mail is a row written with its change and
delivered after the commit, a refused mail is kept and tried again later and later, each row is sent
once, a worker's claim keeps others off it until it expires, and sent rows are purged after a while.

The worker processes, the broker and a real SMTP server are in tests/test_worker.py.
"""

from __future__ import annotations

import io
import smtplib
import uuid
from datetime import timedelta

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.core.management import CommandError, call_command
from django.utils import timezone

from config.retry import backoff
from moderation.enforcement.services import ActionRequest, decision_apply
from reports import outbox
from reports.categories import Category
from reports.models import OutboxMail, Report
from reports.outbox import deliver_due, message_id, purge_sent
from reports.services import report_file
from tests.factories import OutboxMailFactory, ReportFactory, TargetFactory

pytestmark = pytest.mark.django_db

BROKEN = f"{__name__}.RelayDown"
WORKING = "django.core.mail.backends.locmem.EmailBackend"


class RelayDown(BaseEmailBackend):
    """A mail relay that is down."""

    def send_messages(self, email_messages):
        raise smtplib.SMTPServerDisconnected("relay went away")


def file_while_the_relay_is_down(user, settings, callbacks, target=None) -> Report:
    settings.EMAIL_BACKEND = BROKEN
    with callbacks(execute=True):
        report = report_file(
            actor=user, target=target or TargetFactory(), category=Category.HARASSMENT, reason="Insults in #lobby."
        )
    settings.EMAIL_BACKEND = WORKING
    return report


def later(minutes: int = 2):
    return timezone.now() + timedelta(minutes=minutes)


def test_the_confirmation_is_sent_after_the_commit_with_the_rows_id_as_message_id(
    user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        report = report_file(actor=user, target=TargetFactory(), category=Category.SPAM, reason="Bot links.")
    row = OutboxMail.objects.get()
    assert row.sent_at is None and mail.outbox == []  # written, not sent before the commit
    for callback in callbacks:
        callback()
    [message] = mail.outbox
    row.refresh_from_db()
    assert row.sent_at is not None and row.attempts == 1 and row.claim is None
    assert message.to == [user.email] and message.subject == f"We received your report {report.short_id}"
    assert message.extra_headers["Message-ID"] == message_id(row) == f"<{row.pk}@reportdesk.outbox>"
    assert deliver_due(now=later(60)).sent == 0 and len(mail.outbox) == 1  # never twice


def test_one_decision_on_several_reports_mails_each_reporter_once(moderator, django_capture_on_commit_callbacks):
    """A decision on a target with three reports writes three outcome mails; each goes out once."""
    target = TargetFactory()
    reports = [ReportFactory(target=target) for _ in range(3)]
    with django_capture_on_commit_callbacks(execute=True):
        decision_apply(
            actor=moderator,
            report_id=reports[0].pk,
            actions=[ActionRequest(kind="warning")],
            ground_type="terms",
            ground="Terms §4",
            facts="Seen in the log.",
            apply_to_all_open=True,
        )
    kinds = sorted(OutboxMail.objects.values_list("kind", flat=True))
    assert kinds.count("report_outcome") == 3
    assert sorted(m.to[0] for m in mail.outbox if "we took action" in m.subject) == sorted(
        r.reporter.email for r in reports
    )
    assert not OutboxMail.objects.filter(sent_at__isnull=True).exists()


def test_a_refused_confirmation_is_kept_then_sent_once_when_the_relay_is_back(
    user, settings, django_capture_on_commit_callbacks
):
    report = file_while_the_relay_is_down(user, settings, django_capture_on_commit_callbacks)
    assert Report.objects.filter(pk=report.pk).exists() and mail.outbox == []
    kept = OutboxMail.objects.get()
    assert kept.recipients == [user.email] and kept.subject == f"We received your report {report.short_id}"
    assert str(report.id) in kept.body and "SMTPServerDisconnected" in kept.last_error
    assert kept.sent_at is None and kept.claim is None and kept.attempts == 1
    assert kept.next_attempt_at >= timezone.now() + backoff(1) - timedelta(seconds=5)

    assert deliver_due().sent == 0 and mail.outbox == []  # not yet due: the backoff runs

    result = deliver_due(now=later())
    assert (result.sent, result.failed) == (1, 0)
    [message] = mail.outbox
    assert message.to == [user.email] and message.subject == kept.subject and message.body == kept.body
    kept.refresh_from_db()
    assert kept.sent_at is not None and kept.last_error == "" and kept.attempts == 2
    assert deliver_due(now=later(60)).sent == 0 and len(mail.outbox) == 1  # never twice


def test_a_relay_still_down_is_tried_one_mail_at_a_time_and_later_each_time(
    user, settings, django_capture_on_commit_callbacks
):
    file_while_the_relay_is_down(user, settings, django_capture_on_commit_callbacks)
    file_while_the_relay_is_down(user, settings, django_capture_on_commit_callbacks)
    settings.EMAIL_BACKEND = BROKEN
    result = deliver_due(now=later())
    assert (result.sent, result.failed) == (0, 1)
    first, second = OutboxMail.objects.order_by("created_at")
    assert first.attempts == 2 and first.next_attempt_at >= timezone.now() + backoff(2) - timedelta(seconds=5)
    assert second.attempts == 1  # the relay is down: the rest waits for the next run
    OutboxMail.objects.update(next_attempt_at=timezone.now())
    with pytest.raises(CommandError, match="relay refused"):
        call_command("deliver_mail", stdout=io.StringIO())


def test_a_claimed_mail_is_left_alone_until_its_lease_runs_out():
    """A worker killed mid-delivery leaves its claim: nobody sends the mail until the claim expires,
    then it is sent once."""
    row = OutboxMailFactory()
    OutboxMail.objects.filter(pk=row.pk).update(claim=row.pk, claimed_until=timezone.now() + timedelta(seconds=60))
    assert deliver_due().sent == 0 and mail.outbox == []
    assert deliver_due(now=later(2)).sent == 1 and len(mail.outbox) == 1
    assert deliver_due(now=later(5)).sent == 0 and len(mail.outbox) == 1


def test_notices_are_mailed_through_the_outbox(moderator, django_capture_on_commit_callbacks):
    report = ReportFactory()
    with django_capture_on_commit_callbacks(execute=True):
        decision_apply(
            actor=moderator,
            report_id=report.pk,
            actions=[ActionRequest(kind="warning")],
            ground_type="terms",
            ground="Terms §4",
            facts="Insults in the lobby.",
        )
    notice_mail = OutboxMail.objects.get(kind="notice")
    assert notice_mail.recipients == [report.target.owner.email] and notice_mail.sent_at is not None
    assert [m.subject for m in mail.outbox if m.to == [report.target.owner.email]] == [notice_mail.subject]


def test_sent_mail_is_purged_after_the_keeping_time(settings):
    settings.MAIL_OUTBOX_KEEP_SENT_HOURS = 24
    now = timezone.now()
    old = OutboxMailFactory(sent_at=now - timedelta(hours=25))
    recent = OutboxMailFactory(sent_at=now - timedelta(hours=1))
    waiting = OutboxMailFactory(next_attempt_at=now - timedelta(days=3))
    assert purge_sent() == 1
    assert set(OutboxMail.objects.values_list("pk", flat=True)) == {recent.pk, waiting.pk}
    del old


def test_the_command_says_what_it_sent_and_what_waits(user, settings, django_capture_on_commit_callbacks, capsys):
    file_while_the_relay_is_down(user, settings, django_capture_on_commit_callbacks)
    OutboxMail.objects.update(next_attempt_at=timezone.now())
    call_command("deliver_mail")
    assert "sent 1, failed 0, still waiting 0" in capsys.readouterr().out
    assert len(mail.outbox) == 1


def test_a_batch_shares_one_lease_renewed_once_half_gone_and_a_row_taken_meanwhile_is_skipped():
    """Rows are claimed in a batch under one lease (reports/outbox.py CLAIM_BATCH). Before each is
    handed to the relay the lease is renewed once half of it is gone; a row whose lease ran out and
    that another worker took meanwhile is left to that worker."""
    for n in range(3):
        OutboxMailFactory(subject=f"mail {n}")
    now = timezone.now()
    batch = outbox._claim(now, size=10)
    assert len(batch) == 3 and len({row.claim for row in batch}) == 1
    assert set(OutboxMail.objects.values_list("claim", flat=True)) == {batch[0].claim}
    assert outbox._still_mine(batch[0], now + timedelta(seconds=1))  # most of the lease left: no write

    much_later = now + outbox._lease()  # the batch's lease ran out; another worker took the second row
    OutboxMail.objects.filter(pk=batch[1].pk).update(claim=uuid.uuid4(), claimed_until=much_later + outbox._lease())
    assert outbox._still_mine(batch[0], much_later)
    assert OutboxMail.objects.get(pk=batch[0].pk).claimed_until == much_later + outbox._lease()  # renewed
    assert not outbox._still_mine(batch[1], much_later)
    assert OutboxMail.objects.get(pk=batch[1].pk).claim != batch[1].claim  # left to the other worker


def test_the_worker_writes_the_confirmation_in_the_reporters_language_and_keeps_the_text_it_sent(
    user, django_capture_on_commit_callbacks
):
    """The confirmation's text is rendered when it is sent (reports/notify.py render_at_send), in the
    language chosen at filing whatever language the worker runs in, and kept with the row."""
    from django.utils import translation

    from config.dates import long_date
    from reports.services import account_language_set

    account_language_set(actor=user, language="de")
    with django_capture_on_commit_callbacks(execute=False):
        report = report_file(actor=user, target=TargetFactory(), category=Category.HARASSMENT, reason="Insults.")
    row = OutboxMail.objects.get()
    assert row.language == "de" and row.body == "" and row.subject.startswith("Wir haben deine Meldung")
    with translation.override("en"):
        assert deliver_due().sent == 1
    [message] = mail.outbox
    with translation.override("de"):
        received, due, category = long_date(report.created_at), long_date(report.due_at), report.get_category_display()
    assert category != Category(report.category).label  # German, not the English label
    assert f"Hallo {user.username}," in message.body
    assert f"{report.short_id} ({category})" in message.body and received in message.body and due in message.body
    assert str(report.id) in message.body and f"/report/{report.pk}/" in message.body
    row.refresh_from_db()
    assert row.body == message.body and row.sent_at is not None


def test_a_mail_with_both_or_neither_of_a_body_and_a_template_is_refused():
    from django.db import transaction

    with transaction.atomic():
        for text in ({}, {"body": "Hello", "template": "reports/email/report_received.txt"}):
            with pytest.raises(ValueError):
                outbox.enqueue(kind="notice", subject="Hi", recipients=["a@example.test"], **text)
