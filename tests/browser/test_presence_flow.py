"""Issue 17, item 6, in Chromium: two moderators open the same report. Each page shows the other
without a reload (the heartbeat); when Mia starts typing her review, the other page says so; when
the moderator then saves a review, the page asks once and goes ahead on the second submit. Mia
leaving the page removes her at once."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from reports.models import Report, ReportStatus
from tests.browser.conftest import sign_in
from tests.factories import PASSWORD, ReportFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_moderators_on_one_report(page, chromium, live_server, moderator, settings):
    settings.PRESENCE_HEARTBEAT_SECONDS = 1
    mia = UserFactory(username="mia", role="moderator")
    report = ReportFactory()
    url = f"/moderation/reports/{report.pk}/"

    sign_in(page, moderator.username, PASSWORD)
    page.goto(url)
    line = page.locator("[data-presence-line]")
    assert line.inner_text() == ""

    other = chromium.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    mias_page = other.new_page()
    mias_page.set_default_timeout(10_000)
    sign_in(mias_page, mia.username, PASSWORD)
    mias_page.goto(url)
    # Mia sees the moderator at once (her page load read the cache); the moderator's page learns of
    # Mia at its next beat, without a reload.
    expect(mias_page.locator("[data-presence-line]")).to_have_text(f"Also here: {moderator.username} has it open.")
    expect(line).to_have_text("Also here: mia has it open.")

    mias_page.fill("#id_admin_notes", "Checking the room log first")
    expect(line).to_have_text("Also here: mia is writing a review.")

    page.check("input[name=status][value=dismissed]")
    page.fill("#id_admin_notes", "Nothing against the rules.")
    page.click("text=Save review")
    summary = page.locator("[data-error-summary]")
    expect(summary).to_contain_text("mia is working on this report — submit again to go ahead.")
    expect(summary).to_be_focused()  # after a failed submit, focus is on the summary (item 9)
    assert page.locator("#id_admin_notes").input_value() == "Nothing against the rules."
    assert Report.objects.get(pk=report.pk).status == ReportStatus.PENDING
    page.check("input[name=status][value=dismissed]")
    page.click("text=Save review")
    expect(page.locator(".messages")).to_contain_text("Report dismissed.")
    assert Report.objects.get(pk=report.pk).status == ReportStatus.DISMISSED

    mias_page.goto("/moderation/")  # leaving the report page removes her at once
    expect(line).to_have_text("")
    other.close()
    assert page.dialogs == []
