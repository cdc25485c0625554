"""POST /api/hashes/check: the platform checks an upload against the hash bank before publishing it."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api_errors import from_service_error
from moderation.hashbank import services
from moderation.hashbank.hashing import hash_media
from moderation.hashbank.serializers import HashCheckResultSerializer, HashCheckSerializer
from reports.api import PLATFORM_AUTH, IsPlatform, error_responses

_EXAMPLE_SHA256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
_EXAMPLE_PDQ = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
# An 8x8 blue PNG.
_EXAMPLE_PNG = (
    "iVBORw0KGgoAAAANSUhEUgAAAAgAAAAICAIAAABLbSncAAAAFUlEQVR42mPUqDjBgA0wMeAAg1MCABznAXiY7kjRAAAAAElFTkSuQmCC"
)


class HashCheckView(APIView):
    permission_classes = [IsPlatform]

    @extend_schema(
        operation_id="hashes_check",
        auth=PLATFORM_AUTH,
        summary="Check an upload against the hash bank (platform key)",
        description=(
            "Before publishing an image or a video frame, the platform sends it (base64) or its hashes "
            "(SHA-256 and/or PDQ, computed on its side). The answer says whether it matches known "
            "child-safety, non-consensual or trafficking material: the same SHA-256, or a PDQ within "
            "`max_distance` bits. Nothing of the upload is stored; a match is written to the audit log "
            "(entries, distances and the checked hashes), a check without a match is not."
        ),
        request=HashCheckSerializer,
        responses={200: HashCheckResultSerializer, **error_responses(400, 401, 403, 413, 415, 429)},
        examples=[
            OpenApiExample("The hashes", value={"sha256": _EXAMPLE_SHA256, "pdq": _EXAMPLE_PDQ}, request_only=True),
            OpenApiExample(
                "An image",
                value={"file": _EXAMPLE_PNG},
                request_only=True,
            ),
        ],
        tags=["hash bank"],
    )
    def post(self, request: Request) -> Response:
        data = HashCheckSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        if "file" in values:
            try:
                hashes = hash_media(values["file"])
            except ValidationError as error:
                raise from_service_error(ValidationError({"file": error.messages})) from None
            sha256, pdq, quality = hashes.sha256, hashes.pdq, hashes.pdq_quality
        else:
            sha256, pdq, quality = values.get("sha256"), values.get("pdq"), values.get("pdq_quality")
        matches = services.upload_check(actor=request.user.actor, sha256=sha256, pdq=pdq, pdq_quality=quality)
        body = {
            "match": bool(matches),
            "sha256": sha256,
            "pdq": pdq,
            "pdq_quality": quality,
            "max_distance": settings.HASHBANK_PDQ_MAX_DISTANCE,
            "matches": matches,
        }
        return Response(HashCheckResultSerializer(body).data)
