"""Two moderators deciding one story at the same moment, with real threads on PostgreSQL (each its
own connection): exactly one verdict, one webhook, and the other told who won. SQLite serialises
writers, so the race cannot happen there."""

from __future__ import annotations

import functools

import pytest
from django.db import connection

from audit.models import AuditEvent
from moderation.enforcement.models import OutboxEvent
from moderation.stories import services
from moderation.stories.models import StoryReview
from tests.factories import UserFactory
from tests.hashbank_media import picture_bytes
from tests.test_moderation_concurrency import race
from tests.test_stories import submit

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL"),
]


def test_two_moderators_deciding_one_story_at_once_exactly_one_wins():
    alice = UserFactory(username="alice_mod", role="moderator")
    bob = UserFactory(username="bob_mod", role="moderator")
    for attempt in range(5):
        story = submit(f"race-{attempt}", frame=picture_bytes(40 + attempt)).story
        results = race(
            [
                lambda story_id=story.pk: services.story_approve(actor=alice, story_id=story_id),
                lambda story_id=story.pk: services.story_reject(
                    actor=bob, story_id=story_id, category="spam", explanation="Spam."
                ),
                lambda story=story: services.reject_story_automatically(
                    story=story, reason="violence", source="detector gore 1.0"
                ),
            ]
        )
        won = [result for result in results if isinstance(result, StoryReview)]
        lost = [result for result in results if isinstance(result, services.StoryAlreadyDecided)]
        assert (len(won), len(lost)) == (1, 2), results
        story.refresh_from_db()
        assert story.status == won[0].status
        assert all("already" in str(refusal) for refusal in lost)
        decided = AuditEvent.objects.filter(
            object_id=str(story.pk), event_type__in=["story.approved", "story.rejected"]
        )
        assert decided.count() == 1
        assert OutboxEvent.objects.filter(payload__story_id=str(story.pk)).count() == 1


def test_two_submissions_of_one_new_story_at_once_hold_it_once_and_both_get_it():
    """The platform sends a new story twice at the same moment (a retry racing the first try): the
    database's unique constraints let one in, the other, tried again inside story_submit, finds it."""
    for attempt in range(5):
        external_id, frame = f"twice-{attempt}", picture_bytes(60 + attempt)
        send = functools.partial(submit, external_id, frame=frame)
        results = race([send, send])
        assert all(isinstance(result, services.Submission) for result in results), results
        assert sorted(result.created for result in results) == [False, True]
        assert len({result.story.pk for result in results}) == 1
        assert StoryReview.objects.filter(target__external_id=external_id).count() == 1
        submitted = AuditEvent.objects.filter(event_type="story.submitted", data__external_id=external_id)
        assert submitted.count() == 1
