"""A moderator's day in Chromium: sign in, filter the queue (the results re-render alone), check the
pending badge's colour, move with the keyboard, open a report, resolve it with a note, and see it
leave the open queue."""

from __future__ import annotations

import re

import pytest

from reports.categories import Category
from reports.models import Report
from tests.browser.conftest import sign_in
from tests.factories import PASSWORD, ReportFactory, TargetFactory

pytestmark = pytest.mark.django_db(transaction=True)


PENDING_YELLOW = "rgb(255, 212, 59)"  # --pending-bg in app.css


def test_moderator_filters_opens_resolves_and_the_report_leaves_the_queue(page, moderator):
    threat = ReportFactory(
        category=Category.VIOLENCE,
        reason="He said he would wait for me outside the venue.",
        target=TargetFactory(title="Message in #late-night"),
    )
    spam = [ReportFactory(category=Category.SPAM, reason=f"Same fake shop link again ({n})") for n in range(3)]

    sign_in(page, moderator.username, PASSWORD)
    page.goto("/moderation/")
    rows = page.locator("[data-row]")
    assert rows.count() == 4

    # The pending badge is yellow by its computed style, and says so in words.
    badge = page.locator(".queue-row .badge-pending").first
    assert badge.inner_text().strip() == "Pending"
    assert badge.evaluate("el => getComputedStyle(el).backgroundColor") == PENDING_YELLOW

    # Filtering re-renders the results in place and puts the filter in the address bar.
    page.evaluate("window.__samePage = true")
    page.select_option("#id_category", "violence")
    page.wait_for_url(re.compile(r"category=violence"))
    page.wait_for_function("document.querySelectorAll('[data-row]').length === 1")
    assert page.evaluate("window.__samePage") is True  # no full page load
    assert "He said he would wait for me" in page.locator("#queue-results").inner_text()
    assert page.locator("#queue-results .status-tab[aria-current] .count").inner_text() == "1"

    # Keyboard: j selects the first row, Enter opens it.
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("j")
    assert "is-current" in (rows.first.get_attribute("class") or "")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"/moderation/reports/{threat.pk}/\?.*category=violence"))

    # The snapshot text and the reporter's words are there; resolve with a note.
    assert "He said he would wait for me outside the venue." in page.inner_text("main")
    page.check("input[name=status][value=resolved]")
    page.fill("#id_admin_notes", "Threat confirmed in the room log; handled with the platform.")
    page.click("text=Save review")
    page.wait_for_load_state("domcontentloaded")
    assert "Report resolved." in page.locator(".messages").inner_text()
    assert page.locator(".report-head .badge-resolved").inner_text().strip() == "Resolved"

    # Back in the open queue it is gone; the spam reports are still there.
    page.goto("/moderation/")
    queue_text = page.locator("#queue-results").inner_text()
    assert "He said he would wait for me" not in queue_text
    assert page.locator("[data-row]").count() == len(spam)
    threat.refresh_from_db()
    assert threat.status == "resolved" and threat.reviewed_by == moderator
    assert threat.admin_notes.startswith("Threat confirmed")
    assert page.dialogs == []


def test_next_report_and_the_keyboard_help(page, moderator):
    report = ReportFactory(category=Category.HARASSMENT)
    sign_in(page, moderator.username, PASSWORD)
    page.goto("/moderation/")
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("?")
    assert page.locator("#keys-dialog").is_visible()
    page.keyboard.press("Escape")
    assert not page.locator("#keys-dialog").is_visible()
    page.keyboard.press("n")
    page.wait_for_url(re.compile(rf"/moderation/reports/{report.pk}/\?status=open&sort=deadline$"))
    assert "is yours" in page.locator(".messages").inner_text()
    assert Report.objects.get(pk=report.pk).assignee == moderator


def test_bulk_dismiss_from_the_queue(page, moderator):
    reports = [ReportFactory(category=Category.SPAM) for _ in range(3)]
    keep = ReportFactory(category=Category.FRAUD)
    sign_in(page, moderator.username, PASSWORD)
    page.goto("/moderation/?category=spam")
    submit = page.locator("[data-bulk-submit]")
    assert submit.is_disabled()
    page.check("[data-select-all]")
    assert "3 selected" in page.locator("[data-bulk-count]").inner_text()
    page.select_option("#bulk-action", "dismissed")
    page.fill("#bulk-note", "Spam wave, links already blocked.")
    # Closing many reports asks first; saying no changes nothing (the fixture dismisses dialogs).
    submit.click()
    assert page.dialogs == ["Dismiss: 3 selected rows?"]
    assert Report.objects.filter(status="dismissed").count() == 0
    page.evaluate("window.confirm = () => true")
    submit.click()
    page.wait_for_url(re.compile(r"category=spam"))
    page.wait_for_load_state("domcontentloaded")
    assert "Dismissed: 3 reports" in page.locator(".messages").inner_text()
    assert set(Report.objects.filter(pk__in=[r.pk for r in reports]).values_list("status", flat=True)) == {"dismissed"}
    assert Report.objects.get(pk=keep.pk).status == "pending"


def test_the_queue_on_a_phone(page, moderator):
    ReportFactory(category=Category.VIOLENCE)
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, moderator.username, PASSWORD)
    page.goto("/moderation/")
    # No sideways scrolling; the filters fold away; each row is a card with its labels.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert page.locator("#id_category").is_hidden()
    row = page.locator("[data-row]").first
    assert row.evaluate("el => getComputedStyle(el).display") == "grid"
    assert row.locator(".col-deadline").evaluate("el => getComputedStyle(el, '::before').content") == '"Deadline"'
