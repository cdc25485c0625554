"""reports.services.report_file: what a filed report holds, its audit row, every refusal, the
duplicate rule (in code and in the database), the rate limit, deadlines and the confirmation mail."""

from __future__ import annotations

import smtplib
import socket
import time
from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.mail.backends.base import BaseEmailBackend
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit import services as audit
from audit.models import AuditEvent
from audit.verify import verify
from config import throttle
from config.links import absolute_url
from reports import services
from reports.categories import CATEGORY_RULES, Category, Severity, critical_categories
from reports.models import Evidence, OutboxMail, Report, ReportChannel, ReportStatus, TargetKind
from reports.services import ALREADY_REPORTED, OWN_CONTENT, RateLimitExceeded, report_file
from tests.conftest import png_bytes
from tests.factories import ReportFactory, TargetFactory

pytestmark = pytest.mark.django_db


class BrokenMailBackend(BaseEmailBackend):
    """A mail server that is down."""

    def send_messages(self, email_messages):
        raise smtplib.SMTPServerDisconnected("mail server went away")


def file(actor, target=None, **kwargs) -> Report:
    kwargs.setdefault("category", Category.HARASSMENT)
    kwargs.setdefault("reason", "They insult me in #lobby every evening.")
    return report_file(actor=actor, target=target or TargetFactory(), **kwargs)


def refusal(actor, target=None, **kwargs) -> dict[str, list[str]]:
    before = (Report.objects.count(), AuditEvent.objects.count(), Evidence.objects.count())
    with pytest.raises(ValidationError) as caught:
        file(actor, target, **kwargs)
    assert (Report.objects.count(), AuditEvent.objects.count(), Evidence.objects.count()) == before
    error = caught.value
    return error.message_dict if hasattr(error, "error_dict") else {"__all__": error.messages}


def stored_evidence_files() -> list[str]:
    if not default_storage.exists("evidence"):
        return []
    return [d for d in default_storage.listdir("evidence")[0] if default_storage.listdir(f"evidence/{d}")[1]]


# --- Filing ---------------------------------------------------------------------------------------


def test_report_file_stores_the_report_and_its_audit_event(user):
    target = TargetFactory(kind=TargetKind.VIDEO_SESSION)
    incident = timezone.now() - timedelta(hours=3)
    report = file(
        user,
        target,
        category=Category.HATE_SPEECH,
        reason="  Slurs in the chat.  ",
        incident_at=incident,
        is_pattern=True,
    )
    report.refresh_from_db()
    assert report.reporter == user and report.target == target
    assert report.report_type == TargetKind.VIDEO_SESSION
    assert report.channel == ReportChannel.WEB
    assert report.status == ReportStatus.PENDING
    assert report.severity == Severity.HIGH
    assert report.reason == "Slurs in the chat."
    assert report.incident_at == incident and report.is_pattern
    assert not report.escalated

    event = AuditEvent.objects.get(event_type="report.created")
    assert event.actor == user and event.actor_label == user.username
    assert (event.object_type, event.object_id) == ("report", str(report.id))
    assert event.before is None
    assert event.after["status"] == "pending" and event.after["category"] == "hate_speech"
    assert event.after["report_type"] == "video_session" and event.after["severity"] == "high"
    assert event.data == {"channel": "web", "target": str(target.public_id), "evidence_sha256": []}
    assert verify().intact


@pytest.mark.parametrize("kind", TargetKind.values)
def test_every_kind_of_target_can_be_reported(user, kind):
    report = file(user, TargetFactory(kind=kind))
    assert report.report_type == kind
    assert AuditEvent.objects.for_object("report", report.id).get().event_type == "report.created"


def test_evidence_is_cleaned_stored_under_a_random_name_and_its_hash_audited(user):
    photo = SimpleUploadedFile("../../etc/passwd.pdf", png_bytes(exif=True), "application/pdf")
    screen = SimpleUploadedFile("screen.png", png_bytes(), "image/png")
    report = file(user, evidence=[photo, screen])
    photo_row, screen_row = report.evidence.order_by("original_name")
    assert photo_row.original_name == "passwd.pdf"  # the name is kept for display only
    assert photo_row.content_type == "image/jpeg"
    assert photo_row.file.name.startswith(f"evidence/{report.id}/") and photo_row.file.name.endswith(".jpg")
    assert ".." not in photo_row.file.name and "passwd" not in photo_row.file.name
    with photo_row.file.open("rb") as handle:
        content = handle.read()
    assert b"SpyCam" not in content and len(content) == photo_row.size
    event = AuditEvent.objects.get(event_type="report.created")
    assert sorted(event.data["evidence_sha256"]) == sorted([photo_row.sha256, screen_row.sha256])


def test_zero_tolerance_categories_go_to_compliance_at_once(user):
    report = file(user, category=Category.SEX_TRAFFICKING)
    assert report.escalated and "Zero-tolerance" in report.escalation_reason
    assert AuditEvent.objects.get(event_type="report.created").after["escalated"] is True


def test_a_signed_out_visitor_cannot_use_report_file():
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(PermissionError):
        file(AnonymousUser())
    assert not Report.objects.exists()


# --- Deadlines from the one category table ----------------------------------------------------------


@pytest.mark.parametrize("category", Category.values)
def test_due_at_is_24_hours_for_critical_categories_and_7_days_for_the_rest(user, category):
    report = file(user, category=category)
    expected = timedelta(hours=24) if category in critical_categories() else timedelta(days=7)
    assert report.due_at - report.created_at == pytest.approx(expected, abs=timedelta(seconds=5))
    assert report.severity == CATEGORY_RULES[category].severity


def test_the_critical_categories_are_the_ones_the_policy_names():
    assert set(critical_categories()) == {
        Category.ILLEGAL_CONTENT,
        Category.CHILD_SAFETY,
        Category.UNDERAGE_USER,
        Category.NON_CONSENSUAL,
        Category.HUMAN_TRAFFICKING,
        Category.SEX_TRAFFICKING,
        Category.VIOLENCE,
    }
    assert set(CATEGORY_RULES) == set(Category.values)


def test_deadlines_follow_the_settings(user, settings):
    settings.REPORT_DEADLINE_HOURS = {**settings.REPORT_DEADLINE_HOURS, "critical": 12}
    report = file(user, category=Category.VIOLENCE)
    assert report.due_at - report.created_at == pytest.approx(timedelta(hours=12), abs=timedelta(seconds=5))


# --- Bad input: a clear message and nothing stored ---------------------------------------------------


@pytest.mark.parametrize("reason", ["", "   \n\t "])
def test_an_empty_reason_is_refused(user, reason):
    assert refusal(user, reason=reason) == {"reason": ["Tell us what happened."]}


def test_the_reason_may_have_1000_characters_but_not_1001(user):
    assert file(user, reason="x" * 1000).reason == "x" * 1000
    errors = refusal(user, reason="y" * 1001)
    assert errors == {"reason": ["Keep the reason to 1,000 characters or fewer (it has 1,001)."]}


def test_the_api_channel_allows_2000_characters(user):
    assert len(file(user, reason="x" * 2000, channel=ReportChannel.API).reason) == 2000
    assert "2,000 characters" in refusal(user, reason="x" * 2001, channel=ReportChannel.API)["reason"][0]


def test_an_unknown_category_is_refused(user):
    assert refusal(user, category="bad_vibes") == {"category": ["Choose one of the listed categories."]}


def test_an_incident_in_the_future_is_refused(user):
    errors = refusal(user, incident_at=timezone.now() + timedelta(hours=2))
    assert errors == {"incident_at": ["The time it happened cannot be in the future."]}


def test_reporting_your_own_content_is_refused(user):
    assert refusal(user, TargetFactory(owner=user)) == {"target": [OWN_CONTENT]}


def test_more_than_five_evidence_files_are_refused(user):
    files = [SimpleUploadedFile(f"s{i}.png", png_bytes()) for i in range(6)]
    assert refusal(user, evidence=files) == {"evidence": ["Attach at most 5 files."]}
    assert stored_evidence_files() == []


def test_one_bad_evidence_file_refuses_the_report_and_keeps_no_file(user):
    good = SimpleUploadedFile("fine.png", png_bytes())
    bad = SimpleUploadedFile("notes.png", b"hello, not an image")
    errors = refusal(user, evidence=[good, bad])
    assert errors == {
        "evidence": ["“notes.png” is not an image (PNG, JPEG, GIF, WebP) or a PDF, whatever its name says."]
    }
    assert stored_evidence_files() == []


def test_evidence_over_the_size_limit_is_refused(user, settings):
    settings.EVIDENCE_MAX_BYTES = 100
    errors = refusal(user, evidence=[SimpleUploadedFile("big.png", png_bytes())])
    assert errors == {"evidence": ["“big.png” is larger than 100\xa0bytes."]}


# --- One open report per person per target -------------------------------------------------------------


def test_a_second_open_report_on_the_same_target_is_refused(user):
    first = file(user)
    assert refusal(user, first.target) == {"target": [ALREADY_REPORTED]}
    first_reviewed = Report.objects.filter(pk=first.pk)
    first_reviewed.update(status=ReportStatus.REVIEWED)
    assert refusal(user, first.target) == {"target": [ALREADY_REPORTED]}


def test_someone_else_may_report_the_same_target(user, other_user):
    first = file(user)
    assert file(other_user, first.target).target == first.target


@pytest.mark.parametrize("closed", [ReportStatus.RESOLVED, ReportStatus.DISMISSED])
def test_a_new_report_is_accepted_once_the_earlier_one_is_closed(user, closed):
    first = file(user)
    Report.objects.filter(pk=first.pk).update(status=closed)
    assert file(user, first.target).pk != first.pk


def test_the_database_allows_one_open_report_per_reporter_and_target(user):
    open_report = ReportFactory(reporter=user)
    with pytest.raises(IntegrityError), transaction.atomic():
        ReportFactory(reporter=user, target=open_report.target, status=ReportStatus.REVIEWED)
    # Closed reports, and complaints without an account, are not limited.
    ReportFactory(reporter=user, target=open_report.target, status=ReportStatus.RESOLVED)
    ReportFactory(reporter=user, target=open_report.target, status=ReportStatus.DISMISSED)
    ReportFactory(reporter=None, target=open_report.target)
    ReportFactory(reporter=None, target=open_report.target)
    assert Report.objects.filter(target=open_report.target).count() == 5


def test_a_duplicate_that_races_past_the_check_is_caught_by_the_constraint(user, monkeypatch):
    """Two submissions at once: both pass the "already reported?" query, the database lets one in.

    The other request's insert is made to land between this request's check and its insert."""
    target = TargetFactory()
    real_rate_limit = services._check_rate_limit

    def other_request_files_first(*, reporter):
        ReportFactory(reporter=reporter, target=target)
        real_rate_limit(reporter=reporter)

    monkeypatch.setattr(services, "_check_rate_limit", other_request_files_first)
    with pytest.raises(ValidationError) as caught:
        file(user, target, evidence=[SimpleUploadedFile("s.png", png_bytes())])
    assert caught.value.message_dict == {"target": [ALREADY_REPORTED]}
    assert caught.value.error_dict["target"][0].code == "duplicate"
    assert Report.objects.filter(target=target).count() == 1
    assert not AuditEvent.objects.filter(event_type="report.created").exists()
    assert not Evidence.objects.exists() and stored_evidence_files() == []
    # The connection is still usable afterwards (only the failed insert was rolled back).
    monkeypatch.undo()
    assert file(user).pk


# --- Rate limit --------------------------------------------------------------------------------------


def test_the_rate_limit_defaults_to_20_an_hour(settings):
    assert settings.REPORTS_PER_HOUR_LIMIT == 20


def test_more_reports_than_the_hourly_limit_are_refused(user, other_user, settings):
    settings.REPORTS_PER_HOUR_LIMIT = 2
    file(user)
    file(user)
    before = Report.objects.count()
    with pytest.raises(RateLimitExceeded) as caught:
        file(user)
    assert Report.objects.count() == before
    assert caught.value.messages == [
        "You have sent 2 reports in the last hour, the most we accept. Please try again in 59 minutes."
    ]
    assert 3500 < caught.value.retry_after <= 3600
    # The limit is per person.
    assert file(other_user).reporter == other_user


def test_the_stored_reports_are_checked_under_the_lock_when_the_attempt_counter_starts_a_new_hour(user, settings):
    # The attempt counter's window is a fixed hour; the stored reports' the last sixty minutes. A
    # filing with nothing to decode reads them only under the lock, and is refused there, exactly.
    settings.REPORTS_PER_HOUR_LIMIT = 2
    file(user)
    file(user)
    throttle.reset(scope="filing", subject=str(user.pk), window=3600)
    before = Report.objects.count()
    with pytest.raises(RateLimitExceeded) as caught:
        file(user)
    assert Report.objects.count() == before
    assert caught.value.messages == [
        "You have sent 2 reports in the last hour, the most we accept. Please try again in 59 minutes."
    ]


def test_reports_older_than_an_hour_do_not_count(user, settings):
    settings.REPORTS_PER_HOUR_LIMIT = 2
    old = [ReportFactory(reporter=user), ReportFactory(reporter=user)]
    Report.objects.filter(pk__in=[r.pk for r in old]).update(created_at=timezone.now() - timedelta(minutes=61))
    file(user)
    file(user)
    with pytest.raises(RateLimitExceeded):
        file(user)


def test_retry_after_counts_from_the_oldest_report_in_the_window(user, settings):
    settings.REPORTS_PER_HOUR_LIMIT = 2
    first, _ = file(user), file(user)
    Report.objects.filter(pk=first.pk).update(created_at=timezone.now() - timedelta(minutes=50))
    with pytest.raises(RateLimitExceeded) as caught:
        file(user)
    assert 9 * 60 < caught.value.retry_after <= 10 * 60


def test_with_more_reports_in_the_hour_than_the_limit_a_slot_frees_when_the_limit_th_newest_ages_out(user, settings):
    # E.g. the limit was lowered: of three reports in the hour, the second newest decides.
    settings.REPORTS_PER_HOUR_LIMIT = 3
    reports = [file(user), file(user), file(user)]
    for report, minutes_ago in zip(reports, (50, 40, 30), strict=True):
        Report.objects.filter(pk=report.pk).update(created_at=timezone.now() - timedelta(minutes=minutes_ago))
    settings.REPORTS_PER_HOUR_LIMIT = 2
    with pytest.raises(RateLimitExceeded) as caught:
        file(user)
    assert 19 * 60 < caught.value.retry_after <= 20 * 60


# --- Confirmation mail --------------------------------------------------------------------------------


def test_the_reporter_gets_a_confirmation_after_commit(user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        report = file(user, category=Category.VIOLENCE)
        assert mail.outbox == []  # nothing is sent before the report is committed
    # The confirmation, and the audit chain's sealer.
    assert len(callbacks) == 2
    assert AuditEvent.objects.for_object("report", report.id).get().seq is not None
    [message] = mail.outbox
    assert message.to == [user.email]
    assert message.subject == f"We received your report {report.short_id}"
    assert str(report.id) in message.body and "Violence or threats" in message.body
    assert "We never tell the person you reported who reported them" in message.body


def test_a_refused_report_sends_no_mail(user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValidationError):
        file(user, reason="")
    assert mail.outbox == []


def test_a_mail_failure_does_not_lose_the_report(user, settings, django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = f"{__name__}.BrokenMailBackend"
    with django_capture_on_commit_callbacks(execute=True):
        report = file(user)
    assert Report.objects.filter(pk=report.pk, status=ReportStatus.PENDING).exists()
    assert AuditEvent.objects.for_object("report", report.id).count() == 1
    kept = OutboxMail.objects.get()  # written with the report; the relay's refusal is recorded on it
    assert kept.sent_at is None and "SMTPServerDisconnected" in kept.last_error and kept.attempts == 1


def test_the_confirmation_is_written_in_the_filing_transaction(user):
    """In the outbox before the commit, with the facts its text is rendered from when it is sent (the
    worker renders it: tests/test_mail_outbox.py): a filing rolled back leaves no mail behind."""
    with pytest.raises(RuntimeError), transaction.atomic():
        report = file(user)
        row = OutboxMail.objects.get()
        assert row.recipients == [user.email] and row.kind == "report_received"
        assert row.subject == f"We received your report {report.short_id}" and row.body == ""
        assert row.template == "reports/email/report_received.txt" and row.language == "en"
        assert row.context == {
            "name": user.username,
            "reference": report.short_id,
            "category": report.category,
            "received": report.created_at.isoformat(),
            "due": report.due_at.isoformat(),
            "report_url": absolute_url("reports:detail", report.pk),
            "report_id": str(report.id),
        }
        raise RuntimeError("the change is rolled back")
    assert not OutboxMail.objects.exists() and not Report.objects.exists()


def test_without_a_broker_a_relay_that_never_answers_costs_the_filing_only_the_timeout(
    user, settings, django_capture_on_commit_callbacks
):
    """Embedded (no broker: the demo, these tests), the outbox is delivered in the process right after
    the commit. A real SMTP client against a socket that accepts and then says nothing (a hung relay):
    it gives up after EMAIL_TIMEOUT, the report stands, the mail waits in the outbox. With a broker
    the request does not wait at all (tests/test_worker.py, bench_filing)."""
    with socket.socket() as relay:
        relay.bind(("127.0.0.1", 0))
        relay.listen(1)
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = relay.getsockname()
        settings.EMAIL_TIMEOUT = 1
        started = time.monotonic()
        with django_capture_on_commit_callbacks(execute=True):
            report = file(user)
        waited = time.monotonic() - started
    assert 1 <= waited < 5
    assert Report.objects.filter(pk=report.pk).exists()
    kept = OutboxMail.objects.get()
    assert kept.subject == f"We received your report {report.short_id}" and kept.sent_at is None
    assert "timed out" in kept.last_error


# --- Targets registered by the platform ------------------------------------------------------------


def test_target_register_creates_then_updates_and_audits_both(other_user):
    target, created = services.target_register(
        actor=audit.SYSTEM,
        kind=TargetKind.FILE,
        external_id="f-1",
        owner=other_user,
        title="clip.png",
        file_content=png_bytes(),
        file_content_type="image/png",
    )
    assert created and target.snapshot_sha256 and target.snapshot_file.name
    again, created_again = services.target_register(
        actor=audit.SYSTEM, kind=TargetKind.FILE, external_id="f-1", owner=other_user, title="clip (renamed).png"
    )
    assert again.pk == target.pk and not created_again and again.title == "clip (renamed).png"
    first, second = AuditEvent.objects.filter(event_type="target.registered").order_by("id")
    assert first.before is None and first.after["title"] == "clip.png"
    assert second.before["title"] == "clip.png" and second.after["title"] == "clip (renamed).png"


def test_a_reported_targets_snapshot_is_evidence_and_is_never_overwritten(user, other_user):
    target, _ = services.target_register(
        actor=audit.SYSTEM,
        kind=TargetKind.MESSAGE,
        external_id="m-1",
        owner=other_user,
        title="Message",
        text="the original insult",
    )
    file(user, target)
    services.target_register(
        actor=audit.SYSTEM,
        kind=TargetKind.MESSAGE,
        external_id="m-1",
        owner=other_user,
        title="Message",
        text="edited to look harmless",
    )
    target.refresh_from_db()
    assert target.snapshot_text == "the original insult"


def test_target_register_refuses_an_unknown_kind(other_user):
    with pytest.raises(ValidationError):
        services.target_register(actor=audit.SYSTEM, kind="hologram", owner=other_user, title="?")
    assert not AuditEvent.objects.exists()
