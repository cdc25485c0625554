"""The reporter's and complainant's forms in Chromium (issue 17, items 3, 8, 9, 10): after a failed
submit the focus is on an error summary whose links lead to the fields; the filing form keeps the
chosen evidence; the complaint form starts with nothing chosen and thanks by reference and deadline
on a page a refresh does not resend; My reports fits a phone with each report's link on screen."""

from __future__ import annotations

import pytest

from moderation.enforcement.actions import ActionKind
from moderation.enforcement.models import Notice
from reports.models import Evidence, Report
from tests.browser.conftest import sign_in
from tests.conftest import png_bytes
from tests.factories import PASSWORD, ReportFactory, TargetFactory
from tests.test_enforcement import decide

pytestmark = pytest.mark.django_db(transaction=True)


def focused_id(page) -> str:
    return page.evaluate("document.activeElement && document.activeElement.id")


def test_a_filing_with_an_error_keeps_its_evidence_and_focuses_the_summary(page, user, other_user):
    target = TargetFactory(owner=other_user, title="Message in #late-night")
    sign_in(page, user.username, PASSWORD)
    page.goto(f"/report/new/?target={target.public_id}")
    page.select_option("#id_category", "harassment")
    page.fill("#id_reason", "They insult me every evening.")
    page.set_input_files(
        "#id_evidence", files=[{"name": "screenshot.png", "mimeType": "image/png", "buffer": png_bytes()}]
    )
    page.click("text=Send report")  # the good-faith box left unticked

    page.wait_for_selector("#error-summary")
    assert focused_id(page) == "error-summary"
    link = page.locator("#error-summary a")
    assert link.count() == 1 and link.get_attribute("href") == "#id_good_faith"
    assert link.inner_text().endswith("Please confirm that the report is accurate and made in good faith.")
    held = page.locator("#held-evidence")
    assert "screenshot.png" in held.inner_text() and "attached" in held.inner_text()
    assert page.locator("#id_reason").input_value() == "They insult me every evening."

    link.click()
    assert focused_id(page) == "id_good_faith"
    page.check("#id_good_faith")
    page.click("text=Send report")
    page.wait_for_url("**/report/mine/")
    report = Report.objects.get()
    assert page.locator(".messages").inner_text().startswith(f"Report {report.short_id} sent. We will review it by ")
    assert list(Evidence.objects.values_list("original_name", flat=True)) == ["screenshot.png"]
    assert page.dialogs == []


def test_the_complaint_form_chooses_nothing_summarises_errors_and_thanks_once(page):
    page.goto("/complaint/")
    assert page.locator("#id_content_kind").input_value() == ""
    assert page.locator("#id_content_kind").get_attribute("required") is not None
    page.click("text=Send complaint")
    page.wait_for_selector("#error-summary")
    assert focused_id(page) == "error-summary"
    hrefs = page.locator("#error-summary a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert {"#id_content_kind", "#id_category", "#id_location", "#id_description", "#id_good_faith"} <= set(hrefs)

    page.fill("#id_name", "Rita Rights-Holder")
    page.fill("#id_email", "rita@example.test")
    page.select_option("#id_content_kind", "video_story")
    page.select_option("#id_category", "copyright")
    page.fill("#id_location", "https://chat.example/stories/8812")
    page.fill("#id_description", "My course video, re-uploaded without my permission.")
    page.check("#id_good_faith")
    page.click("text=Send complaint")
    page.wait_for_url("**/complaint/received/")
    report = Report.objects.get()
    text = page.locator("main").inner_text()
    assert report.short_id in text and "We will act by" in text
    page.reload()
    assert page.url.endswith("/complaint/received/") and Report.objects.count() == 1


def test_the_appeal_form_summarises_its_errors(page, moderator):
    report = ReportFactory()
    decide(moderator, report, ActionKind.WARNING)
    owner = report.target.owner
    sign_in(page, owner.username, PASSWORD)
    page.goto(f"/account/notices/{Notice.objects.get(recipient=owner).pk}/")
    page.get_by_role("button", name="Send appeal").click()
    page.wait_for_selector("#error-summary")
    assert focused_id(page) == "error-summary"
    assert page.locator("#error-summary a").first.get_attribute("href") == "#id_text"


@pytest.mark.parametrize("width", [390, 1400])
def test_my_reports_fits_the_screen_with_each_link_visible(chromium, live_server, user, other_user, width):
    for n in range(3):
        ReportFactory(
            reporter=user, target=TargetFactory(owner=other_user, title=f"A rather long message title number {n} " * 2)
        )
    context = chromium.new_context(base_url=live_server.url, viewport={"width": width, "height": 844})
    page = context.new_page()
    sign_in(page, user.username, PASSWORD)
    page.goto("/report/mine/")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    links = page.locator(".report-item-title")
    assert links.count() == 3
    for index in range(3):
        box = links.nth(index).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width
    context.close()
