"""The filing benchmark's peer: what a team would build instead of our filing API, with none of our
checks. A plain DRF `CreateAPIView` with DRF's stock `TokenAuthentication` (over `PeerToken`, DRF's
own token table) and a `ModelSerializer`, writing the same report row and the same audit row in one
transaction. No sign-in block, no hourly limit, no strict body, no confirmation mail, no throttle.

Routed only on the benchmark's own server (BENCHMARKS=1): POST /bench/peer/reports.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from rest_framework import generics, serializers
from rest_framework.authentication import TokenAuthentication
from rest_framework.parsers import JSONParser
from rest_framework.permissions import IsAuthenticated

from audit import services as audit
from benchmarks.models import PeerToken
from reports.categories import Category, deadline_for, severity_for
from reports.models import Report, ReportChannel, Target
from reports.services import report_audit_state


class PeerTokenAuthentication(TokenAuthentication):
    """DRF's TokenAuthentication as shipped; only its table is ours (see PeerToken)."""

    model = PeerToken


class PeerReportSerializer(serializers.ModelSerializer):
    target_id = serializers.SlugRelatedField(source="target", slug_field="public_id", queryset=Target.objects.all())
    category = serializers.ChoiceField(choices=Category.choices, default=Category.OTHER_TOS)

    class Meta:
        model = Report
        fields = ["id", "report_type", "target_id", "category", "reason", "status", "severity", "due_at", "created_at"]
        read_only_fields = ["id", "status", "severity", "due_at", "created_at"]


class PeerReportCreate(generics.CreateAPIView):
    authentication_classes = [PeerTokenAuthentication]
    permission_classes = [IsAuthenticated]
    throttle_classes: list = []
    parser_classes = [JSONParser]
    serializer_class = PeerReportSerializer

    def perform_create(self, serializer: PeerReportSerializer) -> None:
        category = serializer.validated_data["category"]
        with transaction.atomic():
            report = serializer.save(
                reporter=self.request.user,
                channel=ReportChannel.API,
                severity=severity_for(category),
                due_at=deadline_for(category=category, received_at=timezone.now()),
            )
            audit.record(
                actor=self.request.user,
                event_type="report.created",
                object_type="report",
                object_id=report.id,
                after=report_audit_state(report),
                data={"channel": ReportChannel.API, "target": str(report.target.public_id)},
            )
