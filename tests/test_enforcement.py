"""Enforcement decisions: every action's effect, its audit event, its notice, role rights,
the two-person referral, the ladder, expiry and lifting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.db.models import OuterRef
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from moderation.auth import RoleAwareBackend
from moderation.enforcement import selectors as enforcement_selectors
from moderation.enforcement import services as enforcement
from moderation.enforcement.actions import ActionKind
from moderation.enforcement.models import Notice, OutboxEvent, Sanction, SanctionStatus
from moderation.enforcement.services import ActionRequest, decision_apply
from moderation.services import TransitionRefused
from reports.categories import Category
from reports.models import ReportStatus, TargetState
from tests.factories import PASSWORD, ReportFactory, SanctionFactory, TargetFactory, UserFactory

pytestmark = pytest.mark.django_db


def decide(actor, report, *kinds, ends_at=None, **kwargs):
    kwargs.setdefault("ground_type", "terms")
    kwargs.setdefault("ground", "Terms of service §4.2 (harassment)")
    kwargs.setdefault("facts", "Repeated insults in the lobby after being asked to stop.")
    kwargs.setdefault("ladder_override_reason", "Chosen for the test.")
    return decision_apply(
        actor=actor, report_id=report.pk, actions=[ActionRequest(kind=k, ends_at=ends_at) for k in kinds], **kwargs
    )


def in_a_day():
    return timezone.now() + timedelta(days=1)


@pytest.fixture
def report(user):
    return ReportFactory(reporter=user)


def test_warning_resolves_the_report_with_audit_notice_and_webhook(moderator, report):
    [warning] = decide(moderator, report, ActionKind.WARNING, ladder_override_reason="")
    report.refresh_from_db()
    assert warning.status == SanctionStatus.DONE and warning.account == report.target.owner
    assert report.status == ReportStatus.RESOLVED and report.reviewed_by == moderator
    applied = AuditEvent.objects.get(event_type="sanction.applied", object_id=str(warning.pk))
    assert applied.actor == moderator and applied.after["kind"] == "warning"
    assert AuditEvent.objects.filter(event_type="report.reviewed", correlation_id=warning.decision_id).count() == 1
    assert OutboxEvent.objects.get().payload["kind"] == "warning"
    notice = Notice.objects.get(recipient=report.target.owner)
    assert notice.subject == "You received a warning"
    assert "- You received a warning" in notice.body and "Terms of service §4.2" in notice.body
    assert "appeal" in notice.body.lower()


def test_combined_decision_removes_content_and_warns_in_one_decision(moderator, report):
    sanctions = decide(moderator, report, ActionKind.REMOVE_CONTENT, ActionKind.WARNING, ladder_override_reason="")
    assert len({s.decision_id for s in sanctions}) == 1
    report.target.refresh_from_db()
    assert report.target.state == TargetState.REMOVED
    assert AuditEvent.objects.filter(event_type="target.state_changed").count() == 1
    # One statement of reasons for the whole decision, listing both actions.
    notice = Notice.objects.get(recipient=report.target.owner)
    assert notice.subject == "Your message was removed and you received a warning"
    assert "- Your message was removed\n- You received a warning" in notice.body


def test_quarantine_applies_to_files_only(moderator):
    file_report = ReportFactory(target=TargetFactory(kind="file"))
    decide(moderator, file_report, ActionKind.QUARANTINE_FILE)
    file_report.target.refresh_from_db()
    assert file_report.target.state == TargetState.QUARANTINED
    message_report = ReportFactory()
    with pytest.raises(ValidationError, match="does not apply"):
        decide(moderator, message_report, ActionKind.QUARANTINE_FILE)


def test_kick_is_for_live_sessions_and_tells_the_platform_the_session(moderator):
    session = TargetFactory(kind="video_session", metadata={"session_id": "sess-42"})
    [kick] = decide(moderator, ReportFactory(target=session), ActionKind.KICK)
    assert kick.status == SanctionStatus.DONE
    assert OutboxEvent.objects.get().payload["session_id"] == "sess-42"


def test_timeout_needs_an_end_and_is_readable_as_a_restriction(moderator, report):
    with pytest.raises(ValidationError, match="needs an end"):
        decide(moderator, report, ActionKind.TIMEOUT)
    [timeout] = decide(moderator, report, ActionKind.TIMEOUT, ends_at=in_a_day())
    from moderation.enforcement.selectors import my_restrictions

    assert my_restrictions(user=report.target.owner) == [timeout]


def test_suspension_refuses_sign_in_with_reason_until_it_ends(client, moderator, report):
    owner = report.target.owner
    [suspension] = decide(moderator, report, ActionKind.SUSPENSION, ends_at=in_a_day())
    response = client.post(reverse("login"), {"username": owner.username, "password": PASSWORD})
    assert response.status_code == 200  # the form again, not a redirect into the site
    page = response.content.decode()
    assert "This account is suspended until" in page and "Repeated insults" in page
    assert reverse("enforcement:appeal_link", args=["x"]).rsplit("x", 1)[0] in page
    assert "_auth_user_id" not in client.session

    # After its end the same password works (expiry is checked on access, no sweep needed).
    Sanction.objects.filter(pk=suspension.pk).update(ends_at=timezone.now() - timedelta(seconds=1))
    response = client.post(reverse("login"), {"username": owner.username, "password": PASSWORD})
    assert response.status_code == 302


def test_a_wrong_password_does_not_reveal_the_suspension(client, moderator, report):
    decide(moderator, report, ActionKind.SUSPENSION, ends_at=in_a_day())
    response = client.post(reverse("login"), {"username": report.target.owner.username, "password": "wrong"})
    assert "suspension" not in response.content.decode().lower()


def test_a_signed_in_session_ends_when_the_account_is_suspended(client, moderator, report):
    owner = report.target.owner
    client.force_login(owner)
    assert client.get(reverse("reports:mine")).status_code == 200
    decide(moderator, report, ActionKind.SUSPENSION, ends_at=in_a_day())
    response = client.get(reverse("reports:mine"))
    assert response.status_code == 302 and response.url == reverse("login")
    assert "_auth_user_id" not in client.session


def test_sign_in_says_in_words_until_when_the_account_is_suspended(client, moderator, report):
    owner = report.target.owner
    ends = datetime(2031, 12, 5, 14, 0, tzinfo=UTC)
    SanctionFactory(account=owner, kind=ActionKind.SUSPENSION, status=SanctionStatus.ACTIVE, ends_at=ends)
    response = client.post(reverse("login"), {"username": owner.username, "password": PASSWORD})
    assert response.context["form"].non_field_errors() == ["This account is suspended until 5 Dec 2031, 14:00 UTC."]


def test_sign_in_names_the_termination_when_a_suspension_is_also_in_force(client, report):
    """Both keep the account out; the permanent one is what it is told, on SQLite as on PostgreSQL
    (NULL end dates sort last in SQLite's descending order, first in PostgreSQL's)."""
    owner = report.target.owner
    SanctionFactory(account=owner, kind=ActionKind.SUSPENSION, status=SanctionStatus.ACTIVE, ends_at=in_a_day())
    termination = SanctionFactory(account=owner, kind=ActionKind.TERMINATION, status=SanctionStatus.ACTIVE)
    SanctionFactory(
        account=owner, kind=ActionKind.SUSPENSION, status=SanctionStatus.ACTIVE, ends_at=in_a_day() + timedelta(days=9)
    )
    assert enforcement_selectors.sign_in_block(account=owner) == termination
    response = client.post(reverse("login"), {"username": owner.username, "password": PASSWORD})
    assert response.context["form"].non_field_errors() == ["This account is permanently terminated."]
    assert response.context["form"].sanction_block == termination


def test_of_two_suspensions_sign_in_names_the_one_that_ends_last(report):
    owner = report.target.owner
    SanctionFactory(account=owner, kind=ActionKind.SUSPENSION, status=SanctionStatus.ACTIVE, ends_at=in_a_day())
    later = SanctionFactory(
        account=owner, kind=ActionKind.SUSPENSION, status=SanctionStatus.ACTIVE, ends_at=in_a_day() + timedelta(days=3)
    )
    assert enforcement_selectors.sign_in_block(account=owner) == later


@pytest.mark.parametrize(
    ("kind", "status", "ends_in_hours", "blocked"),
    [
        (ActionKind.SUSPENSION, SanctionStatus.ACTIVE, 24, True),
        (ActionKind.SUSPENSION, SanctionStatus.ACTIVE, -1, False),  # over
        (ActionKind.SUSPENSION, SanctionStatus.REVERSED, 24, False),
        (ActionKind.TERMINATION, SanctionStatus.ACTIVE, None, True),
        (ActionKind.WARNING, SanctionStatus.DONE, None, False),
        (ActionKind.TIMEOUT, SanctionStatus.ACTIVE, 24, False),  # a timeout mutes; it does not sign out
    ],
)
def test_the_sign_in_block_expression_agrees_with_sign_in_block(kind, status, ends_in_hours, blocked):
    """The session's account and an API token's owner are loaded with `sign_in_blocked` (no query of
    its own); it must say what `sign_in_block`, used at sign-in, says."""
    ends_at = None if ends_in_hours is None else timezone.now() + timedelta(hours=ends_in_hours)
    account = SanctionFactory(kind=kind, status=status, ends_at=ends_at).account
    UserFactory()  # an account without sanctions beside it
    accounts = get_user_model().objects.annotate(blocked=enforcement_selectors.sign_in_blocked(OuterRef("pk")))
    answers = dict(accounts.values_list("pk", "blocked"))
    assert (enforcement_selectors.sign_in_block(account=account) is not None) is blocked
    assert answers[account.pk] is blocked
    assert sum(answers.values()) == int(blocked)


def test_the_session_account_is_loaded_with_its_block_in_one_query(django_assert_num_queries, moderator, report):
    owner = report.target.owner
    backend = RoleAwareBackend()
    with django_assert_num_queries(1):
        loaded = backend.get_user(owner.pk)
        assert loaded._sign_in_blocked is False
    decide(moderator, report, ActionKind.SUSPENSION, ends_at=in_a_day())
    with django_assert_num_queries(1):
        assert backend.get_user(owner.pk)._sign_in_blocked is True


def test_moderator_cannot_terminate_withhold_or_refer(moderator, report):
    for kind in (ActionKind.TERMINATION, ActionKind.WITHHOLD_PAYMENTS, ActionKind.REFER_AUTHORITIES):
        with pytest.raises(PermissionDenied):
            decide(moderator, report, kind)
    assert Sanction.objects.count() == 0
    report.refresh_from_db()
    assert report.status == ReportStatus.PENDING


def test_termination_is_permanent_and_blocks_sign_in(compliance, report):
    [termination] = decide(compliance, report, ActionKind.TERMINATION)
    assert termination.ends_at is None and termination.status == SanctionStatus.ACTIVE
    assert enforcement_selectors.sign_in_block(account=report.target.owner) == termination


def test_withhold_payments_reaches_the_platform(compliance, report):
    [withhold] = decide(compliance, report, ActionKind.WITHHOLD_PAYMENTS)
    event = OutboxEvent.objects.get()
    assert event.payload["kind"] == "withhold_payments" and event.payload["account_id"] == report.target.owner_id
    assert withhold.status == SanctionStatus.ACTIVE


def test_referral_needs_a_second_compliance_officer(compliance, report):
    [referral] = decide(compliance, report, ActionKind.REFER_AUTHORITIES)
    assert referral.status == SanctionStatus.PENDING_APPROVAL
    assert not OutboxEvent.objects.exists()  # nothing counts before the second approval
    with pytest.raises(ValidationError, match="second officer"):
        enforcement.referral_approve(actor=compliance, sanction_id=referral.pk, reference="NCMEC-1")
    with pytest.raises(PermissionDenied):
        enforcement.referral_approve(actor=UserFactory(role="moderator"), sanction_id=referral.pk, reference="X")
    second = UserFactory(username="compliance2", role="compliance")
    approved = enforcement.referral_approve(actor=second, sanction_id=referral.pk, reference="NCMEC-1")
    assert approved.status == SanctionStatus.DONE and approved.reference == "NCMEC-1"
    assert AuditEvent.objects.filter(event_type="referral.approved", actor=second).exists()


def test_zero_tolerance_proposes_removal_termination_and_referral(moderator, compliance):
    report = ReportFactory(category=Category.CHILD_SAFETY)
    proposal = enforcement_selectors.decision_proposal(report=report, user=compliance)
    assert proposal.kinds == (ActionKind.REMOVE_CONTENT, ActionKind.TERMINATION, ActionKind.REFER_AUTHORITIES)
    assert proposal.beyond_role == () and proposal.ladder_kind == ActionKind.TERMINATION
    # A moderator is never proposed what their role cannot apply: the highest ladder step they may
    # take instead (a week's suspension), and the rest named for compliance.
    proposal = enforcement_selectors.decision_proposal(report=report, user=moderator)
    assert proposal.kinds == (ActionKind.REMOVE_CONTENT, ActionKind.SUSPENSION)
    assert proposal.duration == timedelta(days=7) and proposal.ladder_kind == ActionKind.SUSPENSION
    assert proposal.beyond_role == (ActionKind.TERMINATION, ActionKind.REFER_AUTHORITIES)


def test_ladder_proposes_the_next_step_and_a_different_choice_needs_a_reason(moderator):
    owner = UserFactory(username="repeat")
    first = ReportFactory(target=TargetFactory(owner=owner))
    assert enforcement_selectors.ladder_proposal(account=owner).kind == ActionKind.WARNING
    decide(moderator, first, ActionKind.WARNING, ladder_override_reason="")
    assert enforcement_selectors.ladder_proposal(account=owner).kind == ActionKind.TIMEOUT
    second = ReportFactory(target=TargetFactory(owner=owner))
    with pytest.raises(ValidationError, match="ladder proposes"):
        decide(moderator, second, ActionKind.WARNING, ladder_override_reason="")
    [warning] = decide(moderator, second, ActionKind.WARNING, ladder_override_reason="First offence in months.")
    assert warning.ladder_override_reason == "First offence in months."


def test_apply_to_all_open_reports_on_the_target_resolves_them_all(moderator, report):
    others = [ReportFactory(target=report.target) for _ in range(2)]
    [sanction] = decide(moderator, report, ActionKind.REMOVE_CONTENT, apply_to_all_open=True)
    assert set(sanction.reports.values_list("pk", flat=True)) == {report.pk, *(o.pk for o in others)}
    for other in others:
        other.refresh_from_db()
        assert other.status == ReportStatus.RESOLVED


def test_a_closed_report_cannot_take_a_second_decision(moderator, report):
    decide(moderator, report, ActionKind.WARNING, ladder_override_reason="")
    with pytest.raises(TransitionRefused, match="already resolved"):
        decide(UserFactory(role="moderator"), report, ActionKind.WARNING)


def test_bad_decision_input_stores_nothing(moderator, report):
    with pytest.raises(ValidationError) as error:
        decide(moderator, report, ActionKind.WARNING, ground="", facts="", ground_type="vibes")
    assert {"ground", "facts", "ground_type"} <= set(error.value.message_dict)
    assert not Sanction.objects.exists() and not AuditEvent.objects.filter(event_type="sanction.applied").exists()


def test_reporters_are_told_the_outcome_and_never_the_sanction(
    moderator, report, user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        decide(moderator, report, ActionKind.SUSPENSION, ends_at=in_a_day())
    to_reporter = [m for m in mail.outbox if user.email in m.to]
    assert len(to_reporter) == 1
    assert "action was taken" in to_reporter[0].body.lower()
    assert "suspen" not in to_reporter[0].body.lower()


def test_the_reported_account_never_learns_who_reported(client, moderator, user, django_capture_on_commit_callbacks):
    user.first_name = "Rita"
    user.save()
    report = ReportFactory(reporter=user, reason="It's me, Rita Reporter, and they hurt me")
    with django_capture_on_commit_callbacks(execute=True):
        decide(moderator, report, ActionKind.WARNING, ladder_override_reason="")
    owner = report.target.owner
    owner_mail = "\n".join(m.subject + m.body for m in mail.outbox if owner.email in m.to)
    notice_bodies = "\n".join(Notice.objects.filter(recipient=owner).values_list("body", flat=True))
    client.force_login(owner)
    pages = ""
    for notice in Notice.objects.filter(recipient=owner):
        pages += client.get(reverse("enforcement:notice", args=[notice.pk])).content.decode()
    pages += client.get(reverse("enforcement:notices")).content.decode()
    for text in (owner_mail, notice_bodies, pages):
        assert text  # there is something to check
        for secret in (user.username, user.email, "Rita", str(report.pk)):
            assert secret not in text


def test_lifting_early_restores_content_with_reason_and_audit(compliance, moderator, report):
    [removal] = decide(moderator, report, ActionKind.REMOVE_CONTENT)
    with pytest.raises(PermissionDenied):
        enforcement.sanction_lift(actor=moderator, sanction_id=removal.pk, reason="oops")
    enforcement.sanction_lift(actor=compliance, sanction_id=removal.pk, reason="Satire, not harassment.")
    removal.refresh_from_db()
    report.target.refresh_from_db()
    assert removal.status == SanctionStatus.LIFTED and removal.lift_reason == "Satire, not harassment."
    assert report.target.state == TargetState.VISIBLE
    assert AuditEvent.objects.filter(event_type="sanction.lifted", object_id=str(removal.pk)).exists()
    assert OutboxEvent.objects.filter(event_type="sanction.lifted").exists()


def test_expire_sanctions_records_the_end(moderator, report, capsys):
    [timeout] = decide(moderator, report, ActionKind.TIMEOUT, ends_at=in_a_day())
    Sanction.objects.filter(pk=timeout.pk).update(ends_at=timezone.now() - timedelta(minutes=1))
    call_command("expire_sanctions")
    assert "1 sanction(s) expired" in capsys.readouterr().out
    timeout.refresh_from_db()
    assert timeout.status == SanctionStatus.EXPIRED
    assert AuditEvent.objects.filter(event_type="sanction.expired", actor__isnull=True).count() == 1
    call_command("expire_sanctions")  # a second run finds nothing more
    assert "0 sanction(s) expired" in capsys.readouterr().out


def test_zero_tolerance_reports_go_to_compliance_when_filed(user):
    from reports.services import report_file

    report = report_file(
        actor=user, target=TargetFactory(), category=Category.CHILD_SAFETY, reason="An adult asks a child for photos."
    )
    assert report.escalated and "Zero-tolerance" in report.escalation_reason
    harassment = report_file(actor=user, target=TargetFactory(), category=Category.HARASSMENT, reason="Insults.")
    assert not harassment.escalated
