"""The reporter's main flow in Chromium: sign in, file a report with an image, find it under
"My reports" with its status badge."""

from __future__ import annotations

import re

import pytest

from reports.models import Evidence, Report, ReportStatus
from tests.browser.conftest import sign_in
from tests.conftest import png_bytes
from tests.factories import PASSWORD, ReportFactory, TargetFactory


def rgb(css_colour: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", css_colour)[:3])


@pytest.mark.django_db(transaction=True)
def test_sign_in_file_a_report_with_an_image_and_see_it_under_my_reports(page, user, other_user):
    target = TargetFactory(owner=other_user, title="Message in #late-night", snapshot_text="log off, loser")
    # Earlier reports in every other status, to see all four badges side by side.
    for status in (ReportStatus.REVIEWED, ReportStatus.RESOLVED, ReportStatus.DISMISSED):
        ReportFactory(reporter=user, status=status, target=TargetFactory(owner=other_user))

    sign_in(page, user.username, PASSWORD)
    page.goto(f"/report/new/?target={target.public_id}")
    assert page.locator("h1").inner_text() == "Report this chat message"

    page.select_option("#id_category", "harassment")
    # Line breaks are sent as CRLF but counted once, by the counter and by the server alike.
    reason = "\n".join(["They insult me every evening." + "." * 70] * 10)
    assert len(reason) == 999
    page.fill("#id_reason", reason)
    counter = page.locator("#reason-counter")
    assert counter.inner_text().startswith("999 / 1000 characters")
    page.fill("#id_incident_at", "2024-05-01T21:30")
    page.check("#id_is_pattern")
    page.set_input_files(
        "#id_evidence", files=[{"name": "screenshot.png", "mimeType": "image/png", "buffer": png_bytes()}]
    )
    page.check("#id_good_faith")
    page.click("text=Send report")

    page.wait_for_url("**/report/mine/")
    report = Report.objects.get(target=target)
    confirmation = page.locator(".messages").inner_text().strip()
    assert confirmation.startswith(f"Report {report.short_id} sent. We will review it by ")
    row = page.locator(".report-item", has_text="Message in #late-night")
    assert row.count() == 1
    badge = row.locator(".badge")
    assert badge.inner_text() == "Pending"

    # The badges carry the word and the agreed colour: pending yellow, reviewed blue, resolved green,
    # dismissed gray.
    colours = {
        status: rgb(page.locator(f".badge-{status}").first.evaluate("e => getComputedStyle(e).backgroundColor"))
        for status in ReportStatus.values
    }
    words = {status: page.locator(f".badge-{status}").first.inner_text() for status in ReportStatus.values}
    assert words == {"pending": "Pending", "reviewed": "Reviewed", "resolved": "Resolved", "dismissed": "Dismissed"}
    red, green, blue = colours["pending"]
    assert red > 200 and green > 180 and blue < 100  # yellow
    red, green, blue = colours["reviewed"]
    assert blue > red + 100 and blue > green  # blue
    red, green, blue = colours["resolved"]
    assert green > red + 50 and green > blue + 50  # green
    red, green, blue = colours["dismissed"]
    assert max(red, green, blue) - min(red, green, blue) < 30  # gray

    assert report.reporter == user and report.status == ReportStatus.PENDING and report.is_pattern
    assert report.reason == reason
    evidence = Evidence.objects.get(report=report)
    assert evidence.original_name == "screenshot.png" and evidence.content_type == "image/png"

    row.locator("a", has_text="Message in #late-night").click()
    page.wait_for_url(f"**/report/{report.id}/")
    assert page.locator(".badge").first.inner_text() == "Pending"
    assert page.dialogs == []
