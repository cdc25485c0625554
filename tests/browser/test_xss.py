"""Stored XSS in Chromium: what people type (reasons, notes, questions and answers, facts, grounds,
appeals, complaint names), what the platform sends (target titles, snapshots, metadata), usernames
and evidence file names, each carrying script payloads, render as text on every page that shows
them: the queue (and its live search), the report page, the decision form, the account and sanction
pages, the appeals queue and an appeal, the audit log, the reporter's pages, notices, the signed
appeal link and the sign-in form. The case is built in tests/test_security_exports.py, which also
checks the exports.

The pages are opened with the Content-Security-Policy bypassed, so that escaping alone is tested
(the policy is the second wall, see test_security_headers.py): a payload that got through would
fire its alert. Every raw page is also searched for a payload that is not escaped, and the DOM for
an element or attribute that only a payload could have made.
"""

from __future__ import annotations

import urllib.parse

import pytest

from moderation.enforcement.models import Notice
from moderation.enforcement.notices import appeal_token
from tests.browser.conftest import sign_in
from tests.factories import PASSWORD
from tests.test_security_exports import ATTR, FORMULA, IMG, SCRIPT, SVG, hostile_case

pytestmark = pytest.mark.django_db(transaction=True)

# Elements and attributes that exist only if a payload became markup.
INJECTED = "script:not([src]), img[src='x'], [onerror], [onload], [onmouseover], svg[onload], a[href^='javascript:' i]"


@pytest.fixture
def world(settings) -> dict:
    return hostile_case(settings)


@pytest.fixture
def browser_page(chromium, live_server):
    """A page whose context ignores the Content-Security-Policy: escaping has to hold on its own."""
    context = chromium.new_context(base_url=live_server.url, bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.dialogs = dialogs
    yield page
    context.close()


def visit(page, url: str) -> str:
    """Open `url`; fail on an unescaped payload in the raw HTML or an element a payload made."""
    response = page.goto(url)
    assert response is not None and response.status == 200, f"{url}: {response and response.status}"
    page.wait_for_load_state("load")
    raw = response.text()
    for payload in (SCRIPT, IMG, SVG, "<img src=x onerror", "onmouseover=alert('xss-attr')"):
        assert payload not in raw, f"{url} has the payload {payload!r} unescaped"
    injected = page.locator(INJECTED)
    assert injected.count() == 0, f"{url}: {injected.first.evaluate('el => el.outerHTML')}"
    return page.inner_text("body")


# The sign-in throttle keys on the typed name; LocMem and Redis take any key (memcached is not supported).
@pytest.mark.filterwarnings("ignore::django.core.cache.backends.base.CacheKeyWarning")
def test_payloads_render_as_text_everywhere(browser_page, world):
    page = browser_page
    # The harness itself: a payload that does become markup is caught.
    page.set_content('<img src="x" onerror="alert(\'control\')">')
    page.wait_for_timeout(200)
    assert page.dialogs == ["control"]
    page.dialogs.clear()

    report, second, complaint = world["report"], world["second"], world["complaint"]
    q = urllib.parse.quote

    # The moderator: the queue (with the payloads as search terms too), both reports, accounts, decisions.
    sign_in(page, "mod_xss", PASSWORD)
    queue = visit(page, "/moderation/?status=all")
    assert SCRIPT in queue  # the target's title, as text
    visit(page, f"/moderation/?status=all&q={q(IMG)}")
    text = visit(page, f"/moderation/reports/{report.pk}/")
    for shown in (SCRIPT, IMG, ATTR, SVG, FORMULA):  # reason, title, names, notes, question, answer, file name
        assert shown in text, shown
    assert f"{SVG}.png" in text
    text = visit(page, f"/moderation/reports/{second.pk}/")
    assert IMG in text and f"{IMG}.png" in text
    assert SCRIPT in visit(page, f"/moderation/reports/{complaint.pk}/")  # the complainant's name
    visit(page, f"/moderation/reports/{second.pk}/decide/")
    visit(page, f"/moderation/accounts/{world['owner'].pk}/")
    visit(page, f"/moderation/accounts/{world['second_reporter'].pk}/")
    assert ATTR in visit(page, f"/moderation/sanctions/{world['sanction'].pk}/")
    visit(page, "/moderation/dashboard/")
    # The live search re-renders the results with innerHTML: the payload comes back as text there too.
    visit(page, "/moderation/?status=all")
    page.fill("input[name=q]", IMG)
    page.wait_for_url(lambda url: "q=" in url)
    page.wait_for_load_state("networkidle")
    assert page.locator(INJECTED).count() == 0
    page.context.clear_cookies()

    # Compliance: appeals and the audit log (whose filters echo what was typed).
    sign_in(page, "compliance_xss", PASSWORD)
    visit(page, "/moderation/appeals/")
    assert IMG in visit(page, f"/moderation/appeals/{world['appeal'].pk}/")
    log = visit(page, "/audit/")
    assert SCRIPT in log and FORMULA in log
    account = visit(page, f"/moderation/accounts/{world['owner'].pk}/")  # with its history, for compliance
    assert "History" in account and f"Terms §4.2 {IMG}" in account  # the sanction's ground in the history
    visit(page, f"/audit/?actor={q(SCRIPT)}&object_id={q(IMG)}")
    page.context.clear_cookies()

    # The reporter: their reports, the question and answer, the outcome notice.
    sign_in(page, SCRIPT, PASSWORD)
    visit(page, "/report/mine/")
    assert SVG in visit(page, f"/report/{report.pk}/")
    visit(page, "/account/notices/")
    for notice in Notice.objects.filter(recipient=world["reporter"]):
        visit(page, f"/account/notices/{notice.pk}/")
    visit(page, "/account/")
    page.context.clear_cookies()

    # The reported account: the statement of reasons with its appeal, and the signed appeal link.
    sign_in(page, FORMULA, PASSWORD)
    notices = Notice.objects.filter(recipient=world["owner"])
    assert notices.exists()
    for notice in notices:
        visit(page, f"/account/notices/{notice.pk}/")
    page.context.clear_cookies()
    assert ATTR in visit(page, f"/appeal/{appeal_token(sanction=world['sanction'])}/")

    # A failed sign-in shows the typed name back.
    page.goto("/accounts/login/")
    page.fill("#id_username", IMG)
    page.fill("#id_password", "wrong")
    page.click("button[type=submit]")
    page.wait_for_load_state("load")
    assert page.locator(INJECTED).count() == 0

    assert page.dialogs == [], page.dialogs
