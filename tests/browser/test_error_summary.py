"""Issue 17, item 9, in Chromium: after a failed submit on a moderator's form, focus is on an error
summary at the top of the page (not on <body>), and each of its links moves focus to its field."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from moderation.enforcement.actions import ActionKind
from moderation.enforcement.models import SanctionStatus
from tests.browser.conftest import sign_in
from tests.factories import PASSWORD, ReportFactory, SanctionFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _summary_is_focused(page):
    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    assert page.evaluate("document.activeElement !== document.body")
    # At the top: above the page's own heading.
    assert summary.bounding_box()["y"] < page.locator("h1").first.bounding_box()["y"]
    return summary


def test_the_report_page_and_the_decision_form_open_on_their_error_summary(page, moderator):
    report = ReportFactory()
    sign_in(page, moderator.username, PASSWORD)
    page.goto(f"/moderation/reports/{report.pk}/")

    # Only spaces: the browser's own check lets it through, the server refuses it.
    page.fill("#id_body", "   ")
    page.click("text=Add note")
    summary = _summary_is_focused(page)
    link = summary.locator("a", has_text="Note:")
    link.click()
    expect(page.locator("#id_body")).to_be_focused()

    page.goto(f"/moderation/reports/{report.pk}/decide/")
    page.locator("input[name=actions]:checked").uncheck()
    page.click("text=Apply decision")
    summary = _summary_is_focused(page)
    expect(summary.locator("h2")).to_have_text("There are 3 problems")  # actions, ground, facts
    summary.locator("a", has_text="Facts").click()
    expect(page.locator("#id_facts")).to_be_focused()
    summary.locator("a", has_text="Actions").click()
    expect(page.locator("#id_actions_0")).to_be_focused()


def test_lifting_a_sanction_without_a_reason(page, compliance):
    sanction = SanctionFactory(kind=ActionKind.TIMEOUT, status=SanctionStatus.ACTIVE)
    sign_in(page, compliance.username, PASSWORD)
    page.goto(f"/moderation/sanctions/{sanction.pk}/")
    page.evaluate("window.confirm = () => true")
    page.fill("#id_reason", "   ")
    page.click("text=Lift sanction")
    summary = _summary_is_focused(page)
    summary.locator("a", has_text="Reason").click()
    expect(page.locator("#id_reason")).to_be_focused()
