"""The pre-publication review the reports app asks for (reports/hooks.py PrePublicationReview),
registered in apps.py: POST /api/targets with `review_before_publication` holds a video story through
the same service as POST /api/stories."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser

from moderation.stories.services import story_submit
from reports.hooks import HeldStory


class PrePublicationReview:
    def hold_story(
        self,
        *,
        actor: Any,
        external_id: str,
        owner: AbstractBaseUser | None,
        title: str,
        caption: str,
        frame: bytes,
        frame_clean: bytes,
        frame_content_type: str,
        metadata: dict[str, Any],
    ) -> HeldStory:
        submission = story_submit(
            actor=actor,
            external_id=external_id,
            owner=owner,
            title=title,
            caption=caption,
            frame=frame,
            frame_clean=frame_clean,
            frame_content_type=frame_content_type,
            metadata=metadata,
        )
        story = submission.story
        return HeldStory(
            target=story.target,
            story_id=story.pk,
            status=story.status,
            due_at=story.due_at,
            created=submission.created,
        )
