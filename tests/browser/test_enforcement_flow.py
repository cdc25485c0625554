"""Enforcement end to end in Chromium: a moderator suspends an account from a report; the account's
sign-in is refused with the reason shown; the user appeals through the link; a compliance officer
reverses the decision; the user signs in again."""

from __future__ import annotations

import pytest

from moderation.enforcement.models import Appeal, AppealStatus, Sanction, SanctionStatus
from reports.categories import Category
from tests.browser.conftest import sign_in
from tests.factories import PASSWORD, ReportFactory, TargetFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_suspend_refuse_appeal_reverse_sign_in(chromium, live_server, moderator, compliance):
    offender = UserFactory(username="offender")
    report = ReportFactory(
        category=Category.HARASSMENT,
        reason="He insults me every night in #lobby.",
        target=TargetFactory(owner=offender, title="Message in #lobby"),
    )

    def new_page():
        context = chromium.new_context(base_url=live_server.url)
        page = context.new_page()
        page.set_default_timeout(10_000)
        dialogs = []
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))
        return context, page

    # The moderator opens the report and takes action: a 7-day suspension.
    context, page = new_page()
    sign_in(page, moderator.username, PASSWORD)
    page.goto(f"/moderation/reports/{report.pk}/")
    page.get_by_role("link", name="Take action…").first.click()
    page.check("input[name=actions][value=suspension]")
    page.select_option("select[name=duration]", "168")
    page.fill("input[name=ground]", "Terms of service §4.2 (harassment)")
    page.fill("textarea[name=facts]", "Repeated insults in #lobby after being asked to stop.")
    page.fill("textarea[name=ladder_override_reason]", "Sustained campaign, a warning is not enough.")
    page.get_by_role("button", name="Apply decision").click()
    page.wait_for_url(f"**/moderation/reports/{report.pk}/")
    assert "Decision recorded" in page.content()
    suspension = Sanction.objects.get(kind="suspension", account=offender)
    assert suspension.status == SanctionStatus.ACTIVE
    context.close()

    # The offender's sign-in is refused, with the reason, the end and a way to appeal.
    context, page = new_page()
    sign_in(page, offender.username, PASSWORD)
    block = page.locator(".sanction-block")
    assert block.inner_text().startswith("This account is suspended until ")
    assert "Repeated insults in #lobby" in block.inner_text()
    assert page.locator(".user-name").count() == 0  # not signed in
    page.get_by_role("link", name="Read the full statement of reasons and appeal").click()
    page.fill("textarea[name=text]", "I was quoting him back; please read the whole conversation.")
    page.get_by_role("button", name="Send appeal").click()
    assert "Appeal sent" in page.content()
    appeal = Appeal.objects.get(appellant=offender)
    context.close()

    # A compliance officer (not the original decider) reverses it.
    context, page = new_page()
    sign_in(page, compliance.username, PASSWORD)
    page.goto("/moderation/appeals/")
    page.get_by_role("link", name="Temporary suspension").click()
    page.check("input[name=outcome][value=reversed]")
    page.fill("textarea[name=reason]", "The messages were quoted out of context.")
    page.get_by_role("button", name="Record decision").click()
    assert "Appeal decided" in page.content()
    appeal.refresh_from_db()
    suspension.refresh_from_db()
    assert appeal.status == AppealStatus.REVERSED and suspension.status == SanctionStatus.REVERSED
    context.close()

    # The offender can sign in again.
    context, page = new_page()
    sign_in(page, offender.username, PASSWORD)
    assert page.locator(".user-name").inner_text() == offender.username
    page.goto("/account/notices/")
    assert "Your appeal was successful: the decision was reversed" in page.content()
    context.close()
