"""Mail the relay refused is kept and sent again by `manage.py resend_mail`: the reporter and the
affected account still hear back after a relay outage, exactly once, and a relay still down is
tried again later and later (the webhooks' backoff)."""

from __future__ import annotations

import io
import smtplib
from datetime import timedelta

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.core.management import CommandError, call_command
from django.utils import timezone

from moderation.enforcement.models import Notice
from moderation.notify import resend_due
from reports.categories import Category
from reports.models import Report, UnsentMail
from reports.services import report_file
from tests.factories import NoticeFactory, TargetFactory

pytestmark = pytest.mark.django_db

BROKEN = f"{__name__}.RelayDown"
WORKING = "django.core.mail.backends.locmem.EmailBackend"


class RelayDown(BaseEmailBackend):
    """A mail relay that is down."""

    def send_messages(self, email_messages):
        raise smtplib.SMTPServerDisconnected("relay went away")


def file_while_the_relay_is_down(user, settings, callbacks) -> Report:
    settings.EMAIL_BACKEND = BROKEN
    with callbacks(execute=True):
        report = report_file(
            actor=user, target=TargetFactory(), category=Category.HARASSMENT, reason="Insults in #lobby."
        )
    settings.EMAIL_BACKEND = WORKING
    return report


def later(minutes: int = 2):
    return timezone.now() + timedelta(minutes=minutes)


def test_a_refused_confirmation_is_kept_then_sent_once_when_the_relay_is_back(
    user, settings, django_capture_on_commit_callbacks
):
    report = file_while_the_relay_is_down(user, settings, django_capture_on_commit_callbacks)
    assert Report.objects.filter(pk=report.pk).exists() and mail.outbox == []
    kept = UnsentMail.objects.get()
    assert kept.recipients == [user.email] and kept.subject == f"We received your report {report.short_id}"
    assert str(report.id) in kept.body and "SMTPServerDisconnected" in kept.last_error

    # Not yet due: the first retry waits a minute.
    assert resend_due().sent == 0 and mail.outbox == []

    result = resend_due(now=later())
    assert (result.sent, result.failed) == (1, 0)
    [message] = mail.outbox
    assert message.to == [user.email] and message.subject == kept.subject and message.body == kept.body
    assert not UnsentMail.objects.exists()  # deleted once sent: an address kept no longer than needed
    assert resend_due(now=later(60)).sent == 0 and len(mail.outbox) == 1  # never twice


def test_a_relay_still_down_is_tried_one_mail_at_a_time_and_later_each_time(
    user, settings, django_capture_on_commit_callbacks
):
    file_while_the_relay_is_down(user, settings, django_capture_on_commit_callbacks)
    file_while_the_relay_is_down(user, settings, django_capture_on_commit_callbacks)
    settings.EMAIL_BACKEND = BROKEN
    now = later()
    result = resend_due(now=now)
    assert (result.sent, result.failed) == (0, 1)
    first, second = UnsentMail.objects.order_by("created_at")
    assert first.attempts == 2 and first.next_attempt_at >= timezone.now() + timedelta(seconds=59)
    assert second.attempts == 1  # the relay is down: the rest waits for the next run
    UnsentMail.objects.update(next_attempt_at=timezone.now())
    with pytest.raises(CommandError, match="refused again"):
        call_command("resend_mail", stdout=io.StringIO())


def test_a_notice_the_relay_refused_is_emailed_by_the_next_run(user, settings):
    notice = NoticeFactory(recipient=user)
    recent = NoticeFactory(recipient=user, subject="Just written")  # its own mail may still be on its way
    Notice.objects.filter(pk=notice.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    NoticeFactory(recipient=None, email="")  # nobody to mail

    result = resend_due()
    assert result.notices_sent == 1
    [message] = mail.outbox
    assert message.to == [user.email] and message.subject == notice.subject
    notice.refresh_from_db()
    recent.refresh_from_db()
    assert notice.emailed_at is not None and recent.emailed_at is None
    assert resend_due().notices_sent == 0


def test_the_command_says_what_it_sent_and_what_waits(user, settings, django_capture_on_commit_callbacks, capsys):
    file_while_the_relay_is_down(user, settings, django_capture_on_commit_callbacks)
    UnsentMail.objects.update(next_attempt_at=timezone.now())
    call_command("resend_mail")
    assert "sent 1 kept mails and 0 notices; still waiting: 0 mails, 0 notices" in capsys.readouterr().out
    assert len(mail.outbox) == 1
