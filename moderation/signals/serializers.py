"""POST /api/signals: the batch, each item, and the per-item answers.

The batch's shape (an object with a list of 1..BATCH_MAX items) is checked whole: a malformed body
is a 400. Each item is then checked on its own (SignalItemSerializer), so one bad item is refused in
its place in the answer and the others go ahead.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from moderation.signals.models import SCORE_DIGITS
from moderation.signals.services import BATCH_MAX, ItemStatus
from reports.categories import Category
from reports.models import TargetKind
from reports.serializers import (
    TEXT_SNAPSHOT_MAX,
    Base64FileField,
    JSONObjectField,
    StrictCharField,
    StrictChoiceField,
    StrictIntegerField,
    StrictSerializer,
    StrictUUIDField,
)

LABELS_MAX = 20
LABEL_MAX_LENGTH = 64
_QUANTUM = Decimal(1).scaleb(-SCORE_DIGITS)


@extend_schema_field({"type": "number", "minimum": 0, "maximum": 1})
class ScoreField(serializers.Field):
    """A JSON number from 0 to 1, kept to four decimal places (the policies' precision)."""

    default_error_messages = {"invalid": "Must be a number from 0 to 1."}

    def to_internal_value(self, data: Any) -> Decimal:
        if isinstance(data, bool) or not isinstance(data, int | float) or not math.isfinite(data):
            self.fail("invalid")
        if not 0 <= data <= 1:
            self.fail("invalid")
        return Decimal(str(data)).quantize(_QUANTUM, rounding=ROUND_HALF_EVEN)

    def to_representation(self, value: Decimal) -> float:
        return float(value)


class SourceSerializer(StrictSerializer):
    name = StrictCharField(max_length=100, help_text="The detector's registered name (an admin registers it).")
    version = StrictCharField(max_length=50, help_text="The detector's version, kept with every signal.")


class SignalTargetSerializer(StrictSerializer):
    """A target the platform has not registered yet, registered with the signal (as POST /api/targets
    would); when the (kind, external_id) is known already, that target is used as it is."""

    kind = StrictChoiceField(choices=TargetKind.choices)
    external_id = StrictCharField(max_length=128)
    owner_id = StrictIntegerField(required=False, allow_null=True, default=None)
    title = StrictCharField(max_length=200, required=False, allow_blank=True, default="")
    text = StrictCharField(
        max_length=TEXT_SNAPSHOT_MAX, required=False, allow_blank=True, default="", trim_whitespace=False
    )
    file = Base64FileField(required=False, allow_null=True, default=None, help_text="The snapshot file, base64.")
    metadata = JSONObjectField(required=False, default=dict)

    def validate_external_id(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError("This field may not be blank.")
        return value.strip()


class SignalItemSerializer(StrictSerializer):
    idempotency_key = StrictCharField(
        max_length=128, help_text="The platform's key for this detection: sending it again stores nothing new."
    )
    source = SourceSerializer()
    target_id = StrictUUIDField(required=False, help_text="A registered target's id (POST /api/targets).")
    target = SignalTargetSerializer(required=False, help_text="Or the target itself, registered on the fly.")
    category = StrictChoiceField(choices=Category.choices)
    score = ScoreField(help_text="The detector's confidence, 0 to 1.")
    labels = serializers.ListField(
        child=StrictCharField(max_length=LABEL_MAX_LENGTH),
        required=False,
        default=list,
        max_length=LABELS_MAX,
        help_text=f"The detector's own labels, at most {LABELS_MAX}.",
    )
    evidence = Base64FileField(
        required=False,
        allow_null=True,
        default=None,
        help_text="The frame or file the detector saw, base64 (PNG, JPEG, GIF, WebP or PDF). There is no "
        "separate upload endpoint: files come inline.",
    )

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        if ("target_id" in data) == ("target" in data):
            raise serializers.ValidationError(
                {"target": ["Send target_id, or target (kind, external_id, ...), one of them."]}
            )
        return data


class SignalBatchShapeSerializer(StrictSerializer):
    """The view's first check: an object holding a list of 1..BATCH_MAX items (each checked next)."""

    signals = serializers.ListField(
        child=serializers.JSONField(),
        min_length=1,
        max_length=BATCH_MAX,
        help_text=f"1 to {BATCH_MAX} signals (SignalItem); each is answered in its place.",
    )


class SignalBatchSerializer(StrictSerializer):
    """The request as the schema documents it (the view checks the list first, then each item)."""

    signals = SignalItemSerializer(many=True, help_text=f"1 to {BATCH_MAX} signals, each answered in its place.")


class ItemResultSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="The item's place in the request, from 0.")
    idempotency_key = serializers.CharField()
    status = serializers.ChoiceField(
        choices=[
            (ItemStatus.CREATED, "stored; opened the target's automated report"),
            (ItemStatus.MERGED, "stored; joined the target's open automated report"),
            (ItemStatus.KEPT, "stored; below the policy's bar, no report"),
            (ItemStatus.DUPLICATE, "its idempotency key was sent before: nothing new stored"),
            (ItemStatus.REFUSED, "not stored; see errors"),
        ]
    )
    signal_id = serializers.UUIDField(allow_null=True)
    report_id = serializers.UUIDField(allow_null=True)
    target_id = serializers.UUIDField(allow_null=True)
    quarantined = serializers.BooleanField(help_text="This item quarantined its content, pending a person's review.")
    bank_entries = serializers.ListField(
        child=serializers.IntegerField(), help_text="Hash bank entries its frame matched."
    )
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()), required=False)


class SignalBatchResultSerializer(serializers.Serializer):
    results = ItemResultSerializer(many=True)
    counts = serializers.DictField(child=serializers.IntegerField(), help_text="How many items had each status.")
