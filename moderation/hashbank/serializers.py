"""The hash check API's request and answer."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from moderation.hashbank.hashing import HASH_HEX_LENGTH, normalize_hex
from moderation.hashbank.models import BANK_CATEGORY_CHOICES, EntrySource, MediaKind
from moderation.hashbank.selectors import BankMatch, MatchType
from reports.serializers import Base64FileField, StrictIntegerField, StrictSerializer


@extend_schema_field(
    {"type": "string", "pattern": f"^[0-9a-fA-F]{{{HASH_HEX_LENGTH}}}$", "minLength": 64, "maxLength": 64}
)
class HexHashField(serializers.Field):
    """A 256-bit hash as 64 hex digits (either case); given back in lowercase."""

    default_error_messages = {"invalid": f"Must be {HASH_HEX_LENGTH} hex digits (256 bits)."}

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        value = normalize_hex(data)
        if value is None:
            self.fail("invalid")
        return value

    def to_representation(self, value: str) -> str:
        return value


class HashCheckSerializer(StrictSerializer):
    file = Base64FileField(
        required=False,
        help_text="The upload itself (an image or a video frame: PNG, JPEG, GIF, WebP), base64. It is hashed and "
        "forgotten: nothing of it is stored.",
    )
    sha256 = HexHashField(required=False, help_text="Instead of the file: its SHA-256, computed by the platform.")
    pdq = HexHashField(required=False, help_text="Instead of the file: its PDQ hash, computed by the platform.")
    pdq_quality = StrictIntegerField(
        required=False,
        min_value=0,
        max_value=100,
        help_text="PDQ's quality score for `pdq`; below the bank's minimum the PDQ is not compared.",
    )

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        hashes = "sha256" in data or "pdq" in data
        if "file" in data and (hashes or "pdq_quality" in data):
            raise serializers.ValidationError("Send the file, or its hashes, not both.")
        if "file" not in data and not hashes:
            raise serializers.ValidationError("Send the file (base64), or its sha256 and/or pdq.")
        if "pdq_quality" in data and "pdq" not in data:
            raise serializers.ValidationError({"pdq_quality": ["Only with pdq."]})
        return data


class HashSourceSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=EntrySource.choices)
    name = serializers.CharField(help_text="The list's source for an import; for a decision, this system.")


class HashMatchSerializer(serializers.Serializer):
    entry_id = serializers.IntegerField(source="entry.pk", help_text="The bank entry's id.")
    match_type = serializers.ChoiceField(
        choices=[(MatchType.SHA256, "the same bytes"), (MatchType.PDQ, "a perceptually near image")]
    )
    distance = serializers.IntegerField(help_text="PDQ bits that differ (of 256); 0 for a SHA-256 match.")
    category = serializers.ChoiceField(source="entry.category", choices=BANK_CATEGORY_CHOICES)
    media_kind = serializers.ChoiceField(source="entry.media_kind", choices=MediaKind.choices)
    source = serializers.SerializerMethodField()

    @extend_schema_field(HashSourceSerializer)
    def get_source(self, match: BankMatch) -> dict[str, str]:
        return {"kind": match.entry.source, "name": match.entry.source_name}


class HashCheckResultSerializer(serializers.Serializer):
    match = serializers.BooleanField(help_text="Whether the upload matches the bank: do not publish it when true.")
    sha256 = serializers.CharField(allow_null=True, help_text="The SHA-256 that was checked.")
    pdq = serializers.CharField(allow_null=True, help_text="The PDQ hash that was checked.")
    pdq_quality = serializers.IntegerField(allow_null=True)
    max_distance = serializers.IntegerField(help_text="The PDQ distance up to which an entry matches.")
    matches = HashMatchSerializer(many=True, help_text="Matched entries, best first; never the media.")
