"""Issue 17, item 5: the decision page shows what is already in force with its END, a new action
that changes nothing (a 24-hour timeout inside a longer one) asks for confirmation, and the
ladder never proposes what the moderator's role cannot apply."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.template.defaultfilters import date as date_filter
from django.urls import reverse
from django.utils import timezone

from moderation.enforcement.actions import ActionKind
from moderation.enforcement.models import Sanction, SanctionStatus
from reports.categories import Category
from reports.models import ReportStatus
from tests.factories import ReportFactory, SanctionFactory, TargetFactory, UserFactory
from tests.html import attr, elements, one, text
from tests.test_enforcement import decide

pytestmark = pytest.mark.django_db


def decide_url(report) -> str:
    return reverse("enforcement:decide", args=[report.pk])


def _timed_out(moderator, *, days: int = 6):
    """An account under a timeout decided now and ending in `days` days, and a new report about it."""
    owner = UserFactory(username="timed_out")
    ends = timezone.now() + timedelta(days=days)
    decide(moderator, ReportFactory(target=TargetFactory(owner=owner)), ActionKind.TIMEOUT, ends_at=ends)
    return owner, ends, ReportFactory(target=TargetFactory(owner=owner))


def _form(**extra) -> dict:
    return {
        "ground_type": "terms",
        "ground": "Terms of service §4.2 (harassment)",
        "facts": "More insults in #lobby after the timeout.",
        **extra,
    }


def test_what_is_in_force_shows_its_end_not_its_start(client, moderator):
    owner, ends, report = _timed_out(moderator)
    client.force_login(moderator)
    html = client.get(decide_url(report)).content.decode()
    box = one(html, "div", class_="in-force")
    [line] = elements(box, "li")
    until = date_filter(timezone.localtime(ends), "j M, H:i")
    assert text(one(line, "strong")) == f"until {until}"
    assert text(one(line, "a")) == "Timeout (temporary restriction)"
    # The record beside it says the same, never only the day it was decided.
    record = [text(item) for item in elements(html, "li") if "until" in text(item) and item is not line]
    assert any(f"Active until {until}" in item for item in record)


def test_a_timeout_inside_a_longer_one_asks_for_confirmation(client, moderator):
    owner, ends, report = _timed_out(moderator)
    client.force_login(moderator)
    refused = client.post(decide_url(report), _form(actions=["timeout"], duration="24"))
    assert refused.status_code == 400
    assert Sanction.objects.filter(account=owner).count() == 1  # nothing new recorded
    html = refused.content.decode()
    summary = one(html, "div", data_error_summary=True)
    until = date_filter(timezone.localtime(ends), "j M, H:i")
    assert f"Already in force on @timed_out: Timeout (temporary restriction) until {until}." in text(summary)
    assert "would change nothing" in text(summary)
    assert attr(one(summary, "a"), "href") == "#id_confirm_unchanged"
    assert attr(one(html, "input", name="confirm_unchanged"), "type") == "checkbox"

    # Confirmed: recorded, and what was in force stays as it is.
    done = client.post(decide_url(report), _form(actions=["timeout"], duration="24", confirm_unchanged="on"))
    assert done.status_code == 302
    assert Sanction.objects.filter(account=owner, kind=ActionKind.TIMEOUT).count() == 2
    report.refresh_from_db()
    assert report.status == ReportStatus.RESOLVED


def test_a_longer_timeout_or_another_action_goes_through_without_asking(client, moderator):
    owner, _ends, report = _timed_out(moderator, days=2)
    client.force_login(moderator)
    response = client.post(
        decide_url(report), _form(actions=["timeout"], duration="720", ladder_override_reason="Third time.")
    )
    assert response.status_code == 302
    assert Sanction.objects.filter(account=owner, kind=ActionKind.TIMEOUT).count() == 2


def test_a_suspension_or_termination_in_force_covers_the_lesser_actions(moderator, compliance):
    owner = UserFactory()
    SanctionFactory(account=owner, kind=ActionKind.TERMINATION, status=SanctionStatus.ACTIVE)
    report = ReportFactory(target=TargetFactory(owner=owner))
    for kind in (ActionKind.TIMEOUT, ActionKind.SUSPENSION):
        with pytest.raises(ValidationError) as refused:
            decide(moderator, report, kind, ends_at=timezone.now() + timedelta(days=400))
        assert "Permanent termination with no end" in " ".join(refused.value.message_dict["confirm_unchanged"])
    with pytest.raises(ValidationError, match="would change nothing"):
        decide(compliance, report, ActionKind.TERMINATION)
    # A warning, or removing this content, is not covered by anything in force.
    [warning] = decide(moderator, report, ActionKind.WARNING, ActionKind.REMOVE_CONTENT)[:1]
    assert warning.kind == ActionKind.WARNING
    # Now the content is removed: removing it again changes nothing either.
    again = ReportFactory(target=report.target)
    with pytest.raises(ValidationError, match="Already in force on this content: Remove content with no end"):
        decide(moderator, again, ActionKind.REMOVE_CONTENT)


def _repeat_offender(strikes: int):
    owner = UserFactory(username="repeat_offender")
    for _ in range(strikes):
        SanctionFactory(account=owner, kind=ActionKind.WARNING)
    return ReportFactory(category=Category.HARASSMENT, target=TargetFactory(owner=owner))


def test_the_ladder_never_proposes_what_a_moderator_cannot_apply(client, moderator, compliance):
    report = _repeat_offender(strikes=3)  # the ladder's next step: termination
    client.force_login(moderator)
    html = client.get(decide_url(report)).content.decode()
    proposal = one(html, "div", class_="proposal")
    assert [text(badge) for badge in elements(proposal, "span", class_="badge")] == ["Temporary suspension"]
    assert "for 7 days" in text(proposal)
    assert "Ask compliance for permanent termination:" in text(one(proposal, "p", data_beyond_role=True))
    assert "escalate the report" in text(proposal)
    checked = [
        attr(box, "value") for box in elements(html, "input", name="actions") if "checked" in dict(box.attributes)
    ]
    assert checked == ["suspension"]
    assert attr(one(one(html, "select", name="duration"), "option", selected=True), "value") == "168"
    assert not elements(html, "input", name="actions", value="termination")

    # Taking the proposal needs no reason to depart from the ladder.
    response = client.post(decide_url(report), _form(actions=["suspension"], duration="168"))
    assert response.status_code == 302
    assert Sanction.objects.get(account=report.target.owner, kind=ActionKind.SUSPENSION)

    # Compliance, who may terminate, is proposed termination itself.
    other = _repeat_offender_for_compliance()
    client.force_login(compliance)
    html = client.get(decide_url(other)).content.decode()
    proposal = one(html, "div", class_="proposal")
    assert [text(badge) for badge in elements(proposal, "span", class_="badge")] == ["Permanent termination"]
    assert not elements(proposal, "p", data_beyond_role=True)


def _repeat_offender_for_compliance():
    owner = UserFactory(username="another_offender")
    for _ in range(3):
        SanctionFactory(account=owner, kind=ActionKind.WARNING)
    return ReportFactory(category=Category.HARASSMENT, target=TargetFactory(owner=owner))


def test_the_decision_page_keeps_a_fixed_number_of_queries(client, moderator, django_assert_max_num_queries):
    quiet = ReportFactory()
    busy_owner = UserFactory()
    for _ in range(6):
        SanctionFactory(
            account=busy_owner,
            kind=ActionKind.TIMEOUT,
            status=SanctionStatus.ACTIVE,
            ends_at=timezone.now() + timedelta(days=3),
        )
    busy = ReportFactory(target=TargetFactory(owner=busy_owner))
    client.force_login(moderator)
    client.get(decide_url(quiet))
    with django_assert_max_num_queries(20) as few:
        client.get(decide_url(quiet))
    with django_assert_max_num_queries(len(few)):
        client.get(decide_url(busy))


def test_a_proposal_that_would_change_nothing_is_not_ticked_and_says_why(client, moderator):
    report = _repeat_offender(strikes=3)
    SanctionFactory(account=report.target.owner, kind=ActionKind.TERMINATION, status=SanctionStatus.ACTIVE)
    client.force_login(moderator)
    html = client.get(decide_url(report)).content.decode()
    note = one(html, "p", data_proposal_in_force=True)
    # (The parser drops the space after the <strong> part.)
    assert text(note) == (
        "“Temporary suspension” would change nothing(not ticked): "
        "Permanent termination with no end is already in force."
    )
    assert not [box for box in elements(html, "input", name="actions") if "checked" in dict(box.attributes)]


def test_a_moot_ladder_step_needs_no_reason_to_choose_otherwise(moderator):
    report = _repeat_offender(strikes=3)
    SanctionFactory(account=report.target.owner, kind=ActionKind.TERMINATION, status=SanctionStatus.ACTIVE)
    [removal] = decide(moderator, report, ActionKind.REMOVE_CONTENT, ladder_override_reason="")
    assert removal.kind == ActionKind.REMOVE_CONTENT
