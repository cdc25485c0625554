"""axe-core, the accessibility engine, on every page of every role, in Chromium: zero violations.

axe-core comes from npm (bin/test installs the version it pins into .cache/axe; AXE_CORE_JS may name
another copy of axe.min.js). It is injected into each page after it loaded, so the pages keep their
Content-Security-Policy for everything of ours (the context only lets this one test script in), and
it runs all of axe's rules but the experimental ones: WCAG 2.x A and AA, and its best practices.
Without axe-core the tests are skipped, unless REQUIRE_BROWSER=1 (CI), where that is a failure.

The pages are our own, for each role: anonymous visitors, a user (a reporter who is also the
subject of a decision), a moderator, a compliance officer and an admin. Django's own admin site is
not ours and is not checked.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.conf import settings

from moderation.enforcement import services as enforcement
from moderation.enforcement.actions import ActionKind
from moderation.enforcement.models import Notice, NoticeKind
from moderation.enforcement.notices import appeal_token, complaint_appeal_token
from reports.categories import Category
from reports.models import ReportStatus, TargetKind
from reports.services import complaint_file
from tests.browser.conftest import sign_in
from tests.conftest import png_bytes
from tests.factories import PASSWORD, ReportFactory, TargetFactory, UserFactory
from tests.test_enforcement import decide, in_a_day

pytestmark = pytest.mark.django_db(transaction=True)

AXE = Path(os.environ.get("AXE_CORE_JS", Path(settings.BASE_DIR) / ".cache/axe/node_modules/axe-core/axe.min.js"))
RUN_AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map(v => ({
    rule: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 4).map(n => n.target.join(" ") + " :: " + n.failureSummary.replace(/\\s+/g, " "))
  }));
}"""


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE.is_file():
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"axe-core is not at {AXE}: bin/test installs it with npm")
        pytest.skip(f"axe-core is not installed ({AXE}); bin/test installs it with npm")
    return AXE.read_text()


@pytest.fixture
def audit(chromium, live_server, axe_source):
    """audit(path or None, *, as_user=None, width=1280) -> the page; fails listing every violation."""
    contexts = []

    def new_page(username: str | None, width: int):
        # bypass_csp: the pages forbid inline script, and axe is injected as one.
        context = chromium.new_context(
            base_url=live_server.url, viewport={"width": width, "height": 900}, bypass_csp=True
        )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        if username:
            sign_in(page, username, PASSWORD)
        return page

    def check(page, label: str) -> None:
        page.add_script_tag(content=axe_source)
        violations = page.evaluate(RUN_AXE)
        assert violations == [], f"{label}: " + "\n".join(
            f"{v['rule']} ({v['impact']}): {v['help']}\n    " + "\n    ".join(v["nodes"]) for v in violations
        )

    yield new_page, check
    for context in contexts:
        context.close()


def _each(new_page, check, username, paths, width=1280):
    page = new_page(username, width)
    for path in paths:
        response = page.goto(path)
        assert response.status < 400, f"{path}: {response.status}"
        check(page, f"{username or 'anonymous'} {path}")
    return page


@pytest.fixture
def world(user, other_user, moderator, compliance, admin_user):
    """One of everything each role's pages show: reports in every status, a decision with its
    statement, an appeal, a complaint, an account under a timeout with unread notices."""
    offender = UserFactory(username="offender")
    message = TargetFactory(owner=offender, title="Message in #lobby", snapshot_text="log off, loser")
    profile = TargetFactory(owner=offender, kind=TargetKind.PROFILE, title="Profile of offender")
    open_report = ReportFactory(reporter=user, target=message, category=Category.HARASSMENT)
    for status in (ReportStatus.REVIEWED, ReportStatus.RESOLVED, ReportStatus.DISMISSED):
        ReportFactory(reporter=user, status=status, target=TargetFactory(owner=other_user))
    decided = ReportFactory(reporter=other_user, target=profile)
    removal, timeout = decide(moderator, decided, ActionKind.REMOVE_CONTENT, ActionKind.TIMEOUT, ends_at=in_a_day())
    appeal = enforcement.appeal_file(actor=offender, sanction_id=timeout.pk, text="I was quoting him.")
    # The reporter is also the subject of a decision: a timeout in force and an unread notice.
    on_reporter = ReportFactory(reporter=other_user, target=TargetFactory(owner=user))
    decide(moderator, on_reporter, ActionKind.TIMEOUT, ends_at=in_a_day())
    suspended = UserFactory(username="suspended")
    [suspension] = decide(
        moderator, ReportFactory(target=TargetFactory(owner=suspended)), ActionKind.SUSPENSION, ends_at=in_a_day()
    )
    complaint = complaint_file(
        name="Rita",
        email="rita@example.test",
        content_kind=TargetKind.VIDEO_STORY,
        location="https://chat.example/stories/8812",
        description="My course video, re-uploaded without my permission.",
        category=Category.COPYRIGHT,
        good_faith=True,
        client_address="198.51.100.7",
    )
    dismissed_complaint = complaint_file(
        name="Rita",
        email="rita@example.test",
        content_kind=TargetKind.MESSAGE,
        location="#lobby, yesterday",
        description="Spam in the lobby.",
        category=Category.SPAM,
        good_faith=True,
        client_address="198.51.100.8",
    )
    from moderation import services as moderation_services

    moderation_services.report_review(actor=moderator, report_id=dismissed_complaint.pk, status=ReportStatus.DISMISSED)
    return {
        "user": user,
        "open_report": open_report,
        "message": message,
        "decided": decided,
        "timeout": timeout,
        "removal": removal,
        "appeal": appeal,
        "offender": offender,
        "suspension": suspension,
        "complaint": complaint,
        "dismissed_complaint": dismissed_complaint,
        "reporter_notice": Notice.objects.get(recipient=user, kind=NoticeKind.STATEMENT_OF_REASONS),
    }


def test_anonymous_pages(audit, world):
    new_page, check = audit
    page = _each(
        new_page,
        check,
        None,
        [
            "/",
            "/accounts/login/",
            "/complaint/",
            f"/appeal/{appeal_token(sanction=world['suspension'])}/",
            f"/appeal/complaint/{complaint_appeal_token(report=world['dismissed_complaint'])}/",
        ],
    )
    # The complaint form with its errors, and its thank-you page.
    page.goto("/complaint/")
    page.click("text=Send complaint")
    page.wait_for_selector("#error-summary")
    check(page, "anonymous complaint form with errors")
    page.fill("#id_name", "Rita")
    page.fill("#id_email", "rita@example.test")
    page.select_option("#id_content_kind", "message")
    page.select_option("#id_category", "spam")
    page.fill("#id_location", "#lobby")
    page.fill("#id_description", "Spam again.")
    page.check("#id_good_faith")
    page.click("text=Send complaint")
    page.wait_for_url("**/complaint/received/")
    check(page, "anonymous complaint thank-you page")
    # A suspended account's sign-in, refused with the reason.
    page.goto("/accounts/login/")
    page.fill("#id_username", "suspended")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector(".sanction-block")
    check(page, "anonymous sign-in refused for a suspension")


@pytest.mark.parametrize("width", [390, 1280])
def test_user_pages(audit, world, width):
    new_page, check = audit
    target = world["message"]
    other_target = TargetFactory(title="Another message")
    page = _each(
        new_page,
        check,
        world["user"].username,
        [
            "/demo/",
            f"/report/new/?target={other_target.public_id}",
            "/report/mine/",
            f"/report/{world['open_report'].pk}/",
            "/account/",
            "/account/notices/",
            f"/account/notices/{world['reporter_notice'].pk}/",
        ],
        width=width,
    )
    # The filing form with errors and evidence kept from the failed try.
    page.goto(f"/report/new/?target={target.public_id}")
    page.set_input_files("#id_evidence", files=[{"name": "shot.png", "mimeType": "image/png", "buffer": png_bytes()}])
    page.click("text=Send report")
    page.wait_for_selector("#error-summary")
    check(page, "user filing form with errors and held evidence")
    # The appeal form with its errors, on the notice.
    page.goto(f"/account/notices/{world['reporter_notice'].pk}/")
    page.get_by_role("button", name="Send appeal").click()
    page.wait_for_selector("#error-summary")
    check(page, "user appeal form with errors")


def test_moderator_pages(audit, world):
    new_page, check = audit
    _each(
        new_page,
        check,
        "moderator1",
        [
            "/moderation/",
            f"/moderation/reports/{world['open_report'].pk}/",
            f"/moderation/reports/{world['open_report'].pk}/decide/",
            f"/moderation/reports/{world['complaint'].pk}/",
            f"/moderation/reports/{world['decided'].pk}/",
            "/moderation/dashboard/",
            f"/moderation/sanctions/{world['timeout'].pk}/",
        ],
    )


@pytest.mark.parametrize("width", [390, 1280])
def test_story_review_pages(audit, moderator, compliance, width):
    """The pre-publication queue in each tab, a waiting story (and its rejection form with errors), a
    story a moderator rejected, and one a detector rejected, shown to compliance."""
    from moderation.stories import services as stories
    from tests.hashbank_media import picture_bytes
    from tests.test_stories import submit

    new_page, check = audit
    waiting = submit("a11y-waiting", owner=UserFactory(username="story_owner"), title="Sunset at the lake").story
    submit("a11y-url-only", frame=picture_bytes(31), title="Story with a frame")
    rejected = submit("a11y-rejected", frame=picture_bytes(32), title="Street fight").story
    stories.story_reject(actor=moderator, story_id=rejected.pk, category="violence", explanation="A real fight.")
    automatic = submit("a11y-automatic", frame=picture_bytes(33), title="Flagged story").story
    stories.reject_story_automatically(story=automatic, reason="non_consensual", source="detector nudity-v3 2.1")
    paths = [
        "/moderation/stories/",
        "/moderation/stories/?status=approved",
        "/moderation/stories/?status=rejected",
        f"/moderation/stories/{waiting.pk}/",
        f"/moderation/stories/{rejected.pk}/",
    ]
    page = _each(new_page, check, "moderator1", paths, width=width)
    page.goto(f"/moderation/stories/{waiting.pk}/")
    page.get_by_role("button", name="Reject the story").click()
    page.wait_for_selector("#error-summary")
    check(page, "moderator story rejection form with errors")
    _each(new_page, check, "compliance1", [f"/moderation/stories/{automatic.pk}/"], width=width)


@pytest.mark.parametrize("width", [390, 1280])
def test_automated_report_pages(audit, moderator, width):
    """An automated report: its row in the queue (marked a machine's, its score a pill) and its page
    (the signals a table, or small labelled cards on a phone)."""
    from moderation.signals.models import Detector, SignalPolicy
    from reports.models import Report, ReportChannel
    from tests.test_signals_pages import signals_on

    new_page, check = audit
    detector = Detector.objects.create(name="hate-speech-model")
    SignalPolicy.objects.create(detector=detector, category="", floor="0.1", review_threshold="0.5")
    signals_on(TargetFactory(), 2, top="0.93")
    automated = Report.objects.get(channel=ReportChannel.AUTOMATED)
    _each(new_page, check, "moderator1", ["/moderation/", f"/moderation/reports/{automated.pk}/"], width=width)


def test_compliance_pages(audit, world):
    new_page, check = audit
    _each(
        new_page,
        check,
        "compliance1",
        [
            "/moderation/appeals/",
            f"/moderation/appeals/{world['appeal'].pk}/",
            f"/moderation/accounts/{world['offender'].pk}/",
            "/audit/",
            f"/moderation/sanctions/{world['suspension'].pk}/",
        ],
    )


def test_admin_pages(audit, world):
    new_page, check = audit
    closed = ReportFactory(status=ReportStatus.RESOLVED)
    _each(
        new_page,
        check,
        "admin1",
        ["/moderation/", f"/moderation/reports/{closed.pk}/", f"/moderation/accounts/{world['user'].pk}/", "/account/"],
    )


def test_the_check_finds_what_it_is_meant_to_find(audit, live_server):
    """The engine is really running: a page with known faults fails the check, naming them."""
    new_page, check = audit
    page = new_page(None, 1280)
    page.goto("/")
    page.evaluate(
        """() => {
        const main = document.querySelector("main");
        const img = document.createElement("img"); img.src = "/static/img/favicon.svg"; main.append(img);
        const input = document.createElement("input"); input.type = "text"; main.append(input);
    }"""
    )
    with pytest.raises(AssertionError) as failed:
        check(page, "a page with an unlabelled image and field")
    assert "image-alt" in str(failed.value) and "label" in str(failed.value)
