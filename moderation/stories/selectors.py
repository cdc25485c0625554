"""Reads of the pre-publication review: the queue, one story for staff, its frame, and the platform's
status read. Staff who may not work the moderation queue get 404 for a story, as for a report."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from moderation.selectors import Deadline, can_see_reports, deadline_for_window, may_see_snapshot
from moderation.stories.models import StoryReview, StoryStatus

# The queue's tabs: what waits (oldest deadline first) and what was decided (latest first).
QUEUE_ORDER = {
    StoryStatus.PENDING: ("due_at", "received_at", "id"),
    StoryStatus.APPROVED: ("-decided_at", "id"),
    StoryStatus.REJECTED: ("-decided_at", "id"),
}
STORIES_PER_PAGE = 25


def _not_found() -> Http404:
    return Http404("No such story")


def stories_in(status: str) -> QuerySet[StoryReview]:
    """One tab of the queue with everything its rows show, in one query per page (and one count)."""
    return (
        StoryReview.objects.filter(status=status)
        .select_related("target__owner", "decided_by")
        .order_by(*QUEUE_ORDER[status])
    )


def story_counts(*, now: datetime | None = None) -> dict[str, int]:
    """Stories per status, and the waiting ones past their deadline: one query."""
    now = now or timezone.now()
    return StoryReview.objects.aggregate(
        pending=Count("id", filter=Q(status=StoryStatus.PENDING)),
        overdue=Count("id", filter=Q(status=StoryStatus.PENDING, due_at__lte=now)),
        approved=Count("id", filter=Q(status=StoryStatus.APPROVED)),
        rejected=Count("id", filter=Q(status=StoryStatus.REJECTED)),
    )


def deadline_of(story: StoryReview, *, now: datetime | None = None) -> Deadline:
    """The story's review deadline, in the queue's colours (moderation.selectors.deadline_for_window)."""
    now = now or timezone.now()
    return deadline_for_window(start=story.received_at, due_at=story.due_at, closed_at=story.decided_at, now=now)


def with_deadlines(stories: Iterable[StoryReview], *, now: datetime | None = None) -> list[StoryReview]:
    now = now or timezone.now()
    rows = list(stories)
    for story in rows:
        story.deadline = deadline_of(story, now=now)
    return rows


def story_for_staff(*, user: AbstractBaseUser, story_id: uuid.UUID | str) -> StoryReview:
    """The story with what its page shows, or 404 for anyone who may not work the queue."""
    if not can_see_reports(user):
        raise _not_found()
    try:
        story_id = uuid.UUID(str(story_id))
    except ValueError:
        raise _not_found() from None
    story = StoryReview.objects.select_related("target__owner", "decided_by", "report").filter(pk=story_id).first()
    if story is None:
        raise _not_found()
    return story


def may_see_frame(*, user: AbstractBaseUser, story: StoryReview) -> bool:
    """A waiting story's frame is for every moderator; once rejected it is removed (or quarantined)
    content, for compliance only (moderation.selectors.may_see_snapshot)."""
    return bool(story.target.snapshot_file) and may_see_snapshot(user=user, target=story.target)


def frame_for_staff(*, user: AbstractBaseUser, story_id: uuid.UUID | str) -> StoryReview:
    story = story_for_staff(user=user, story_id=story_id)
    if not may_see_frame(user=user, story=story):
        raise Http404("No such file")
    return story


def story_for_platform(*, story_id: uuid.UUID | str) -> StoryReview | None:
    try:
        story_id = uuid.UUID(str(story_id))
    except ValueError:
        return None
    return StoryReview.objects.select_related("target").filter(pk=story_id).first()
