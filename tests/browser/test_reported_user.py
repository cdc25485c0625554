"""The reported person in Chromium (issue 17, item 4): signing in with a restriction in force and a
new notice shows a banner on every page; the notices are titled by what happened; a notice reads as
a page with its parts and real links; once read, the banner stops counting it. And a suspended
account's sign-in link opens the statement of the decision that keeps it out."""

from __future__ import annotations

import pytest

from moderation.enforcement import services as enforcement
from moderation.enforcement.actions import ActionKind
from moderation.enforcement.models import AppealStatus, Notice, NoticeKind
from tests.browser.conftest import sign_in
from tests.factories import PASSWORD, ReportFactory, TargetFactory, UserFactory
from tests.test_enforcement import decide, in_a_day

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_banner_the_notice_titles_and_the_notice_as_a_page(page, moderator, settings):
    offender = UserFactory(username="offender")
    report = ReportFactory(target=TargetFactory(owner=offender, title="Message in #lobby"))
    decide(moderator, report, ActionKind.REMOVE_CONTENT, ActionKind.TIMEOUT, ends_at=in_a_day())

    sign_in(page, offender.username, PASSWORD)
    banner = page.locator(".account-banner")
    assert banner.count() == 1
    assert banner.inner_text().startswith("Your account is timed out until ")
    assert "You have 1 unread notice about your account." in banner.inner_text()

    banner.get_by_role("link", name="Read it").click()
    page.wait_for_url("**/account/notices/")
    title = page.locator(".notices li a").first
    assert title.inner_text().startswith("Your message was removed and your account is timed out until ")
    title.click()

    assert page.locator("h1").inner_text().startswith("Your message was removed and your account is timed out")
    headings = page.locator("article.notice h2").all_inner_texts()
    assert headings[:2] == ["What we decided", "Why"] and "Other ways to challenge it" in headings
    link = page.get_by_role("link", name="The certified out-of-court dispute settlement bodies")
    assert link.get_attribute("href") == settings.REDRESS_OUT_OF_COURT_URL
    assert "-- Trust & Safety" not in page.locator("article.notice").inner_text()
    page.get_by_role("link", name="Appeal this decision").click()
    assert page.evaluate("location.hash") == "#appeal"

    page.goto("/report/mine/")
    assert "unread" not in page.locator(".account-banner").inner_text()
    assert page.dialogs == []


def test_the_sign_in_block_opens_the_statement_of_its_decision(page, moderator, compliance):
    offender = UserFactory(username="offender")
    report = ReportFactory(target=TargetFactory(owner=offender, title="Message in #lobby"))
    _, suspension = decide(moderator, report, ActionKind.REMOVE_CONTENT, ActionKind.SUSPENSION, ends_at=in_a_day())
    appeal = enforcement.appeal_file(actor=offender, sanction_id=suspension.pk, text="It was not me.")
    enforcement.appeal_decide(actor=compliance, appeal_id=appeal.pk, outcome=AppealStatus.UPHELD, reason="It was.")
    statement = Notice.objects.get(kind=NoticeKind.STATEMENT_OF_REASONS)

    sign_in(page, offender.username, PASSWORD)
    block = page.locator(".sanction-block")
    assert block.locator("strong").inner_text().startswith("This account is suspended until ")
    block.get_by_role("link", name="Read the full statement of reasons and appeal").click()
    assert page.locator("h1").inner_text() == statement.subject
    assert page.locator("#appeal h2").inner_text() == "Appeal this decision"
    assert "You appealed on" in page.locator("#appeal").inner_text()  # the suspension's appeal, decided
