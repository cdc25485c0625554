"""Serializers of the filing API and the strict fields every API body goes through.

DRF's own fields are lenient: a CharField takes the number 123, a UUIDField an integer, a
BooleanField the string "yes". The published contract has types, so the fields here take exactly
the JSON type the schema states, and refuse what no database could store (NUL, lone surrogates,
numbers out of range) with a 400 rather than a 500.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import uuid
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.contrib.humanize.templatetags.humanize import intcomma
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from config.serializers import ModelSerializer, Serializer
from reports.categories import Category
from reports.models import Report, Target, TargetKind

_SURROGATE = re.compile("[\ud800-\udfff]")
NO_SURROGATES = _("Text must be valid Unicode (it has an unpaired surrogate).")
DB_INT_MAX = 2**63 - 1
METADATA_MAX_BYTES = 16 * 1024
METADATA_MAX_DEPTH = 8
TEXT_SNAPSHOT_MAX = 20_000


def _check_text(field: serializers.Field, value: str) -> None:
    if _SURROGATE.search(value):
        raise serializers.ValidationError(NO_SURROGATES)


class StrictCharField(serializers.CharField):
    """A JSON string, nothing else. NUL is already refused by DRF's CharField."""

    default_error_messages = {"invalid": _("Must be a string.")}

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        _check_text(self, data)
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """A JSON true or false; DRF's BooleanField also takes "yes", "on", 1 and "0"."""

    default_error_messages = {"invalid": _("Must be true or false.")}

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class StrictChoiceField(serializers.ChoiceField):
    default_error_messages = {"invalid_choice": _("{input!r} is not one of: {choices}.")}

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str) or (data == "" and not self.allow_blank):
            self.fail("invalid_choice", input=data, choices=", ".join(self.choice_strings_to_values))
        if data == "" and self.allow_blank:
            return ""
        if data not in self.choice_strings_to_values:
            self.fail("invalid_choice", input=data, choices=", ".join(self.choice_strings_to_values))
        return self.choice_strings_to_values[data]


class StrictUUIDField(serializers.UUIDField):
    default_error_messages = {"invalid": _("Must be a UUID string, e.g. 3f2b9c1e-8d4a-4c61-9f0e-2a7b5d6c8e91.")}

    def to_internal_value(self, data: Any) -> uuid.UUID:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    default_error_messages = {"invalid": _("Must be an integer.")}

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", DB_INT_MAX)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictDateTimeField(serializers.DateTimeField):
    """An ISO 8601 string; dates at the very ends of the calendar are refused, not crashed on."""

    def to_internal_value(self, data: Any):
        if not isinstance(data, str):
            self.fail("invalid", format="YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]")
        try:
            value = super().to_internal_value(data)
            value.astimezone(value.tzinfo)  # converting year 1 or 9999 across zones overflows
            return value
        except (OverflowError, ValueError):
            raise serializers.ValidationError(_("Give a date and time between the years 1 and 9999.")) from None


def _walk_json(value: Any, depth: int = 0) -> None:
    if depth > METADATA_MAX_DEPTH:
        raise serializers.ValidationError(
            gettext("Metadata may be nested at most %(depth)s levels deep.") % {"depth": METADATA_MAX_DEPTH}
        )
    if isinstance(value, str):
        if "\x00" in value or _SURROGATE.search(value):
            raise serializers.ValidationError(_("Metadata text may not contain NUL or unpaired surrogates."))
    elif isinstance(value, dict):
        for key, item in value.items():
            _walk_json(key, depth + 1)
            _walk_json(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _walk_json(item, depth + 1)


@extend_schema_field({"type": "object", "additionalProperties": True})
class JSONObjectField(serializers.JSONField):
    """A JSON object, bounded in size and depth, that PostgreSQL's jsonb will accept."""

    default_error_messages = {"invalid": _("Must be a JSON object.")}

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if not isinstance(data, dict):
            self.fail("invalid")
        _walk_json(data)
        if len(json.dumps(data)) > METADATA_MAX_BYTES:
            raise serializers.ValidationError(
                gettext("Metadata may be at most %(limit)s bytes of JSON.") % {"limit": intcomma(METADATA_MAX_BYTES)}
            )
        return data


@extend_schema_field({"type": "string", "format": "byte", "minLength": 4})
class Base64FileField(serializers.Field):
    """A file as a base64 string (standard alphabet, padding required)."""

    default_error_messages = {"invalid": _("Must be the file's bytes as a base64 string.")}

    def to_internal_value(self, data: Any) -> bytes:
        if not isinstance(data, str):
            self.fail("invalid")
        try:
            content = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            self.fail("invalid")
        if not content:
            raise serializers.ValidationError(_("The file is empty."))
        if len(content) > settings.EVIDENCE_MAX_BYTES:
            raise serializers.ValidationError(
                gettext("The file is larger than %(limit)s bytes.") % {"limit": intcomma(settings.EVIDENCE_MAX_BYTES)}
            )
        return content

    def to_representation(self, value: bytes) -> str:
        return base64.b64encode(value).decode()


# --- request bodies -----------------------------------------------------------------------------


class StrictSerializer(Serializer):
    """The base of every request body the API writes from: a field the contract does not name is a
    400 naming it, never dropped in silence (DRF ignores unknown keys, so `"is_patern": true` filed
    a report without the mark and answered 201). The schema says so too (additionalProperties:
    false, by StrictSerializerSchema below), so a client generated from it never sends one."""

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if isinstance(data, Mapping):
            unknown = sorted(str(key) for key in data if key not in self.fields)
            if unknown:
                known = ", ".join(self.fields)
                raise serializers.ValidationError(
                    {
                        key: [gettext("Unknown field; this endpoint takes: %(known)s.") % {"known": known}]
                        for key in unknown
                    }
                )
        return super().to_internal_value(data)


class StrictSerializerSchema(OpenApiSerializerExtension):
    """drf-spectacular: a StrictSerializer's object allows no other properties."""

    target_class = StrictSerializer
    match_subclasses = True

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_basic_serializer(self.target, direction)
        return {**schema, "additionalProperties": False}


# --- filing -------------------------------------------------------------------------------------


class ReportCreateSerializer(StrictSerializer):
    report_type = StrictChoiceField(choices=TargetKind.choices, help_text="The kind of thing reported.")
    target_id = StrictUUIDField(help_text="The target's UUID, as registered through POST /api/targets.")
    reason = StrictCharField(
        max_length=settings.REPORT_REASON_MAX_API,
        trim_whitespace=False,
        help_text=f"What happened, 1 to {settings.REPORT_REASON_MAX_API:,} characters.",
    )
    category = StrictChoiceField(
        choices=Category.choices,
        required=False,
        default=Category.OTHER_TOS,
        help_text="What is wrong; sets the severity and the deadline. Default: other_tos.",
    )
    incident_at = StrictDateTimeField(
        required=False, allow_null=True, default=None, help_text="When it happened (ISO 8601), if known."
    )
    is_pattern = StrictBooleanField(
        required=False,
        default=False,
        help_text="True when it is part of a repeated pattern (describe the earlier times in the reason).",
    )


class ReportSerializer(ModelSerializer):
    """A report as its reporter sees it: never the reviewer, the notes or the deadline."""

    target_id = serializers.UUIDField(source="target.public_id", read_only=True)

    class Meta:
        model = Report
        fields = [
            "id",
            "report_type",
            "target_id",
            "reason",
            "category",
            "status",
            "created_at",
            "incident_at",
            "is_pattern",
        ]
        read_only_fields = fields


# --- targets (the platform's server) ----------------------------------------------------------


class TargetRegisterSerializer(StrictSerializer):
    kind = StrictChoiceField(choices=TargetKind.choices, help_text="What the target is.")
    external_id = StrictCharField(
        max_length=128, help_text="The platform's own id for it; registering it again updates the same target."
    )
    owner_id = StrictIntegerField(
        required=False, allow_null=True, default=None, help_text="The account id of its author or owner, if any."
    )
    title = StrictCharField(
        max_length=200, required=False, allow_blank=True, default="", help_text="A short label for moderators."
    )
    text = StrictCharField(
        max_length=TEXT_SNAPSHOT_MAX,
        required=False,
        allow_blank=True,
        default="",
        trim_whitespace=False,
        help_text="The text as it is now (kept as evidence once the target is reported).",
    )
    file = Base64FileField(
        required=False,
        allow_null=True,
        default=None,
        help_text="An image (PNG, JPEG, GIF, WebP) or PDF, base64; images are re-encoded without metadata.",
    )
    metadata = JSONObjectField(
        required=False, default=dict, help_text="Anything useful: room, session id, timestamps, URLs."
    )
    review_before_publication = StrictBooleanField(
        required=False,
        default=False,
        help_text=(
            "Only for kind video_story: hold the story for review before publication, as POST "
            "/api/stories does (the same submission: its deadline, the hash bank match, the verdict "
            "webhook). `file` is then required and is the story's frame (an image); the answer's "
            "`review` names the story. Off: the target is registered or updated as it is."
        ),
    )

    def validate_external_id(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError(_("This field may not be blank."))
        return value.strip()


class HeldStorySerializer(serializers.Serializer):
    """The review a video story registered with `review_before_publication` waits in."""

    story_id = serializers.UUIDField(help_text="The story's id for GET /api/stories/{storyId}.")
    status = serializers.CharField(
        help_text="pending; rejected at once when the frame matches the hash bank (as GET /api/stories/{storyId})."
    )
    due_at = serializers.DateTimeField(help_text="When the review is due (STORY_REVIEW_HOURS after receipt).")


class TargetSerializer(ModelSerializer):
    target_id = serializers.UUIDField(source="public_id", read_only=True)
    owner_id = serializers.IntegerField(read_only=True, allow_null=True)
    created = serializers.SerializerMethodField(
        help_text=(
            "True when this call registered it, False when it updated it. With "
            "review_before_publication: True when this call put the story in review, False when it "
            "already was (the same frame sent again)."
        )
    )
    review = serializers.SerializerMethodField(
        help_text="The pre-publication review, when review_before_publication was asked; else null."
    )

    class Meta:
        model = Target
        fields = [
            "target_id",
            "kind",
            "external_id",
            "owner_id",
            "title",
            "state",
            "snapshot_sha256",
            "snapshot_content_type",
            "metadata",
            "created",
            "created_at",
            "updated_at",
            "review",
        ]
        read_only_fields = fields

    def get_created(self, target: Target) -> bool:
        return bool(self.context.get("created"))

    @extend_schema_field(HeldStorySerializer(allow_null=True))
    def get_review(self, target: Target) -> dict | None:
        held = self.context.get("review")
        return HeldStorySerializer(held).data if held is not None else None


# --- errors, for the schema ---------------------------------------------------------------------


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="What went wrong, in a sentence.")
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text='For bad input: messages per field; whole-body problems are under "non_field_errors".',
    )
