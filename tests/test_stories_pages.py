"""The pre-publication queue and a story's page: who may see and decide, the verdict forms and their
refusals, the frame, and a fixed number of queries whatever the queue's size."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from moderation.enforcement.models import OutboxEvent
from moderation.stories import services
from moderation.stories.models import StoryReview, StoryStatus
from reports.categories import Category
from tests.factories import UserFactory
from tests.test_stories import submit

pytestmark = pytest.mark.django_db

QUEUE = "/moderation/stories/"


def page(story: StoryReview) -> str:
    return f"/moderation/stories/{story.pk}/"


# --- permissions --------------------------------------------------------------------------------------


def test_who_sees_the_queue_and_a_story(client, user, moderator, compliance, admin_user):
    story = submit().story
    for path in (QUEUE, page(story), f"{page(story)}frame/"):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/"), path
    client.force_login(user)
    assert client.get(QUEUE).status_code == 403
    assert client.get(page(story)).status_code == 404  # as for a report: invisible is missing
    assert client.get(f"{page(story)}frame/").status_code == 404
    assert client.post(f"{page(story)}approve/").status_code == 404
    for staff in (moderator, compliance, admin_user):
        client.force_login(staff)
        assert client.get(QUEUE).status_code == 200
        assert client.get(page(story)).status_code == 200
        assert client.get(f"{page(story)}frame/").status_code == 200
    story.refresh_from_db()
    assert story.is_pending


def test_staff_who_may_look_but_not_decide_get_403(client, moderator):
    from django.contrib.auth.models import Permission

    story = submit().story
    viewer = UserFactory(username="viewer")
    viewer.user_permissions.add(Permission.objects.get(codename="view_queue"))
    client.force_login(viewer)
    assert client.get(page(story)).status_code == 200
    assert "You may look at stories but not decide them." in client.get(page(story)).content.decode()
    assert client.post(f"{page(story)}approve/").status_code == 403
    assert client.post(f"{page(story)}reject/", {"category": "spam", "explanation": "x"}).status_code == 403
    story.refresh_from_db()
    assert story.is_pending


def test_unknown_and_malformed_story_ids_are_404(client, moderator):
    client.force_login(moderator)
    assert client.get("/moderation/stories/not-a-story/").status_code == 404
    assert client.get("/moderation/stories/0b3c2e3a-0000-4000-8000-000000000000/").status_code == 404


def test_verdicts_are_posts_with_csrf(moderator):
    from django.test import Client

    story = submit().story
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(moderator)
    assert strict.get(f"{page(story)}approve/").status_code == 405
    assert strict.post(f"{page(story)}approve/").status_code == 403  # no CSRF token
    story.refresh_from_db()
    assert story.is_pending


# --- the queue ----------------------------------------------------------------------------------------


def test_the_queue_lists_waiting_stories_oldest_deadline_first_with_their_deadline_state(client, moderator):
    late = submit("story-late", title="Late story").story
    soon = submit("story-soon", title="Soon story", frame=_frame(2)).story
    fresh = submit("story-fresh", title="Fresh story", frame=_frame(3)).story
    now = timezone.now()
    StoryReview.objects.filter(pk=late.pk).update(
        received_at=now - timedelta(hours=30), due_at=now - timedelta(hours=6)
    )
    StoryReview.objects.filter(pk=soon.pk).update(
        received_at=now - timedelta(hours=22), due_at=now + timedelta(hours=2)
    )
    decided = submit("story-done", title="Decided story", frame=_frame(4)).story
    services.story_approve(actor=moderator, story_id=decided.pk)
    client.force_login(moderator)
    html = client.get(QUEUE).content.decode()
    positions = [html.index(title) for title in ("Late story", "Soon story", "Fresh story")]
    assert positions == sorted(positions)
    assert "Decided story" not in html
    assert "deadline-overdue" in html and "deadline-soon" in html and "deadline-ok" in html
    assert "3 video stories waiting for review" in html and "1 overdue" in html
    approved = client.get(f"{QUEUE}?status=approved").content.decode()
    assert "Decided story" in approved and "Fresh story" not in approved
    assert fresh.is_pending


def _frame(seed: int) -> bytes:
    from tests.hashbank_media import picture_bytes

    return picture_bytes(seed + 100)


def test_the_queue_costs_the_same_queries_for_two_stories_or_thirty(client, moderator, django_assert_max_num_queries):
    for n in range(2):
        submit(f"few-{n}", owner=UserFactory(), media_url=f"https://cdn.example/few-{n}.mp4")
    client.force_login(moderator)
    with django_assert_max_num_queries(12) as few:
        assert client.get(QUEUE).status_code == 200
    for n in range(28):
        submit(f"many-{n}", owner=UserFactory(), frame=_frame(n))
    with django_assert_max_num_queries(len(few)):
        html = client.get(QUEUE).content.decode()
    assert len(re.findall(r'href="/moderation/stories/[0-9a-f-]{36}/"', html)) == 25  # one page
    assert "Page 1 of 2" in html
    with django_assert_max_num_queries(len(few)):
        assert client.get(f"{QUEUE}?page=2").status_code == 200


def test_a_story_page_costs_a_fixed_number_of_queries(client, moderator, django_assert_max_num_queries):
    story = submit(owner=UserFactory()).story
    client.force_login(moderator)
    with django_assert_max_num_queries(10):
        html = client.get(page(story)).content.decode()
    assert "Sunset at the lake" in html and "https://cdn.chat.example/story-1.mp4" in html
    assert f'src="/moderation/stories/{story.pk}/frame/"' in html


# --- deciding on the page -----------------------------------------------------------------------------


def test_a_moderator_approves_and_the_story_leaves_the_queue(client, moderator):
    story = submit(title="Lake story").story
    client.force_login(moderator)
    response = client.post(f"{page(story)}approve/", follow=True)
    assert response.redirect_chain[-1][0] == QUEUE
    html = response.content.decode()
    assert "approved; the platform may publish it" in html and "No story is waiting for review." in html
    story.refresh_from_db()
    assert story.status == StoryStatus.APPROVED and OutboxEvent.objects.get().event_type == "story.approved"


def test_rejecting_without_a_reason_shows_the_errors_and_changes_nothing(client, moderator):
    story = submit().story
    client.force_login(moderator)
    response = client.post(f"{page(story)}reject/", {"category": "", "explanation": "  "})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="error-summary"' in html
    assert "Choose the reason from the list." in html
    assert "Explain the rejection in a sentence or two" in html
    response = client.post(f"{page(story)}reject/", {"category": "made-up", "explanation": "Spam."})
    assert response.status_code == 400
    story.refresh_from_db()
    assert story.is_pending and not OutboxEvent.objects.exists()


def test_a_moderator_rejects_with_a_reason_and_the_frame_goes_to_compliance_only(client, moderator, compliance):
    story = submit().story
    client.force_login(moderator)
    response = client.post(
        f"{page(story)}reject/", {"category": Category.SPAM, "explanation": "An advert for pills."}, follow=True
    )
    assert "rejected; the platform has been told" in response.content.decode()
    story.refresh_from_db()
    assert (story.status, story.category, story.decided_by) == ("rejected", "spam", moderator)
    html = client.get(page(story)).content.decode()
    assert "An advert for pills." in html and "Only compliance officers can open" in html
    assert client.get(f"{page(story)}frame/").status_code == 404
    client.force_login(compliance)
    assert client.get(f"{page(story)}frame/").status_code == 200


def test_the_second_moderator_is_told_who_decided_first(client, moderator):
    other = UserFactory(username="moderator2", role="moderator")
    story = submit().story
    client.force_login(moderator)
    client.get(page(story))  # both have the page open
    services.story_approve(actor=other, story_id=story.pk)
    response = client.post(f"{page(story)}reject/", {"category": "spam", "explanation": "Spam."})
    assert response.status_code == 409
    html = response.content.decode()
    assert "moderator2 already approved this story" in html
    story.refresh_from_db()
    assert story.status == StoryStatus.APPROVED and OutboxEvent.objects.count() == 1


def test_an_automatic_rejection_shows_its_source_and_the_report_for_compliance(client, compliance):
    story = submit().story
    services.reject_story_automatically(story=story, reason=Category.VIOLENCE, source="detector gore 1.0 (0.99)")
    story.refresh_from_db()
    client.force_login(compliance)
    html = client.get(page(story)).content.decode()
    assert "detector gore 1.0 (0.99)" in html and "Automatic" in html
    assert f"/moderation/reports/{story.report.pk}/" in html
    # The escalated report is in compliance's queue.
    assert story.report.short_id in client.get("/moderation/").content.decode()


def test_the_audit_log_links_a_storys_events_to_its_page(client, compliance):
    story = submit().story
    client.force_login(compliance)
    html = client.get("/audit/?object_type=story").content.decode()
    assert f'href="/moderation/stories/{story.pk}/"' in html


def test_the_platforms_text_is_escaped_on_every_story_page(client, moderator):
    payload = '<img src=x onerror="alert(1)">'
    story = submit(title=f"Story {payload}", caption=payload, media_url="https://cdn.example/a.mp4?<b>").story
    client.force_login(moderator)
    for path in (QUEUE, page(story)):
        html = client.get(path).content.decode()
        assert payload not in html and "&lt;img src=x onerror=" in html, path
