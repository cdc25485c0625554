"""The stories API's strict request body and its answers."""

from __future__ import annotations

from rest_framework import serializers

from config.serializers import ModelSerializer
from moderation.stories.models import StoryReview, StoryStatus
from reports.categories import Category
from reports.serializers import (
    TEXT_SNAPSHOT_MAX,
    Base64FileField,
    JSONObjectField,
    StrictCharField,
    StrictDateTimeField,
    StrictIntegerField,
    StrictSerializer,
)

MEDIA_URL_MAX = 2000


class StorySubmitSerializer(StrictSerializer):
    external_id = StrictCharField(
        max_length=128, help_text="The platform's own id for the story; sending it again returns the same story."
    )
    owner_id = StrictIntegerField(
        required=False, allow_null=True, default=None, help_text="The account id of the story's author, if known."
    )
    title = StrictCharField(
        max_length=200, required=False, allow_blank=True, default="", help_text="A short label for moderators."
    )
    caption = StrictCharField(
        max_length=TEXT_SNAPSHOT_MAX,
        required=False,
        allow_blank=True,
        default="",
        trim_whitespace=False,
        help_text="The story's caption or text, as it would be published.",
    )
    frame = Base64FileField(
        required=False,
        allow_null=True,
        default=None,
        help_text=(
            "A frame or the thumbnail of the video as an image (PNG, JPEG, GIF, WebP), base64. It is "
            "matched against the hash bank as sent and kept re-encoded without metadata. A frame or a "
            "media_url is required."
        ),
    )
    media_url = StrictCharField(
        max_length=MEDIA_URL_MAX,
        required=False,
        allow_blank=True,
        default="",
        help_text="Where the platform keeps the video (kept as text for moderators, never fetched).",
    )
    submitted_at = StrictDateTimeField(
        required=False,
        allow_null=True,
        default=None,
        help_text="When the owner submitted it (ISO 8601); the review deadline runs from receipt.",
    )
    metadata = JSONObjectField(
        required=False, default=dict, help_text="Anything useful: duration, room, upload client."
    )

    def validate_external_id(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError("This field may not be blank.")
        return value.strip()

    def validate_media_url(self, value: str) -> str:
        value = value.strip()
        if value and not value.lower().startswith(("https://", "http://")):
            raise serializers.ValidationError("Must be an http(s) address.")
        return value


class StorySerializer(ModelSerializer):
    """A story's review as the platform sees it: its verdict and reason, never who decided."""

    story_id = serializers.UUIDField(source="id", read_only=True)
    target_id = serializers.UUIDField(source="target.public_id", read_only=True)
    external_id = serializers.CharField(source="target.external_id", read_only=True)
    owner_id = serializers.IntegerField(source="target.owner_id", read_only=True, allow_null=True)
    title = serializers.CharField(source="target.title", read_only=True)
    status = serializers.ChoiceField(choices=StoryStatus.choices, read_only=True)
    publish = serializers.SerializerMethodField(help_text="True once approved: the platform may publish it.")
    category = serializers.ChoiceField(
        choices=Category.choices, read_only=True, allow_null=True, help_text="A rejection's reason, else null."
    )
    reason = serializers.SerializerMethodField(help_text="The rejection's reason in words, else null.")
    frame_sha256 = serializers.CharField(source="target.snapshot_sha256", read_only=True)
    created = serializers.SerializerMethodField(
        help_text="True when this call submitted it, False when the story was already there."
    )

    class Meta:
        model = StoryReview
        fields = [
            "story_id",
            "target_id",
            "external_id",
            "owner_id",
            "title",
            "status",
            "publish",
            "category",
            "reason",
            "explanation",
            "automated",
            "media_url",
            "frame_sha256",
            "submitted_at",
            "received_at",
            "due_at",
            "decided_at",
            "created",
        ]
        read_only_fields = fields

    def get_publish(self, story: StoryReview) -> bool:
        return story.status == StoryStatus.APPROVED

    def get_reason(self, story: StoryReview) -> str | None:
        return str(Category(story.category).label) if story.category else None

    def get_created(self, story: StoryReview) -> bool:
        return bool(self.context.get("created"))

    def to_representation(self, story: StoryReview):
        body = super().to_representation(story)
        body["category"] = story.category or None
        return body
