"""Issue 17, item 8 (the moderator's side): at 390 px the queue's header and filters no longer push the
first report 635 px down, and the report page and the decision form are usable (nothing wider than
the screen, the actions in the first screenful)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from moderation.enforcement.actions import ActionKind
from moderation.enforcement.models import SanctionStatus
from tests.browser.conftest import sign_in
from tests.factories import PASSWORD, ReportFactory, SanctionFactory

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}


def _no_sideways_scrolling(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_the_queue_starts_with_a_report_near_the_top(page, moderator):
    ReportFactory.create_batch(3)
    page.set_viewport_size(PHONE)
    sign_in(page, moderator.username, PASSWORD)
    page.goto("/moderation/")
    first = page.locator("[data-row]").first
    assert first.bounding_box()["y"] < 400  # was 635 px down
    _no_sideways_scrolling(page)
    # The filters fold away behind their summary; the toolbar's order and page-size links, which
    # the filters repeat, are hidden; "Next report" stays on the title's line.
    assert page.locator("#id_category").is_hidden()
    assert page.locator(".toolbar-links").is_hidden()
    next_button = page.locator(".btn-next")
    assert abs(next_button.bounding_box()["y"] - page.locator(".queue-head h1").bounding_box()["y"]) < 20
    page.locator("summary", has_text="Filters").click()
    expect(page.locator("#id_category")).to_be_visible()

    # The bulk bar shows once a report is ticked, fixed at the bottom of the screen.
    bar = page.locator("[data-bulk-bar]")
    assert bar.is_hidden()
    page.locator("input[name=ids]").first.check()
    expect(bar).to_be_visible()
    box = bar.bounding_box()
    assert box["y"] + box["height"] <= PHONE["height"] + 1 and box["y"] > PHONE["height"] / 2


def test_the_report_page_and_the_decision_form_fit_a_phone(page, moderator):
    report = ReportFactory()
    SanctionFactory(
        account=report.target.owner,
        kind=ActionKind.TIMEOUT,
        status=SanctionStatus.ACTIVE,
        ends_at=timezone.now() + timedelta(days=6),
    )
    page.set_viewport_size(PHONE)
    sign_in(page, moderator.username, PASSWORD)

    page.goto(f"/moderation/reports/{report.pk}/?category=harassment")
    _no_sideways_scrolling(page)
    for name in ("Take action…", "Next report"):
        button = page.locator(".report-head-actions").get_by_text(name)
        assert button.bounding_box()["y"] + button.bounding_box()["height"] < PHONE["height"], name
    # The review comes right after what was reported, before the history.
    assert page.locator("#review").bounding_box()["y"] < page.locator("#history").bounding_box()["y"]

    page.goto(f"/moderation/reports/{report.pk}/decide/")
    _no_sideways_scrolling(page)
    in_force = page.locator(".in-force")
    assert in_force.bounding_box()["y"] < PHONE["height"]  # what is in force: on the first screen
    assert "until" in in_force.inner_text()
    for field in ("#id_actions_0", "#id_ground", "#id_facts"):
        box = page.locator(field).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], field
