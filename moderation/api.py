"""The moderators' API (moderators and up: reports.view_queue). The same services and visibility rule
as the moderation pages. An account's restrictions, for the platform, are enforcement's
(moderation/enforcement/api.py)."""

from __future__ import annotations

import uuid

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from audit.models import AuditEvent
from config.api_errors import Conflict, from_service_error
from moderation import selectors, services
from moderation.serializers import (
    AdminReportDetailSerializer,
    AdminReportQuerySerializer,
    AdminReportSerializer,
    ReviewSerializer,
)
from reports.api import (
    PERSON_AUTH,
    REPORT_ID,
    ApiPagination,
    CanViewQueue,
    error_responses,
    parse_uuid,
)
from reports.models import OPEN_STATUSES, Report
from reports.selectors import reports_visible_to

HISTORY_LIMIT = 500


def _visible_report(request: Request, report_id: uuid.UUID) -> Report:
    report = (
        reports_visible_to(request.user)
        .select_related("target", "reviewed_by", "assignee")
        .filter(pk=report_id)
        .first()
    )
    if report is None:
        raise exceptions.NotFound(_("No such report."))
    return report


def _history(report: Report) -> list[AuditEvent]:
    events = AuditEvent.objects.for_object("report", report.id).order_by("-id")[:HISTORY_LIMIT]
    return list(reversed(events))


def _filtered(request: Request, reports: QuerySet[Report], filters: dict) -> QuerySet[Report]:
    for name in ("status", "report_type", "category", "severity"):
        if filters.get(name):
            reports = reports.filter(**{name: filters[name]})
    assignee = filters.get("assignee")
    if assignee == "me":
        reports = reports.filter(assignee=request.user)
    elif assignee == "none":
        reports = reports.filter(assignee__isnull=True)
    elif assignee:
        reports = reports.filter(assignee_id=int(assignee))
    if filters.get("overdue") is True:
        reports = reports.filter(status__in=OPEN_STATUSES, due_at__lt=timezone.now())
    elif filters.get("overdue") is False:
        reports = reports.exclude(status__in=OPEN_STATUSES, due_at__lt=timezone.now())
    return reports


class AdminReportListView(APIView):
    permission_classes = [CanViewQueue]
    pagination_class = ApiPagination

    @extend_schema(
        operation_id="admin_reports_list",
        auth=PERSON_AUTH,
        summary="The report list (moderators and up)",
        description=(
            "Every report, most urgent first (earliest deadline, then severity), filtered and paginated. "
            "Without a status filter, every status is listed."
        ),
        parameters=[AdminReportQuerySerializer],
        responses={200: AdminReportSerializer(many=True), **error_responses(400, 401, 403, 404)},
        tags=["admin"],
    )
    def get(self, request: Request) -> Response:
        query = AdminReportQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        reports = _filtered(request, reports_visible_to(request.user), query.validated_data)
        reports = reports.select_related("target").order_by(*selectors.queue_priority_order(), "pk")
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(reports, request, view=self)
        body = AdminReportSerializer(page, many=True, context={"now": timezone.now()}).data
        return paginator.get_paginated_response(body)


class AdminReportDetailView(APIView):
    permission_classes = [CanViewQueue]

    @extend_schema(
        operation_id="admin_report_detail",
        auth=PERSON_AUTH,
        summary="One report with its history (moderators and up)",
        parameters=[REPORT_ID],
        responses={200: AdminReportDetailSerializer, **error_responses(401, 403, 404)},
        tags=["admin"],
    )
    def get(self, request: Request, reportId: str) -> Response:
        report = _visible_report(request, parse_uuid(reportId))
        return Response(AdminReportDetailSerializer(report, context={"history": _history(report)}).data)


class AdminReportReviewView(APIView):
    permission_classes = [CanViewQueue]

    @extend_schema(
        operation_id="admin_report_review",
        auth=PERSON_AUTH,
        summary="Review a report (moderators and up)",
        description=(
            "Moves the report along the same table as the web page: pending -> reviewed, resolved or "
            "dismissed; reviewed -> resolved or dismissed. A move the table refuses is a 409. Records "
            "the reviewer and reviewed_at and writes a report.reviewed audit event. With expected_status, "
            "a report that moved since you read it is a 409 too, never a silent overwrite."
        ),
        parameters=[REPORT_ID],
        request=ReviewSerializer,
        responses={200: AdminReportDetailSerializer, **error_responses(400, 401, 403, 404, 409, 413, 415, 429)},
        examples=[
            OpenApiExample(
                "Resolve",
                value={"status": "resolved", "admin_notes": "Message removed; warning sent."},
                request_only=True,
            )
        ],
        tags=["admin"],
    )
    def post(self, request: Request, reportId: str) -> Response:
        report = _visible_report(request, parse_uuid(reportId))
        data = ReviewSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            report = services.report_review(
                actor=request.user,
                report_id=report.id,
                status=data.validated_data["status"],
                admin_notes=data.validated_data["admin_notes"],
                expected_status=data.validated_data.get("expected_status"),
            )
        except services.TransitionRefused as refused:
            raise Conflict(str(refused)) from None
        except PermissionDenied:
            raise exceptions.PermissionDenied(_("You may not review reports.")) from None
        except Report.DoesNotExist:
            raise exceptions.NotFound(_("No such report.")) from None
        except ValidationError as error:
            raise from_service_error(error) from None
        report = _visible_report(request, report.id)
        return Response(AdminReportDetailSerializer(report, context={"history": _history(report)}).data)
