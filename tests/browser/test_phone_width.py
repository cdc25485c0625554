"""Issue 17, item 8 (the moderator's side): at 390 px the queue's header and filters no longer push the
first report 635 px down, and the report page and the decision form are usable (nothing wider than
the screen, the actions in the first screenful)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from moderation.enforcement.actions import ActionKind
from moderation.enforcement.models import Notice, SanctionStatus
from moderation.signals.models import Detector, SignalPolicy
from reports.models import Report, ReportChannel, ReportStatus
from tests.browser.conftest import sign_in
from tests.factories import PASSWORD, ReportFactory, SanctionFactory, TargetFactory, UserFactory
from tests.test_enforcement import decide, in_a_day
from tests.test_signals_pages import signals_on
from tests.test_stories import submit

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}


def _no_sideways_scrolling(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_the_queue_starts_with_a_report_near_the_top(page, moderator):
    ReportFactory.create_batch(3)
    page.set_viewport_size(PHONE)
    sign_in(page, moderator.username, PASSWORD)
    page.goto("/moderation/")
    first = page.locator("[data-row]").first
    assert first.bounding_box()["y"] < 400  # was 635 px down
    _no_sideways_scrolling(page)
    # The filters fold away behind their summary; the toolbar's order and page-size links, which
    # the filters repeat, are hidden; "Next report" stays on the title's line.
    assert page.locator("#id_category").is_hidden()
    assert page.locator(".toolbar-links").is_hidden()
    next_button = page.locator(".btn-next")
    assert abs(next_button.bounding_box()["y"] - page.locator(".queue-head h1").bounding_box()["y"]) < 20
    page.locator("summary", has_text="Filters").click()
    expect(page.locator("#id_category")).to_be_visible()

    # The bulk bar shows once a report is ticked, fixed at the bottom of the screen.
    bar = page.locator("[data-bulk-bar]")
    assert bar.is_hidden()
    page.locator("input[name=ids]").first.check()
    expect(bar).to_be_visible()
    box = bar.bounding_box()
    assert box["y"] + box["height"] <= PHONE["height"] + 1 and box["y"] > PHONE["height"] / 2


def test_the_report_page_and_the_decision_form_fit_a_phone(page, moderator):
    report = ReportFactory()
    SanctionFactory(
        account=report.target.owner,
        kind=ActionKind.TIMEOUT,
        status=SanctionStatus.ACTIVE,
        ends_at=timezone.now() + timedelta(days=6),
    )
    page.set_viewport_size(PHONE)
    sign_in(page, moderator.username, PASSWORD)

    page.goto(f"/moderation/reports/{report.pk}/?category=harassment")
    _no_sideways_scrolling(page)
    for name in ("Take action…", "Next report"):
        button = page.locator(".report-head-actions").get_by_text(name)
        assert button.bounding_box()["y"] + button.bounding_box()["height"] < PHONE["height"], name
    # The review comes right after what was reported, before the history.
    assert page.locator("#review").bounding_box()["y"] < page.locator("#history").bounding_box()["y"]

    page.goto(f"/moderation/reports/{report.pk}/decide/")
    _no_sideways_scrolling(page)
    in_force = page.locator(".in-force")
    assert in_force.bounding_box()["y"] < PHONE["height"]  # what is in force: on the first screen
    assert "until" in in_force.inner_text()
    for field in ("#id_actions_0", "#id_ground", "#id_facts"):
        box = page.locator(field).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], field


# --- in Spanish and German (issue 18): longer words, the same screen ---------------------------------


@pytest.fixture
def phone_in(chromium, live_server):
    """phone_in(language) -> a page at 390 px whose browser asks for that language."""
    contexts = []

    def open_page(language: str):
        context = chromium.new_context(base_url=live_server.url, viewport=PHONE, locale=language)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        return page

    yield open_page
    for context in contexts:
        context.close()


def _fits(page, path: str, language: str, *, staff: bool = False) -> None:
    """The page is in `language`, nothing scrolls sideways, every menu link is on the screen (none
    hidden past its edge; a staff menu, longer, scrolls on its own line instead), and the language
    switcher is one line inside the screen."""
    response = page.goto(path)
    assert response.status < 400, path
    assert page.locator("html").get_attribute("lang") == language, path
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{path}: {width} px wide"
    if staff:
        assert page.locator(".main-nav").evaluate("nav => getComputedStyle(nav).overflowX") == "auto"
    else:
        for link in page.locator(".main-nav a").all():
            box = link.bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"] + 1, (path, link.inner_text())
    switcher = page.locator(".language-switcher")
    box = switcher.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], path
    button, select = switcher.locator("button"), switcher.locator("select")
    # One line: "Sprache ändern" and "Cambiar idioma" did break in two, the button twice the list's height.
    assert button.bounding_box()["height"] <= select.bounding_box()["height"] + 4, path
    assert abs(button.bounding_box()["y"] - select.bounding_box()["y"]) < 8, path


@pytest.mark.parametrize("language", ["es", "de"])
def test_a_reporters_pages_fit_a_phone_in_spanish_and_german(phone_in, language, user, other_user, moderator):
    target = TargetFactory(owner=other_user, title="Nachricht in #Lobby")
    dismissed = ReportFactory(reporter=user, status=ReportStatus.DISMISSED, target=TargetFactory(owner=other_user))
    # The reporter is also under a timeout: the banner, the notice with its appeal form.
    decide(moderator, ReportFactory(target=TargetFactory(owner=user)), ActionKind.TIMEOUT, ends_at=in_a_day())
    notice = Notice.objects.filter(recipient=user).latest("created_at")
    suspended = UserFactory(username="gesperrt")
    decide(moderator, ReportFactory(target=TargetFactory(owner=suspended)), ActionKind.SUSPENSION, ends_at=in_a_day())

    page = phone_in(language)
    for path in ("/", "/accounts/login/", "/complaint/"):
        _fits(page, path, language)
    # A suspended account's sign-in, refused with its block.
    page.goto("/accounts/login/")
    page.fill("#id_username", suspended.username)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_selector(".sanction-block")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    sign_in(page, user.username, PASSWORD)
    for path in (
        "/",
        "/demo/",
        f"/report/new/?target={target.public_id}",
        "/report/mine/",
        f"/report/{dismissed.pk}/",
        "/account/",
        "/account/notices/",
        f"/account/notices/{notice.pk}/",
    ):
        _fits(page, path, language)
    # The dismissed report's appeal form: the file and the button apart, the button on the screen.
    page.goto(f"/report/{dismissed.pk}/")
    file_box = page.locator("#id_appeal_file").bounding_box()
    send_box = page.locator("#appeal button[type=submit]").bounding_box()
    assert send_box["y"] >= file_box["y"] + file_box["height"] + 8
    assert send_box["x"] + send_box["width"] <= PHONE["width"]


def test_machine_signals_and_stories_fit_a_phone_in_german(phone_in, moderator):
    """The queue marks an automated report as a machine's, with its score; on its page each signal
    is a small card with its score on the screen (it was in a table's fourth column, off the
    screen); the stories queue and a story fit too."""
    detector = Detector.objects.create(name="hate-speech-model")
    SignalPolicy.objects.create(detector=detector, category="", floor="0.1", review_threshold="0.5")
    signals_on(TargetFactory(title="Nachricht in #Spiele"), 2, top="0.93")
    automated = Report.objects.get(channel=ReportChannel.AUTOMATED)
    story = submit("story-phone", title="Nachtfahrt mit Überlänge").story

    page = phone_in("de")
    sign_in(page, moderator.username, PASSWORD)

    page.goto("/moderation/")
    _no_sideways_scrolling(page)
    row = page.locator("tr:has([data-automated])")
    assert row.locator(".machine-tag").is_visible()
    assert row.locator("[data-automated]").inner_text() == "hate-speech-model 1.1"
    pill = row.locator(".score-pill")
    assert pill.inner_text() == "Score 0,93"  # the report page's figure, in the page's language (a German noun)
    assert pill.bounding_box()["x"] + pill.bounding_box()["width"] <= PHONE["width"]

    page.goto(f"/moderation/reports/{automated.pk}/")
    _no_sideways_scrolling(page)
    signals = page.locator("[data-signal]")
    assert signals.count() == 2
    for n in range(2):
        score = signals.nth(n).locator(".score-pill")
        box = score.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"] - 16, "the score is off the screen"
        assert score.is_visible()
    assert page.locator("[data-top-score]").inner_text() == "0,93"

    for path in ("/moderation/stories/", f"/moderation/stories/{story.pk}/"):
        _fits(page, path, "de", staff=True)


def test_the_dashboard_fits_a_phone_its_wide_tables_scroll_in_their_cards(page, moderator, compliance):
    """The timing, backlog and per-moderator tables are wider than 390 px: they scroll inside their
    cards (.table-wrap in a grid column that may shrink) instead of widening the page."""
    for report in ReportFactory.create_batch(3):
        decide(moderator, report, ActionKind.WARNING)
    ReportFactory.create_batch(2)
    page.set_viewport_size(PHONE)
    sign_in(page, compliance.username, PASSWORD)
    for period in ("30", "90"):
        page.goto(f"/moderation/dashboard/?period={period}")
        expect(page.locator("h2", has_text="Per moderator")).to_be_visible()
        _no_sideways_scrolling(page)
        wraps = page.locator(".grid-2-even .table-wrap")
        assert wraps.count() >= 3
        for index in range(wraps.count()):
            box = wraps.nth(index).bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
