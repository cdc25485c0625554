"""reports/hooks.py: how the reports app asks enforcement about accounts without importing it, and
what enforcement answers (moderation/enforcement/reports_hooks.py, registered at start-up)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.db.models import OuterRef
from django.utils import timezone

from moderation.enforcement.models import AccountStanding
from moderation.enforcement.reports_hooks import ReportsHooks
from moderation.enforcement.wording import long_date
from moderation.stories.reports_hooks import PrePublicationReview
from reports import hooks
from tests.factories import AppealFactory, NoticeFactory, ReportFactory, SanctionFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_enforcement_registers_its_answers_when_django_starts():
    assert isinstance(hooks.enforcement(), ReportsHooks)


def test_nothing_registered_is_a_configuration_error_not_a_silent_default(monkeypatch):
    monkeypatch.setattr(hooks, "_registered", None)
    with pytest.raises(ImproperlyConfigured, match="moderation.enforcement"):
        hooks.enforcement()


def test_stories_register_the_pre_publication_review_and_nothing_registered_is_an_error(monkeypatch):
    assert isinstance(hooks.pre_publication_review(), PrePublicationReview)
    monkeypatch.setattr(hooks, "_pre_publication_review", None)
    with pytest.raises(ImproperlyConfigured, match="moderation.stories"):
        hooks.pre_publication_review()


def test_a_reporters_standing_defaults_without_a_row_and_is_read_from_the_joined_row(user, django_assert_num_queries):
    assert hooks.enforcement().reporter_standing(user) == hooks.ReporterStanding()
    paused = timezone.now() + timedelta(days=3)
    AccountStanding.objects.create(user=user, trusted_flagger=True, reports_paused_until=paused)
    expected = hooks.ReporterStanding(trusted_flagger=True, reports_paused_until=paused)
    assert hooks.enforcement().reporter_standing(get_user_model().objects.get(pk=user.pk)) == expected
    # Loaded with the account through account_relations (as the API token's query does): no query of its own.
    loaded = get_user_model().objects.select_related(*hooks.enforcement().account_relations).get(pk=user.pk)
    with django_assert_num_queries(0):
        assert hooks.enforcement().reporter_standing(loaded) == expected


def test_the_sign_in_check_is_an_expression_for_the_accounts_own_query(user):
    accounts = get_user_model().objects.annotate(blocked=hooks.enforcement().sign_in_blocked(OuterRef("pk")))
    assert accounts.get(pk=user.pk).blocked is False
    SanctionFactory(account=user, kind="suspension", status="active", ends_at=timezone.now() + timedelta(days=1))
    assert accounts.get(pk=user.pk).blocked is True


def test_the_account_page_gets_restrictions_and_the_notice_count_as_plain_values(user):
    ends = timezone.now() + timedelta(hours=5)
    SanctionFactory(account=user, kind="timeout", status="active", ends_at=ends)
    SanctionFactory(account=user, kind="warning", status="done")  # a one-off restricts nothing
    NoticeFactory(recipient=user)
    NoticeFactory(recipient=UserFactory(username="someone_else_notified"))
    assert hooks.enforcement().account_notices(user) == hooks.AccountNotices(
        restrictions=[hooks.Restriction(label=f"Your account is timed out until {long_date(ends)}", ends_at=ends)],
        notice_count=1,
    )


def test_the_reporters_page_gets_their_appeal_on_a_dismissed_report(user):
    report = ReportFactory(reporter=user, status="dismissed")
    assert hooks.enforcement().report_appeal(report) is None
    appeal = AppealFactory(appellant=user, report=report, sanction=None)
    answer = hooks.enforcement().report_appeal(report)
    assert answer == hooks.ReportAppeal(
        status="pending",
        status_label="Pending",
        is_open=True,
        created_at=appeal.created_at,
        due_at=appeal.due_at,
        decision_reason="",
    )
