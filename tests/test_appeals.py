"""Appeals (DSA Art. 20): by the affected account or a reporter whose report was dismissed, once,
within the window, decided by someone other than the original decider; reversal undoes the effect."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone, translation

from audit.models import AuditEvent
from moderation.enforcement import selectors as enforcement_selectors
from moderation.enforcement import services as enforcement
from moderation.enforcement.actions import ActionKind
from moderation.enforcement.models import Appeal, AppealStatus, Notice, Sanction, SanctionStatus
from moderation.enforcement.notices import appeal_token
from moderation.services import report_review
from reports.models import ReportStatus, TargetState
from tests.conftest import png_bytes
from tests.factories import PASSWORD, AppealFactory, ReportFactory, UserFactory
from tests.test_enforcement import decide

pytestmark = pytest.mark.django_db


@pytest.fixture
def suspended(moderator):
    report = ReportFactory()
    sanctions = decide(
        moderator, report, ActionKind.SUSPENSION, ActionKind.REMOVE_CONTENT, ends_at=timezone.now() + timedelta(days=7)
    )
    return report, {s.kind: s for s in sanctions}


def test_the_account_appeals_once_with_a_file(suspended):
    report, sanctions = suspended
    owner = report.target.owner
    attachment = SimpleUploadedFile("proof.png", png_bytes(), "image/png")
    appeal = enforcement.appeal_file(
        actor=owner,
        sanction_id=sanctions["suspension"].pk,
        text="It was a joke between friends.",
        attachment=attachment,
    )
    assert appeal.status == AppealStatus.PENDING and appeal.attachment_content_type == "image/png"
    assert AuditEvent.objects.filter(event_type="appeal.filed", object_id=str(appeal.pk)).exists()
    with pytest.raises(ValidationError, match="already appealed"):
        enforcement.appeal_file(actor=owner, sanction_id=sanctions["suspension"].pk, text="Again")


def test_only_the_affected_account_can_appeal_a_sanction(suspended, other_user):
    _, sanctions = suspended
    with pytest.raises(Sanction.DoesNotExist):
        enforcement.appeal_file(actor=other_user, sanction_id=sanctions["suspension"].pk, text="Not mine")


def test_the_appeal_window_closes(suspended, settings):
    report, sanctions = suspended
    Sanction.objects.filter(pk=sanctions["suspension"].pk).update(
        decided_at=timezone.now() - timedelta(days=settings.APPEAL_WINDOW_DAYS + 1)
    )
    with pytest.raises(ValidationError, match="has closed"):
        enforcement.appeal_file(actor=report.target.owner, sanction_id=sanctions["suspension"].pk, text="Late")


def test_the_original_decider_cannot_decide_the_appeal(suspended, moderator, compliance):
    report, sanctions = suspended
    appeal = enforcement.appeal_file(actor=report.target.owner, sanction_id=sanctions["suspension"].pk, text="x")
    with pytest.raises(PermissionDenied):  # a moderator has no right to decide appeals at all
        enforcement.appeal_decide(actor=moderator, appeal_id=appeal.pk, outcome="reversed", reason="r")
    decider = Sanction.objects.get(pk=sanctions["suspension"].pk).decided_by
    decider.groups.add(*compliance.groups.all())
    decider = type(decider).objects.get(pk=decider.pk)  # fresh permission cache
    with pytest.raises(ValidationError, match="other than the original decider"):
        enforcement.appeal_decide(actor=decider, appeal_id=appeal.pk, outcome="reversed", reason="r")


def test_reversal_lifts_the_suspension_and_restores_the_content(suspended, compliance, client):
    report, sanctions = suspended
    owner = report.target.owner
    appeal = enforcement.appeal_file(actor=owner, sanction_id=sanctions["suspension"].pk, text="Mistake")
    enforcement.appeal_decide(
        actor=compliance, appeal_id=appeal.pk, outcome="reversed", reason="The message was quoted out of context."
    )
    for sanction in Sanction.objects.filter(decision_id=sanctions["suspension"].decision_id):
        assert sanction.status == SanctionStatus.REVERSED
    report.target.refresh_from_db()
    assert report.target.state == TargetState.VISIBLE
    assert enforcement_selectors.sign_in_block(account=owner) is None
    assert client.post(reverse("login"), {"username": owner.username, "password": PASSWORD}).status_code == 302
    notice = Notice.objects.get(recipient=owner, appeal=appeal)
    assert "Reversed" in notice.body and "quoted out of context" in notice.body


def test_partial_reversal_undoes_only_the_appealed_action(suspended, compliance):
    report, sanctions = suspended
    appeal = enforcement.appeal_file(actor=report.target.owner, sanction_id=sanctions["suspension"].pk, text="x")
    enforcement.appeal_decide(
        actor=compliance,
        appeal_id=appeal.pk,
        outcome="partially_reversed",
        reason="Suspension too harsh; the removal stands.",
    )
    assert Sanction.objects.get(pk=sanctions["suspension"].pk).status == SanctionStatus.REVERSED
    assert Sanction.objects.get(pk=sanctions["remove_content"].pk).status == SanctionStatus.ACTIVE
    report.target.refresh_from_db()
    assert report.target.state == TargetState.REMOVED


def test_upheld_changes_nothing_and_cannot_be_decided_twice(suspended, compliance):
    report, sanctions = suspended
    appeal = enforcement.appeal_file(actor=report.target.owner, sanction_id=sanctions["suspension"].pk, text="x")
    enforcement.appeal_decide(actor=compliance, appeal_id=appeal.pk, outcome="upheld", reason="Clear violation.")
    assert enforcement_selectors.sign_in_block(account=report.target.owner) is not None
    with pytest.raises(ValidationError, match="already decided"):
        enforcement.appeal_decide(actor=compliance, appeal_id=appeal.pk, outcome="reversed", reason="r")


def test_a_reporter_appeals_a_dismissal_and_a_reversal_reopens_the_report(moderator, compliance, user):
    report = ReportFactory(reporter=user)
    report_review(actor=moderator, report_id=report.pk, status="dismissed", admin_notes="Nothing there.")
    appeal = enforcement.appeal_file(actor=user, report_id=report.pk, text="Look at the second message.")
    # Decided from a German page: the reopened report's record stays in one language.
    with translation.override("de"):
        enforcement.appeal_decide(actor=compliance, appeal_id=appeal.pk, outcome="reversed", reason="Missed it.")
    report.refresh_from_db()
    assert report.status == ReportStatus.REVIEWED and report.escalated
    assert report.escalation_reason == f"Appeal {str(appeal.pk)[:8]} reversed: Missed it."
    assert AuditEvent.objects.filter(event_type="report.reopened", object_id=str(report.pk)).exists()


def test_an_open_report_cannot_be_appealed(user):
    report = ReportFactory(reporter=user)
    with pytest.raises(ValidationError, match="Only a dismissed report"):
        enforcement.appeal_file(actor=user, report_id=report.pk, text="Hurry up")


def test_signed_out_account_appeals_through_the_signed_link(client, suspended):
    report, sanctions = suspended
    url = reverse("enforcement:appeal_link", args=[appeal_token(sanction=sanctions["suspension"])])
    page = client.get(url)
    assert page.status_code == 200 and "Appeal this decision" in page.content.decode()
    response = client.post(url, {"text": "Please look again."})
    assert response.status_code == 200
    appeal = Appeal.objects.get()
    assert appeal.appellant == report.target.owner and appeal.sanction == sanctions["suspension"]
    assert client.get(reverse("enforcement:appeal_link", args=["forged-token"])).status_code == 404


def test_appeal_pages_permissions(client, suspended, moderator, compliance):
    report, sanctions = suspended
    appeal = enforcement.appeal_file(actor=report.target.owner, sanction_id=sanctions["suspension"].pk, text="x")
    queue, detail = reverse("enforcement:appeals"), reverse("enforcement:appeal", args=[appeal.pk])
    assert client.get(queue).status_code == 302  # anonymous -> sign in
    client.force_login(UserFactory())
    assert client.get(queue).status_code == 403
    client.force_login(moderator)
    assert client.get(detail).status_code == 403
    client.force_login(compliance)
    assert client.get(queue).status_code == 200 and client.get(detail).status_code == 200
    response = client.post(detail, {"outcome": "reversed", "reason": "Wrong call."})
    assert response.status_code == 302
    appeal.refresh_from_db()
    assert appeal.status == AppealStatus.REVERSED and appeal.decided_by == compliance


# --- the appeals queue --------------------------------------------------------------------------------


def _queue(client, **params) -> str:
    return client.get(reverse("enforcement:appeals"), params).content.decode()


def test_the_appeals_queue_filters_by_status_subject_and_overdue(client, compliance):
    now = timezone.now()
    on_time = AppealFactory(due_at=now + timedelta(days=3))
    late = AppealFactory(due_at=now - timedelta(hours=2))
    decided = AppealFactory(status=AppealStatus.UPHELD, decided_by=compliance, decided_at=now)
    dismissed = ReportFactory(status=ReportStatus.DISMISSED, closed_at=now)
    on_report = AppealFactory(appellant=dismissed.reporter, sanction=None, report=dismissed)
    shown = {
        "on_time": reverse("enforcement:appeal", args=[on_time.pk]),
        "late": reverse("enforcement:appeal", args=[late.pk]),
        "decided": reverse("enforcement:appeal", args=[decided.pk]),
        "on_report": reverse("enforcement:appeal", args=[on_report.pk]),
    }

    def listed(page: str) -> set[str]:
        return {name for name, url in shown.items() if url in page}

    client.force_login(compliance)
    default = _queue(client)  # pending ones by default, with the counts and the overdue one marked
    assert listed(default) == {"on_time", "late", "on_report"}
    assert "3 pending" in default and "1 overdue" in default
    link_at = default.index(shown["late"])
    late_row = default[default.rindex("<tr>", 0, link_at) : default.index("</tr>", link_at)]
    assert 'class="deadline-overdue"' in late_row and 'class="badge badge-appeal-pending"' in late_row
    assert listed(_queue(client, status="upheld")) == {"decided"}
    assert listed(_queue(client, status="", subject="report")) == {"on_report"}
    assert listed(_queue(client, status="", subject="sanction")) == {"on_time", "late", "decided"}
    assert listed(_queue(client, overdue="on")) == {"late"}
    assert f"Dismissed report {dismissed.short_id}" in default


def test_the_appeals_queue_costs_the_same_queries_for_3_or_30(client, compliance, django_assert_max_num_queries):
    AppealFactory.create_batch(3)
    client.force_login(compliance)
    with django_assert_max_num_queries(20) as few:
        client.get(reverse("enforcement:appeals"))
    AppealFactory.create_batch(27)
    with django_assert_max_num_queries(len(few)):
        page = client.get(reverse("enforcement:appeals")).content.decode()
    assert page.count('class="badge badge-appeal-pending"') == 25  # one page
