"""What the affected person is told, in words: one wording per action kind (moderation/enforcement/wording.py)
for the sign-in block, the notices' subjects and the banner."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from moderation.enforcement import wording
from moderation.enforcement.actions import ACTION_RULES, ActionKind
from moderation.enforcement.models import AppealStatus, SanctionStatus
from reports.models import TargetKind
from tests.factories import AppealFactory, SanctionFactory, TargetFactory

pytestmark = pytest.mark.django_db

DEC_5 = datetime(2031, 12, 5, 14, 0, tzinfo=UTC)


def test_every_action_has_its_wording_and_every_blocking_one_a_sign_in_state():
    assert set(wording.ACTION_WORDING) == set(ActionKind.values)
    for kind, rule in ACTION_RULES.items():
        assert bool(wording.ACTION_WORDING[kind].sign_in_state) is rule.blocks_sign_in, kind
    assert set(wording.CONTENT_WORDS) == set(TargetKind.values)


def test_sign_in_wording_per_kind():
    suspension = SanctionFactory.build(kind=ActionKind.SUSPENSION, ends_at=DEC_5, target=None)
    termination = SanctionFactory.build(kind=ActionKind.TERMINATION, ends_at=None, target=None)
    assert wording.sign_in_block_message(suspension) == "This account is suspended until 5 Dec 2031, 14:00 UTC."
    assert wording.sign_in_block_message(termination) == "This account is permanently terminated."
    with pytest.raises(ValueError):
        wording.sign_in_block_message(SanctionFactory.build(kind=ActionKind.WARNING, target=None))


def test_a_decisions_subject_says_what_happened_to_the_content_then_the_account():
    target = TargetFactory(kind=TargetKind.MESSAGE)
    removal = SanctionFactory(kind=ActionKind.REMOVE_CONTENT, target=target, status=SanctionStatus.ACTIVE)
    suspension = SanctionFactory(kind=ActionKind.SUSPENSION, target=target, ends_at=DEC_5)
    referral = SanctionFactory(kind=ActionKind.REFER_AUTHORITIES, target=target)
    assert wording.decision_subject([removal]) == "Your message was removed"
    assert (
        wording.decision_subject([suspension, referral, removal])
        == "Your message was removed and your account is suspended until 5 Dec 2031"
    )
    warning = SanctionFactory(kind=ActionKind.WARNING, target=target)
    assert wording.decision_subject([warning, removal, suspension]).count(",") == 1  # a, b and c
    this_year = timezone.localtime().replace(month=12, day=5, hour=14, minute=0)
    timeout = SanctionFactory.build(kind=ActionKind.TIMEOUT, ends_at=this_year, target=None)
    assert wording.what_happened(timeout) == "Your account is timed out until 5 Dec"


def test_lift_and_appeal_subjects():
    story = TargetFactory(kind=TargetKind.VIDEO_STORY)
    quarantine = SanctionFactory(kind=ActionKind.QUARANTINE_FILE, target=story)
    assert wording.lifted_subject(quarantine) == "The quarantine of your video story was lifted"
    upheld = AppealFactory.build(status=AppealStatus.UPHELD)
    assert wording.appeal_decision_subject(upheld) == "Your appeal was not successful: the decision stands"
    assert set(wording.APPEAL_OUTCOME_SUBJECTS) == set(AppealStatus.values) - {AppealStatus.PENDING}
    paused = wording.misuse_subject(paused_until=DEC_5 + timedelta(days=1))
    assert paused == "We have paused your reports until 6 Dec 2031"
