"""The filing API: file a report, list one's own, and the platform's target registration.

Thin like the pages: parse with a serializer, call the same service the web form calls, answer.
Routes are in config/api_urls.py; the error format is config/api_errors.py.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api_errors import Conflict, RateLimited, from_service_error
from reports import hooks, selectors, services
from reports.authentication import PlatformClient
from reports.models import PlatformKey, Report, ReportChannel, TargetKind
from reports.serializers import (
    ErrorSerializer,
    ReportCreateSerializer,
    ReportSerializer,
    TargetRegisterSerializer,
    TargetSerializer,
)
from reports.uploads import clean_upload

# --- shared by every API view ------------------------------------------------------------------


class IsPerson(BasePermission):
    """A signed-in person (session or personal token), not a platform key."""

    message = gettext_lazy("This endpoint is for people (a session or a personal token), not platform keys.")

    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(request.user and request.user.is_authenticated and not isinstance(request.user, PlatformClient))


class IsPlatform(BasePermission):
    message = gettext_lazy("This endpoint is for the platform's servers: send 'Authorization: Platform <key>'.")

    def has_permission(self, request: Request, view: Any) -> bool:
        return isinstance(request.auth, PlatformKey)


class CanViewQueue(IsPerson):
    """Moderators and up (reports.view_queue)."""

    message = gettext_lazy("Only moderation staff may use this endpoint.")

    def has_permission(self, request: Request, view: Any) -> bool:
        return super().has_permission(request, view) and request.user.has_perm("reports.view_queue")


class ApiPagination(PageNumberPagination):
    """?page=N&page_size=M (at most 200). A page or size that is not a positive integer is a 400."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def paginate_queryset(self, queryset, request, view=None):
        errors = {}
        for name, maximum in ((self.page_query_param, None), (self.page_size_query_param, self.max_page_size)):
            raw = request.query_params.get(name)
            if raw is None:
                continue
            # Bounded in length first: int() of thousands of digits is refused by Python itself.
            number = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 9 else 0
            if number < 1 or (maximum and number > maximum):
                errors[name] = [
                    _("Must be a whole number from 1 to %(maximum)s.") % {"maximum": maximum}
                    if maximum
                    else _("Must be a whole number from 1.")
                ]
        if errors:
            raise exceptions.ValidationError(errors)
        return super().paginate_queryset(queryset, request, view)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"]["maximum"] = self.max_page_size
        return parameters


def parse_uuid(value: str) -> uuid.UUID:
    """A path id that is not a UUID names no report: 404, the same as an unknown one."""
    try:
        return uuid.UUID(value)
    except (TypeError, ValueError):
        raise exceptions.NotFound(_("No such report.")) from None


def error_responses(*codes: int) -> dict[int, OpenApiResponse]:
    texts = {
        400: "Bad input: a message per field",
        401: "Not signed in: no session, token or key",
        403: "Signed in, but not allowed",
        404: "No such report, or one you may not see",
        409: "Conflicts with the current state",
        413: "The body is too large",
        415: "The body is not JSON",
        429: "Rate limit reached; see Retry-After",
    }
    return {code: OpenApiResponse(ErrorSerializer, description=texts[code]) for code in codes}


# Which credentials each endpoint takes, for the schema (security requirement objects).
PERSON_AUTH = [{"tokenAuth": []}, {"cookieAuth": []}]
PLATFORM_AUTH = [{"platformKey": []}]
ANY_AUTH = [*PLATFORM_AUTH, *PERSON_AUTH]

REPORT_ID = OpenApiParameter(
    "reportId",
    OpenApiTypes.UUID,
    OpenApiParameter.PATH,
    description="The report's id.",
    examples=[OpenApiExample("A report", value="9b1d3c5e-7f2a-4b6c-8d0e-1f3a5b7c9d2e")],
)


# --- filing -------------------------------------------------------------------------------------

_FILING_FIELDS = {"target": "target_id"}


class ReportFileView(APIView):
    permission_classes = [IsPerson]

    @extend_schema(
        operation_id="report_file",
        auth=PERSON_AUTH,
        summary="File a report",
        description=(
            "File a report as the signed-in user on a known target. It gets its deadline from the "
            "category and a report.created audit event. One open report per person and target; "
            "REPORTS_PER_HOUR_LIMIT reports per person and hour (then 429 with Retry-After)."
        ),
        request=ReportCreateSerializer,
        responses={201: ReportSerializer, **error_responses(400, 401, 403, 409, 413, 415, 429)},
        examples=[
            OpenApiExample(
                "A message",
                value={
                    "report_type": "message",
                    "target_id": "3f2b9c1e-8d4a-4c61-9f0e-2a7b5d6c8e91",
                    "reason": "He keeps sending me insults in the lobby.",
                    "category": "harassment",
                },
                request_only=True,
            )
        ],
        tags=["reports"],
    )
    def post(self, request: Request) -> Response:
        data = ReportCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        target = selectors.filing_target(public_id=values["target_id"], kind=values["report_type"])
        if target is None:
            raise exceptions.ValidationError(
                {"target_id": [_("No %(kind)s with this id is known.") % {"kind": values["report_type"]}]}
            )
        try:
            report = services.report_file(
                actor=request.user,
                target=target,
                category=values["category"],
                reason=values["reason"],
                incident_at=values["incident_at"],
                is_pattern=values["is_pattern"],
                channel=ReportChannel.API,
            )
        except services.RateLimitExceeded as error:
            raise RateLimited(error.messages[0], retry_after=error.retry_after) from None
        except ValidationError as error:
            if _is_duplicate(error):
                raise Conflict(services.ALREADY_REPORTED) from None
            if getattr(error, "code", None) == "reports_paused":
                # Not bad input: the account's reports are paused for misuse (DSA Art. 23).
                raise exceptions.PermissionDenied(error.messages[0]) from None
            raise from_service_error(error, rename=_FILING_FIELDS) from None
        return Response(ReportSerializer(report).data, status=status.HTTP_201_CREATED)


def _is_duplicate(error: ValidationError) -> bool:
    if not hasattr(error, "error_dict"):
        return False
    return any(item.code == "duplicate" for item in error.error_dict.get("target", []))


class MyReportsView(APIView):
    permission_classes = [IsPerson]
    pagination_class = ApiPagination

    @extend_schema(
        operation_id="reports_mine",
        auth=PERSON_AUTH,
        summary="My reports",
        description="The caller's own reports with their statuses, newest first.",
        responses={200: ReportSerializer(many=True), **error_responses(400, 401, 403, 404)},
        tags=["reports"],
    )
    def get(self, request: Request) -> Response:
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(selectors.my_reports(user=request.user), request, view=self)
        return paginator.get_paginated_response(ReportSerializer(page, many=True).data)


class MyReportView(APIView):
    permission_classes = [IsPerson]

    @extend_schema(
        operation_id="report_mine_detail",
        auth=PERSON_AUTH,
        summary="One of my reports",
        description="One of the caller's own reports; anyone else's answers 404, like a missing one.",
        parameters=[REPORT_ID],
        responses={200: ReportSerializer, **error_responses(401, 403, 404)},
        tags=["reports"],
    )
    def get(self, request: Request, reportId: str) -> Response:
        report = _own_report(request, parse_uuid(reportId))
        return Response(ReportSerializer(report).data)


def _own_report(request: Request, report_id: uuid.UUID) -> Report:
    report = selectors.my_reports(user=request.user).filter(pk=report_id).first()
    if report is None:
        raise exceptions.NotFound(_("No such report."))
    return report


# --- targets --------------------------------------------------------------------------------------


class TargetRegisterView(APIView):
    permission_classes = [IsPlatform]

    @extend_schema(
        operation_id="target_register",
        auth=PLATFORM_AUTH,
        summary="Register or update a target (platform key)",
        description=(
            "The platform's server registers something that can be reported, or updates it: the same "
            "(kind, external_id) always names the same target. 201 when registered, 200 when updated. "
            "Each call sends the target's whole current state: a field left out is reset to its default. "
            "Once a target has been reported its snapshot (text, file) is evidence and is kept as it "
            "was; only the title, owner and metadata change.\n\n"
            "A video story the platform has not published yet: `review_before_publication: true` with "
            "kind `video_story` and its frame as `file` (an image) holds it for review before "
            "publication, exactly as POST /api/stories does (the same submission service): it waits "
            "in the pre-publication queue, a frame matching the hash bank is rejected at once, and "
            "the verdict comes as a `story.approved` or `story.rejected` webhook. The answer's "
            "`review` gives the story's id (for GET /api/stories/{storyId}), status and deadline; "
            "201 when this call put it in review, 200 when it already was with the same frame, 409 "
            "when it was held with other media (a story is reviewed once). The flag on another "
            "kind, or without an image, is a 400."
        ),
        request=TargetRegisterSerializer,
        responses={
            201: TargetSerializer,
            200: TargetSerializer,
            **error_responses(400, 401, 403, 409, 413, 415, 429),
        },
        examples=[
            OpenApiExample(
                "A message",
                value={
                    "kind": "message",
                    "external_id": "msg-90210",
                    "owner_id": 6,
                    "title": "Message in #lobby",
                    "text": "send me your address or you will regret it",
                    "metadata": {"room": "lobby"},
                },
                request_only=True,
            ),
            OpenApiExample(
                "A video story held for review before publication",
                value={
                    "kind": "video_story",
                    "external_id": "story-8815",
                    "owner_id": 42,
                    "title": "Sunset at the lake",
                    "text": "Best evening of the summer",
                    "file": "iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAIAAACQkWg2AAAAJUlEQVR42mPUiFrAwMBwKW8DAwOD3qQAgmwm"
                    "BhLBqIZRDUNHAwAOUgwyvnvdiwAAAABJRU5ErkJggg==",
                    "review_before_publication": True,
                },
                request_only=True,
            ),
        ],
        tags=["targets"],
    )
    def post(self, request: Request) -> Response:
        data = TargetRegisterSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        review = values["review_before_publication"]
        if review and values["kind"] != TargetKind.VIDEO_STORY:
            raise exceptions.ValidationError(
                {"review_before_publication": [_("Only a video story is reviewed before publication.")]}
            )
        owner = None
        if values["owner_id"] is not None:
            owner = get_user_model().objects.filter(pk=values["owner_id"]).first()
            if owner is None:
                raise exceptions.ValidationError({"owner_id": [_("No account with this id.")]})
        file_content, file_type = None, ""
        if values["file"] is not None:
            try:
                clean = clean_upload(SimpleUploadedFile("snapshot", values["file"]))
            except ValidationError as error:
                raise exceptions.ValidationError({"file": error.messages}) from None
            file_content, file_type = clean.content, clean.content_type
        if review:
            return self._hold_for_review(
                request, values=values, owner=owner, frame_clean=file_content, frame_type=file_type
            )
        arguments = {
            "actor": request.user.actor,
            "kind": values["kind"],
            "external_id": values["external_id"],
            "owner": owner,
            "title": values["title"] or f"{values['kind'].replace('_', ' ').capitalize()} {values['external_id']}",
            "text": values["text"],
            "file_content": file_content,
            "file_content_type": file_type,
            "metadata": values["metadata"],
        }
        try:
            target, created = services.target_register(**arguments)
        except IntegrityError:
            # Two registrations of a new (kind, external_id) raced; the unique constraint let one in,
            # and this one is now an update of it.
            target, created = services.target_register(**arguments)
        except ValidationError as error:
            raise from_service_error(error) from None
        body = TargetSerializer(target, context={"created": created}).data
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    def _hold_for_review(
        self, request: Request, *, values: dict[str, Any], owner, frame_clean: bytes | None, frame_type: str
    ) -> Response:
        """The story's submission, through moderation's stories (reports/hooks.py): the frame as sent
        is matched against the hash bank, the re-encoded one kept as the snapshot."""
        if frame_clean is None or not frame_type.startswith("image/"):
            raise exceptions.ValidationError(
                {"file": [_("Send the story's frame as the file: an image (PNG, JPEG, GIF or WebP).")]}
            )
        arguments = {
            "actor": request.user.actor,
            "external_id": values["external_id"],
            "owner": owner,
            "title": values["title"],
            "caption": values["text"],
            "frame": values["file"],
            "frame_clean": frame_clean,
            "frame_content_type": frame_type,
            "metadata": values["metadata"],
        }
        review = hooks.pre_publication_review()
        try:
            held = review.hold_story(**arguments)
        except ValidationError as error:
            problems = getattr(error, "error_dict", {})
            if any(item.code == "conflict" for item in problems.get("external_id", [])):
                raise Conflict(error.message_dict["external_id"][0]) from None
            # The stories service names the frame "frame"; here it is the target's file.
            raise from_service_error(error, rename={"frame": "file"}) from None
        body = TargetSerializer(held.target, context={"created": held.created, "review": held}).data
        return Response(body, status=status.HTTP_201_CREATED if held.created else status.HTTP_200_OK)
