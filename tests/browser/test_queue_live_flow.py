"""The live queue in Chromium (issue 17): new reports in the moderator's view are announced ("1 new
report in this view — Show") without reloading the page or touching the rows; reports outside the
view are not; "Show" brings them in. Item 9's queue part: a filter change is said in one live
sentence, and the results table is not a live region."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from reports.categories import Category
from tests.browser.conftest import sign_in
from tests.factories import PASSWORD, ReportFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_new_reports_in_the_view_are_announced_without_a_reload(page, moderator, settings):
    settings.QUEUE_POLL_SECONDS = 1
    ReportFactory(category=Category.COPYRIGHT, reason="My song, uploaded by someone else.")
    ReportFactory(category=Category.HARASSMENT)

    sign_in(page, moderator.username, PASSWORD)
    page.goto("/moderation/")
    assert page.locator("#queue-results").get_attribute("aria-live") is None
    page.evaluate("window.__samePage = true")

    # A filter change re-renders the results and says so in one sentence.
    page.select_option("#id_category", "copyright")
    page.wait_for_url(re.compile(r"category=copyright"))
    expect(page.locator("[data-row]")).to_have_count(1)
    expect(page.locator("[data-queue-status]")).to_have_text("Showing 1 of 1 open report.")

    # The moderator is on a row; a report arrives outside the view: nothing is said.
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("j")
    ReportFactory(category=Category.SPAM)
    page.wait_for_timeout(2500)  # two polls
    expect(page.locator("[data-queue-live-notice]")).to_be_hidden()

    # Two arrive in the view: announced, the rows untouched, the selection kept.
    ReportFactory(category=Category.COPYRIGHT, reason="Another copy of my video.")
    ReportFactory(category=Category.COPYRIGHT, reason="And a third one.")
    notice = page.locator("[data-queue-live-notice]")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("2 new reports in this view")
    expect(page.locator("[data-queue-status]")).to_have_text("2 new reports in this view.")
    expect(page.locator("[data-row]")).to_have_count(1)
    assert "is-current" in (page.locator("[data-row]").first.get_attribute("class") or "")
    assert page.evaluate("window.__samePage") is True

    # "Show" brings them in, in the same view, still without a page load.
    page.locator("[data-queue-live-show]").click()
    expect(page.locator("[data-row]")).to_have_count(3)
    expect(notice).to_be_hidden()
    expect(page.locator("[data-queue-status]")).to_have_text("Showing 3 of 3 open reports.")
    assert "Another copy of my video." in page.locator("#queue-results").inner_text()
    assert page.evaluate("window.__samePage") is True
    assert "category=copyright" in page.url
    assert page.dialogs == []
