"""Trusted flaggers, misuse (DSA Art. 23), legal holds, evidence retention and the transparency counts."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.utils import timezone

from audit.models import AuditEvent
from moderation.enforcement import services as enforcement
from moderation.enforcement.models import AccountStanding, Notice, NoticeKind, Sanction, SanctionStatus
from moderation.services import report_review
from reports.categories import Category
from reports.models import Evidence, Report, Target
from reports.services import report_file
from tests.factories import EvidenceFactory, ReportFactory, TargetFactory, UserFactory
from tests.test_enforcement import decide

pytestmark = pytest.mark.django_db


def test_trusted_flaggers_get_a_shorter_deadline_and_are_counted_apart(admin_user, moderator, user, settings):
    with pytest.raises(PermissionDenied):
        enforcement.trusted_flagger_set(actor=moderator, account=user, trusted=True, reason="x")
    enforcement.trusted_flagger_set(actor=admin_user, account=user, trusted=True, reason="Designated by the DSC")
    flagged = report_file(actor=user, target=TargetFactory(), category=Category.HATE_SPEECH, reason="Slurs.")
    ordinary = report_file(actor=UserFactory(), target=TargetFactory(), category=Category.HATE_SPEECH, reason="x")
    assert flagged.from_trusted_flagger and not ordinary.from_trusted_flagger
    hours = settings.REPORT_DEADLINE_HOURS["high"]
    assert flagged.due_at - flagged.created_at == pytest.approx(timedelta(hours=hours / 2), abs=timedelta(seconds=5))
    # Same severity, filed later, still due first: it ranks first in a queue ordered by deadline.
    assert flagged.due_at < ordinary.due_at
    assert AuditEvent.objects.filter(event_type="account.flag_changed", object_id=str(user.pk)).exists()
    from moderation.metrics import Period, transparency_counts

    assert transparency_counts(Period.last(1))["notices_from_trusted_flaggers"] == 1


def test_misuse_warns_then_pauses_processing(moderator, user, settings, django_capture_on_commit_callbacks):
    settings.MISUSE_WARN_AFTER, settings.MISUSE_PAUSE_AFTER = 2, 3

    def unfounded():
        report = report_file(actor=user, target=TargetFactory(), category=Category.SPAM, reason="Everything is spam")
        report_review(actor=moderator, report_id=report.pk, status="dismissed")
        enforcement.report_mark_unfounded(actor=moderator, report_id=report.pk)

    unfounded()
    assert not Notice.objects.filter(recipient=user).exists()
    unfounded()
    assert Notice.objects.get(recipient=user).kind == NoticeKind.MISUSE_WARNING
    unfounded()
    standing = AccountStanding.objects.get(user=user)
    assert standing.reports_paused_until > timezone.now() + timedelta(days=settings.MISUSE_PAUSE_DAYS - 1)
    assert Notice.objects.filter(recipient=user, kind=NoticeKind.REPORTS_PAUSED).count() == 1
    with pytest.raises(ValidationError, match="paused processing your reports"):
        report_file(actor=user, target=TargetFactory(), category=Category.SPAM, reason="More")
    events = AuditEvent.objects.filter(event_type="account.flag_changed", object_id=str(user.pk))
    assert events.count() == 2 and all(e.data["rule"] == "misuse" for e in events)


def test_only_a_dismissed_report_can_be_marked_unfounded(moderator):
    with pytest.raises(ValidationError):
        enforcement.report_mark_unfounded(actor=moderator, report_id=ReportFactory().pk)


def _closed_with_evidence(days_ago: int, **kwargs) -> Report:
    report = ReportFactory(status="dismissed", **kwargs)
    evidence = EvidenceFactory(report=report)
    evidence.file.save("shot.png", ContentFile(b"png bytes"), save=True)
    target = report.target
    target.snapshot_file.save("snap.png", ContentFile(b"snapshot"), save=True)
    Report.objects.filter(pk=report.pk).update(closed_at=timezone.now() - timedelta(days=days_ago))
    return report


def test_purge_deletes_old_evidence_keeps_ids_and_respects_holds(
    compliance, capsys, django_capture_on_commit_callbacks
):
    old = _closed_with_evidence(100)
    recent = _closed_with_evidence(5)
    held = _closed_with_evidence(100)
    held_account = _closed_with_evidence(100)
    enforcement.legal_hold_set(actor=compliance, report_id=held.pk, hold=True, reason="Referral to police")
    enforcement.legal_hold_set(actor=compliance, account=held_account.target.owner, hold=True, reason="Court order")
    old_file = Evidence.objects.get(report=old).file.name

    with django_capture_on_commit_callbacks(execute=True):  # files go after the commit
        call_command("purge_evidence", older_than=90)
    assert "Purged evidence of 1 closed report(s): 1 evidence file(s), 1 snapshot(s). Kept 2" in capsys.readouterr().out

    evidence = Evidence.objects.get(report=old)
    assert evidence.purged_at and not evidence.file and evidence.sha256  # the hash stays as proof
    assert not default_storage.exists(old_file)
    target = Target.objects.get(pk=old.target_id)
    assert (
        target.snapshot_purged_at and not target.snapshot_file and target.snapshot_sha256 == old.target.snapshot_sha256
    )
    for kept in (recent, held, held_account):
        assert Evidence.objects.get(report=kept).file  # untouched
    assert AuditEvent.objects.filter(event_type="evidence.purged", object_id=str(old.pk)).count() == 1
    assert AuditEvent.objects.filter(event_type="report.legal_hold_changed").count() == 2


def test_an_open_appeal_keeps_the_evidence(moderator, user):
    report = _closed_with_evidence(100, reporter=user)
    Report.objects.filter(pk=report.pk).update(reviewed_by=moderator, closed_at=timezone.now() - timedelta(days=3))
    enforcement.appeal_file(actor=user, report_id=report.pk, text="Please look again")
    Report.objects.filter(pk=report.pk).update(closed_at=timezone.now() - timedelta(days=100))
    call_command("purge_evidence", older_than=90)
    assert Evidence.objects.get(report=report).file


def test_a_referral_to_the_authorities_keeps_the_evidence_unless_it_was_reversed(moderator, compliance, capsys):
    referred = _closed_with_evidence(100)
    reversed_referral = _closed_with_evidence(100)
    warned = _closed_with_evidence(100)
    # Decided as open cases (a referral awaits a second compliance officer), then aged past retention.
    cases = [referred.pk, reversed_referral.pk, warned.pk]
    Report.objects.filter(pk__in=cases).update(status="reviewed", closed_at=None)
    decide(compliance, referred, "refer_authorities", ground_type="law", ground="Criminal code §201a")
    decide(compliance, reversed_referral, "refer_authorities", ground_type="law", ground="Criminal code §201a")
    decide(moderator, warned, "warning")
    Sanction.objects.filter(reports=reversed_referral).update(status=SanctionStatus.REVERSED)
    Report.objects.filter(pk__in=cases).update(closed_at=timezone.now() - timedelta(days=100))
    call_command("purge_evidence", older_than=90)
    assert "Purged evidence of 2 closed report(s)" in capsys.readouterr().out
    assert Evidence.objects.get(report=referred).file
    assert not Evidence.objects.get(report=reversed_referral).file
    assert not Evidence.objects.get(report=warned).file


def test_legal_hold_needs_the_right(moderator):
    with pytest.raises(PermissionDenied):
        enforcement.legal_hold_set(actor=moderator, report_id=ReportFactory().pk, hold=True, reason="x")


def test_transparency_report_counts(moderator, compliance, capsys):
    for category in (Category.HARASSMENT, Category.HARASSMENT, Category.SPAM):
        ReportFactory(category=category)
    decide(moderator, ReportFactory(category=Category.HATE_SPEECH), "remove_content")
    decide(compliance, ReportFactory(category=Category.VIOLENCE), "termination", ground_type="law", ground="Art. 1")
    today = timezone.localdate().isoformat()
    call_command("transparency_report", "--start", today, "--end", today, "--format", "json")
    counts = json.loads(capsys.readouterr().out)
    assert counts["notices_received"] == 5
    assert counts["notices_by_category"]["harassment"] == 2 and counts["notices_by_category"]["spam"] == 1
    assert counts["notices_acted_on"] == 2
    assert counts["actions_on_law"] == 1 and counts["actions_on_terms_and_conditions"] == 1
    assert counts["actions_with_automation"] == 0 and counts["complaints_received"] == 0
    call_command("transparency_report", "--start", today, "--end", today, "--format", "csv")
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "metric,value" and "notices_received,5" in lines
