"""Pre-publication review in Chromium: a moderator opens the stories queue, opens the story with the
earliest deadline, looks at its frame, rejects it with a reason (after the form refused it without
one) and sees it gone from the queue; the platform's webhook is in the outbox."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from moderation.enforcement.models import OutboxEvent
from moderation.stories.models import StoryReview, StoryStatus
from tests.browser.conftest import sign_in
from tests.factories import PASSWORD, UserFactory
from tests.hashbank_media import picture_bytes
from tests.test_stories import submit

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_moderator_rejects_a_story_from_the_queue(page, moderator):
    owner = UserFactory(username="lake_fan")
    urgent = submit("story-urgent", owner=owner, title="Night drive", caption="Watch this!").story
    calm = submit("story-calm", owner=owner, title="Sunset at the lake", frame=picture_bytes(8)).story
    now = timezone.now()
    StoryReview.objects.filter(pk=urgent.pk).update(
        received_at=now - timedelta(hours=26), due_at=now - timedelta(hours=2)
    )

    sign_in(page, moderator.username, PASSWORD)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Stories").click()
    page.wait_for_url("**/moderation/stories/")
    rows = page.locator(".story-table tbody tr")
    assert rows.count() == 2
    assert "Night drive" in rows.nth(0).inner_text() and "Overdue by" in rows.nth(0).inner_text()
    assert "row-overdue" in rows.nth(0).get_attribute("class")

    page.get_by_role("link", name="Night drive").click()
    page.wait_for_url(f"**/moderation/stories/{urgent.pk}/")
    frame = page.locator("#story-frame")
    assert "blurred" in frame.get_attribute("class")
    assert frame.evaluate("img => img.complete && img.naturalWidth > 0")  # the frame really loads
    page.get_by_role("button", name="Show frame").click()
    assert "blurred" not in (frame.get_attribute("class") or "")

    # Without a reason the form says what is missing and nothing is decided.
    page.get_by_role("button", name="Reject the story").click()
    page.wait_for_selector("#error-summary")
    assert "Choose the reason from the list." in page.locator("#error-summary").inner_text()
    assert StoryReview.objects.get(pk=urgent.pk).status == StoryStatus.PENDING

    page.get_by_label("Reason").select_option("violence")
    page.get_by_label("Explanation for the story's owner").fill("Shows a real street fight filmed from a car.")
    page.get_by_role("button", name="Reject the story").click()
    page.wait_for_url("**/moderation/stories/")
    assert "rejected; the platform has been told" in page.locator(".messages").inner_text()
    rows = page.locator(".story-table tbody tr")
    assert rows.count() == 1 and "Sunset at the lake" in rows.nth(0).inner_text()
    assert page.get_by_role("link", name="Night drive").count() == 0

    urgent.refresh_from_db()
    assert (urgent.status, urgent.category, urgent.decided_by) == ("rejected", "violence", moderator)
    assert OutboxEvent.objects.get().payload["external_id"] == "story-urgent"
    page.get_by_role("link", name="Rejected").click()
    assert "Night drive" in page.locator(".story-table").inner_text()
    assert calm.is_pending
    assert page.dialogs == []
