"""POST /api/signals: a batch of machine detections from the platform's servers (platform key).

Thin: the batch's shape is checked whole, each item on its own (a bad item is refused in its place),
files are checked like every upload (reports/uploads.py) and hashed before the service's
transaction, and the service answers per item.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from moderation.signals import services
from moderation.signals.serializers import (
    SignalBatchResultSerializer,
    SignalBatchSerializer,
    SignalBatchShapeSerializer,
    SignalItemSerializer,
)
from moderation.signals.services import ItemResult, NewTarget, SignalItem, refused
from reports.api import PLATFORM_AUTH, IsPlatform, error_responses
from reports.uploads import CleanFile, clean_upload

_EXAMPLE = {
    "signals": [
        {
            "idempotency_key": "frame-7781-nudity",
            "source": {"name": "nudity-classifier", "version": "4.2.0"},
            "target_id": "3f2b9c1e-8d4a-4c61-9f0e-2a7b5d6c8e91",
            "category": "non_consensual",
            "score": 0.93,
            "labels": ["explicit", "face_visible"],
        },
        {
            "idempotency_key": "session-5512-frame-40",
            "source": {"name": "age-estimator", "version": "1.8"},
            "target": {"kind": "video_session", "external_id": "session-5512", "title": "Live session 5512"},
            "category": "underage_user",
            "score": 0.71,
        },
    ]
}


def _flatten(errors: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested errors ({"source": {"name": [...]}}) as "source.name": [...]."""
    if isinstance(errors, dict):
        flat: dict[str, list[str]] = {}
        for key, value in errors.items():
            flat.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    if isinstance(errors, list) and errors and not all(isinstance(e, str) for e in errors):
        flat = {}
        for value in errors:
            flat.update(_flatten(value, prefix))
        return flat
    return {prefix or "non_field_errors": [str(e) for e in errors]}


def _clean(content: bytes | None, name: str) -> CleanFile | None:
    if content is None:
        return None
    return clean_upload(SimpleUploadedFile(name, content))


class SignalBatchView(APIView):
    permission_classes = [IsPlatform]

    @extend_schema(
        operation_id="signals_ingest",
        auth=PLATFORM_AUTH,
        summary="Send a batch of machine signals (platform key)",
        description=(
            f"1 to {services.BATCH_MAX} detections, each answered in its place: `created` (opened the target's "
            "automated report), `merged` (joined its open one), `kept` (below the detector's policy: stored, no "
            "report), `duplicate` (the idempotency key was sent before; the first one's ids) or `refused` (with "
            "errors per field). The source must be a registered, active detector with a policy for the category "
            "(or a catch-all one). A batch is one transaction with a savepoint per item: a refused item stores "
            "nothing and the others go ahead; if the request fails as a whole, nothing is stored, and sending it "
            "again is safe. A frame (`evidence`, base64; there is no separate upload endpoint) is checked like "
            "any upload and matched against the hash bank: a match quarantines the content and escalates its "
            "report. A malformed body (not a list of 1..500 objects) is a 400."
        ),
        request=SignalBatchSerializer,
        responses={200: SignalBatchResultSerializer, **error_responses(400, 401, 403, 413, 415, 429)},
        examples=[OpenApiExample("Two signals", value=_EXAMPLE, request_only=True)],
        tags=["signals"],
    )
    def post(self, request: Request) -> Response:
        batch = SignalBatchShapeSerializer(data=request.data)
        batch.is_valid(raise_exception=True)
        raw_items = batch.validated_data["signals"]
        # One serializer checks every item in turn, as a ListSerializer's child does (a serializer
        # per item would copy its fields a hundred times a batch); each item's errors stay its own.
        checker = SignalItemSerializer()
        checked: list[tuple[dict[str, Any], Any]] = []
        for raw in raw_items:
            try:
                checked.append((checker.run_validation(raw), None))
            except serializers.ValidationError as error:
                checked.append(({}, error.detail))
        owner_ids = {
            values["target"]["owner_id"]
            for values, errors in checked
            if errors is None and "target" in values and values["target"]["owner_id"]
        }
        owners = get_user_model().objects.in_bulk(list(owner_ids)) if owner_ids else {}
        items = [
            self._item(raw, values, errors, owners) for raw, (values, errors) in zip(raw_items, checked, strict=True)
        ]
        results = services.signals_ingest(actor=request.user.actor, items=items)
        body = {
            "results": [self._answer(index, result) for index, result in enumerate(results)],
            "counts": dict(Counter(result.status for result in results)),
        }
        return Response(SignalBatchResultSerializer(body).data)

    @staticmethod
    def _item(raw: Any, values: dict[str, Any], errors: Any, owners: dict) -> SignalItem | ItemResult:
        key = (
            raw.get("idempotency_key") if isinstance(raw, dict) and isinstance(raw.get("idempotency_key"), str) else ""
        )
        if errors is not None:
            return refused(key[:128], _flatten(errors))
        try:
            frame = _clean(values["evidence"], "evidence")
        except ValidationError as error:
            return refused(key, {"evidence": error.messages})
        new_target = None
        if "target" in values:
            spec = values["target"]
            owner = None
            if spec["owner_id"] is not None:
                owner = owners.get(spec["owner_id"])
                if owner is None:
                    return refused(key, {"target.owner_id": ["No account with this id."]})
            try:
                snapshot = _clean(spec["file"], "snapshot")
            except ValidationError as error:
                return refused(key, {"target.file": error.messages})
            new_target = NewTarget(
                kind=spec["kind"],
                external_id=spec["external_id"],
                title=spec["title"],
                text=spec["text"],
                owner=owner,
                file=snapshot,
                metadata=spec["metadata"],
            )
        return SignalItem(
            idempotency_key=values["idempotency_key"],
            source_name=values["source"]["name"],
            source_version=values["source"]["version"],
            category=values["category"],
            score=values["score"],
            target_id=values.get("target_id"),
            new_target=new_target,
            labels=values["labels"],
            frame=frame,
            frame_hashes=services.frame_hashes(values["evidence"]) if frame else None,
        )

    @staticmethod
    def _answer(index: int, result: ItemResult) -> dict[str, Any]:
        answer = {
            "index": index,
            "idempotency_key": result.idempotency_key,
            "status": result.status,
            "signal_id": result.signal_id,
            "report_id": result.report_id,
            "target_id": result.target_id,
            "quarantined": result.quarantined,
            "bank_entries": result.bank_entries,
        }
        if result.errors:
            answer["errors"] = result.errors
        return answer
