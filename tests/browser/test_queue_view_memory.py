"""Issue 17, item 1: the report page remembers the moderator's queue view. Filtered to Copyright and
on page 2, a moderator opens a report: "Next report" and "Save and take next" stay in Copyright
(never the more urgent Harassment report outside the view), and "← Queue" comes back to the
filtered page 2, even after a reload."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from reports.categories import Category
from reports.models import Report, ReportStatus
from tests.browser.conftest import sign_in
from tests.factories import PASSWORD, ReportFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_next_report_save_and_next_and_back_to_the_queue_keep_the_view(page, moderator):
    now = timezone.now()
    # The most urgent report of all is outside the view.
    harassment = ReportFactory(category=Category.HARASSMENT, due_at=now + timedelta(minutes=30))
    copyright_reports = [
        ReportFactory(category=Category.COPYRIGHT, reason=f"Copied my track ({n})", due_at=now + timedelta(hours=n + 1))
        for n in range(27)
    ]

    sign_in(page, moderator.username, PASSWORD)
    page.goto("/moderation/")
    page.select_option("#id_category", "copyright")
    page.wait_for_url(re.compile(r"category=copyright"))
    expect(page.locator("[data-row]")).to_have_count(25)
    page.locator("nav.pagination a[rel=next]").click()
    page.wait_for_url(re.compile(r"category=copyright.*page=2"))
    expect(page.locator("[data-row]")).to_have_count(2)

    # Opening a report from page 2 carries the view in the report's URL.
    page.locator("[data-row] .row-link").first.click()
    page.wait_for_url(re.compile(r"/moderation/reports/[0-9a-f-]+/\?.*category=copyright.*page=2"))
    page.reload()  # the view is in the URL, not in a session: a reload (or a new tab) keeps it
    assert page.locator("[data-view-description]").inner_text() == "· your view: Category: Copyright infringement"

    # "Next report" takes the most urgent unassigned report in the view, not the harassment one.
    page.locator(".report-head-actions button", has_text="Next report").click()
    first = copyright_reports[0]
    page.wait_for_url(re.compile(rf"/moderation/reports/{first.pk}/\?.*category=copyright"))
    message = page.locator(".messages").inner_text()
    assert "the most urgent unassigned report in your view (Category: Copyright infringement)" in message
    assert Report.objects.get(pk=harassment.pk).assignee_id is None

    # "Save and take next" stays in the view too.
    page.check("input[name=status][value=dismissed]")
    page.fill("#id_admin_notes", "The track is the reporter's own upload; nothing to do.")
    page.locator("button[name=then][value=next]").click()
    second = copyright_reports[1]
    page.wait_for_url(re.compile(rf"/moderation/reports/{second.pk}/\?.*category=copyright"))
    assert Report.objects.get(pk=first.pk).status == ReportStatus.DISMISSED
    assert Report.objects.get(pk=second.pk).assignee_id == moderator.pk
    assert Report.objects.get(pk=harassment.pk).assignee_id is None

    # "← Queue" returns to the filtered, paged view.
    page.locator("nav.crumbs a", has_text="Queue").click()
    page.wait_for_url(re.compile(r"/moderation/\?.*category=copyright.*page=2"))
    assert page.locator("#id_category").input_value() == "copyright"
    assert "Page 2" in page.locator("nav.pagination").inner_text()
    assert page.dialogs == []
