"""Serializers of the moderators' API: the report list and page, and review."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from audit.models import AuditEvent
from config.serializers import ModelSerializer
from moderation.services import ADMIN_NOTES_MAX
from reports.categories import Category, Severity
from reports.models import OPEN_STATUSES, Report, ReportStatus, Target, TargetKind
from reports.serializers import StrictCharField, StrictChoiceField, StrictSerializer

REVIEW_STATUSES = [(value, label) for value, label in ReportStatus.choices if value != ReportStatus.PENDING]


class AdminReportQuerySerializer(serializers.Serializer):
    """The list's filters (query string). Unknown values are a 400, never silently ignored."""

    status = serializers.ChoiceField(choices=ReportStatus.choices, required=False, help_text="One status.")
    report_type = serializers.ChoiceField(choices=TargetKind.choices, required=False)
    category = serializers.ChoiceField(choices=Category.choices, required=False)
    severity = serializers.ChoiceField(choices=Severity.choices, required=False)
    assignee = serializers.RegexField(
        r"^(me|none|[1-9][0-9]{0,17})$",
        required=False,
        help_text='"me", "none" (unassigned) or an account id.',
        error_messages={"invalid": 'Give "me", "none" or an account id.'},
    )
    overdue = serializers.BooleanField(
        required=False, help_text="true: only open reports past their deadline; false: all but those."
    )

    def to_internal_value(self, data):
        # A form would send "status=" for "any"; this contract has no such value, so it is refused
        # rather than silently read as "no filter".
        empty = {name: ["Give a value, or leave the parameter out."] for name in self.fields if data.get(name) == ""}
        if empty:
            raise serializers.ValidationError(empty)
        return super().to_internal_value(data)


class AdminReportSerializer(ModelSerializer):
    """One row of the moderators' list."""

    target_id = serializers.UUIDField(source="target.public_id", read_only=True)
    reporter_id = serializers.IntegerField(read_only=True, allow_null=True, help_text="Null for complaints.")
    assignee_id = serializers.IntegerField(read_only=True, allow_null=True)
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = Report
        fields = [
            "id",
            "status",
            "report_type",
            "category",
            "severity",
            "reason",
            "reporter_id",
            "target_id",
            "channel",
            "escalated",
            "assignee_id",
            "created_at",
            "due_at",
            "overdue",
        ]
        read_only_fields = fields

    def get_overdue(self, report: Report) -> bool:
        return report.status in OPEN_STATUSES and report.due_at < self.context.get("now", timezone.now())


class TargetSummarySerializer(ModelSerializer):
    target_id = serializers.UUIDField(source="public_id", read_only=True)
    owner_id = serializers.IntegerField(read_only=True, allow_null=True)

    class Meta:
        model = Target
        fields = ["target_id", "kind", "external_id", "owner_id", "title", "state", "snapshot_sha256", "metadata"]
        read_only_fields = fields


class HistoryEventSerializer(ModelSerializer):
    actor_id = serializers.IntegerField(read_only=True, allow_null=True, help_text="Null for the system.")
    actor = serializers.CharField(source="actor_label", read_only=True, help_text="Username, or the system actor.")
    before = serializers.JSONField(read_only=True, allow_null=True)
    after = serializers.JSONField(read_only=True, allow_null=True)
    data = serializers.JSONField(read_only=True)

    class Meta:
        model = AuditEvent
        fields = ["id", "event_type", "created_at", "actor_id", "actor", "before", "after", "data"]
        read_only_fields = fields


class AdminReportDetailSerializer(AdminReportSerializer):
    target = TargetSummarySerializer(read_only=True)
    reviewed_by_id = serializers.IntegerField(read_only=True, allow_null=True)
    history = serializers.SerializerMethodField()

    class Meta(AdminReportSerializer.Meta):
        fields = [
            *AdminReportSerializer.Meta.fields,
            "incident_at",
            "is_pattern",
            "reviewed_by_id",
            "reviewed_at",
            "closed_at",
            "admin_notes",
            "escalation_reason",
            "target",
            "history",
        ]
        read_only_fields = fields

    @extend_schema_field(HistoryEventSerializer(many=True))
    def get_history(self, report: Report) -> list[dict]:
        """The report's audit events, oldest first (passed in by the view as context["history"])."""
        return HistoryEventSerializer(self.context.get("history", []), many=True).data


class ReviewSerializer(StrictSerializer):
    status = StrictChoiceField(choices=REVIEW_STATUSES, help_text="reviewed, resolved or dismissed.")
    admin_notes = StrictCharField(
        max_length=ADMIN_NOTES_MAX,
        required=False,
        allow_blank=True,
        default="",
        trim_whitespace=False,
        help_text=f"Notes for the record, up to {ADMIN_NOTES_MAX:,} characters.",
    )
    expected_status = StrictChoiceField(
        choices=ReportStatus.choices,
        required=False,
        help_text=(
            "Optional: the status you saw. If the report has moved since (another moderator reviewed it), "
            "the review is refused with a 409 instead of overwriting their decision."
        ),
    )
