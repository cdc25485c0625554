"""POST /api/stories and GET /api/stories/{storyId}: the platform holds a video story for review
before publishing it, and reads its verdict (which also comes as a story.approved or story.rejected
webhook). Thin: parse, call the service or the selector, answer."""

from __future__ import annotations

import io

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from PIL import Image
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api_errors import Conflict, from_service_error
from moderation.stories import selectors, services
from moderation.stories.serializers import StorySerializer, StorySubmitSerializer
from reports.api import PLATFORM_AUTH, IsPlatform, error_responses
from reports.uploads import IMAGE_FORMATS, clean_upload

# A 16x16 PNG of stripes: a harmless example frame.
_EXAMPLE_FRAME = (
    "iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAIAAACQkWg2AAAAJUlEQVR42mPUiFrAwMBwKW8DAwOD3qQAgmwm"
    "BhLBqIZRDUNHAwAOUgwyvnvdiwAAAABJRU5ErkJggg=="
)

NOT_AN_IMAGE = "A frame must be an image (PNG, JPEG, GIF or WebP)."


def _looks_like_an_image(content: bytes) -> bool:
    """Whether the bytes open as one of the image formats evidence takes: the header only, no pixel
    decoded (clean_upload decodes it next, within its limits). A PDF is evidence, not a frame."""
    try:
        with Image.open(io.BytesIO(content)) as image:
            return image.format in IMAGE_FORMATS
    except (OSError, ValueError, Image.DecompressionBombError):
        return False


STORY_ID = OpenApiParameter(
    "storyId",
    OpenApiTypes.UUID,
    OpenApiParameter.PATH,
    description="The story's id, as POST /api/stories answered it.",
)


class StorySubmitView(APIView):
    permission_classes = [IsPlatform]

    @extend_schema(
        operation_id="story_submit",
        auth=PLATFORM_AUTH,
        summary="Hold a video story for review before publication (platform key)",
        description=(
            "The platform sends a video story before publishing it: its id, owner, title and caption, a "
            "frame (an image, base64) and/or the video's address. It waits in the pre-publication queue "
            "(deadline: STORY_REVIEW_HOURS after receipt, 24 by default) until a moderator approves or "
            "rejects it; the verdict comes as a `story.approved` or `story.rejected` webhook, signed like "
            "every other, and GET /api/stories/{storyId} answers it too. A frame that matches the hash "
            "bank is rejected at once (status `rejected`, `automated` true) and put before compliance. "
            "201 when submitted; the same external_id with the same media again answers 200 with the "
            "story as it is; with other media, 409 (a story is reviewed once: send a new version under "
            "a new id)."
        ),
        request=StorySubmitSerializer,
        responses={
            201: StorySerializer,
            200: StorySerializer,
            **error_responses(400, 401, 403, 409, 413, 415, 429),
        },
        examples=[
            OpenApiExample(
                "A story with a frame",
                value={
                    "external_id": "story-8812",
                    "owner_id": 42,
                    "title": "Sunset at the lake",
                    "caption": "Best evening of the summer",
                    "frame": _EXAMPLE_FRAME,
                    "media_url": "https://cdn.chat.example/stories/8812.mp4",
                    "submitted_at": "2026-11-29T21:15:00Z",
                },
                request_only=True,
            )
        ],
        tags=["stories"],
    )
    def post(self, request: Request) -> Response:
        data = StorySubmitSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        owner = None
        if values["owner_id"] is not None:
            owner = get_user_model().objects.filter(pk=values["owner_id"]).first()
            if owner is None:
                raise exceptions.ValidationError({"owner_id": ["No account with this id."]})
        frame_clean, frame_type = None, ""
        if values["frame"] is not None:
            if not _looks_like_an_image(values["frame"]):
                raise exceptions.ValidationError({"frame": [NOT_AN_IMAGE]})
            try:
                # The evidence checks (size, dimensions, embedded markup), and re-encoded without metadata.
                clean = clean_upload(SimpleUploadedFile("frame", values["frame"]))
            except ValidationError as error:
                raise exceptions.ValidationError({"frame": error.messages}) from None
            if not clean.content_type.startswith("image/"):
                raise exceptions.ValidationError({"frame": [NOT_AN_IMAGE]})
            frame_clean, frame_type = clean.content, clean.content_type
        arguments = {
            "actor": request.user.actor,
            "external_id": values["external_id"],
            "owner": owner,
            "title": values["title"],
            "caption": values["caption"],
            "frame": values["frame"],
            "frame_clean": frame_clean,
            "frame_content_type": frame_type,
            "media_url": values["media_url"],
            "submitted_at": values["submitted_at"],
            "metadata": values["metadata"],
        }
        try:
            submission = services.story_submit(**arguments)
        except ValidationError as error:
            if any(item.code == "conflict" for item in getattr(error, "error_dict", {}).get("external_id", [])):
                raise Conflict(error.message_dict["external_id"][0]) from None
            raise from_service_error(error) from None
        body = StorySerializer(submission.story, context={"created": submission.created}).data
        return Response(body, status=status.HTTP_201_CREATED if submission.created else status.HTTP_200_OK)


class StoryStatusView(APIView):
    permission_classes = [IsPlatform]

    @extend_schema(
        operation_id="story_status",
        auth=PLATFORM_AUTH,
        summary="A story's review status (platform key)",
        description=(
            "Where the story stands: `pending` (waiting for review), `approved` (`publish` true) or "
            "`rejected` with its category, reason and explanation, and whether it was decided "
            "automatically. Never who reviewed it."
        ),
        parameters=[STORY_ID],
        responses={200: StorySerializer, **error_responses(401, 403, 404, 429)},
        tags=["stories"],
    )
    def get(self, request: Request, storyId: str) -> Response:
        story = selectors.story_for_platform(story_id=storyId)
        if story is None:
            raise exceptions.NotFound("No such story.")
        return Response(StorySerializer(story).data)
