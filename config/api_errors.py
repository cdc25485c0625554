"""The API's error format and its guards against bodies that are not what they claim.

Every error is JSON: ``{"detail": "<summary>"}``, plus ``"errors": {"<field>": ["<message>", ...]}``
for bad input. Problems with the body as a whole (JSON that does not parse, a list where an object
belongs) are under the field ``non_field_errors``. Nothing a client sends can produce a 500.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.contrib.humanize.templatetags.humanize import intcomma
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext, gettext_lazy
from rest_framework import exceptions, status
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

NON_FIELD = "non_field_errors"
INVALID_INPUT = gettext_lazy("Some fields are not valid; see errors.")


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = gettext_lazy("The request body is too large.")
    default_code = "too_large"


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = gettext_lazy("The request conflicts with the current state.")
    default_code = "conflict"


class RateLimited(exceptions.Throttled):
    """429 with Retry-After, carrying the filing service's own words."""

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(wait=retry_after, detail=message)


class StrictJSONParser(JSONParser):
    """DRF's JSON parser, bounded in size and depth.

    DRF turns a ValueError into a 400 but lets deeply nested JSON ("[[[[...") reach Python's
    recursion limit, a 500; and it reads a body of any size. Both are 4xx here.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.API_MAX_BODY_BYTES
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise RequestTooLarge(
                gettext("The request body is larger than %(limit)s bytes.") % {"limit": intcomma(limit)}
            )
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = codecs.decode(raw, encoding)
            return json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
        except (ValueError, LookupError) as exc:
            raise exceptions.ParseError(gettext("The body is not valid JSON: %(error)s") % {"error": exc}) from None
        except RecursionError:
            raise exceptions.ParseError(gettext("The body is not valid JSON: it is nested too deeply.")) from None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    # 1e999 parses as infinity, which no database's JSON type accepts.
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"{text} is out of range")
    return value


def _messages(value: Any) -> list[str]:
    if isinstance(value, Mapping):
        return [f"{key}: {message}" for key, item in value.items() for message in _messages(item)]
    if isinstance(value, list | tuple):
        return [message for item in value for message in _messages(item)]
    return [str(value)]


def field_errors(data: Any) -> dict[str, list[str]]:
    """DRF's error detail (a dict, a list or a string) as {field: [messages]}."""
    if isinstance(data, Mapping):
        return {str(field): _messages(value) for field, value in data.items()}
    return {NON_FIELD: _messages(data)}


def from_service_error(
    error: DjangoValidationError, *, rename: Mapping[str, str] | None = None
) -> exceptions.ValidationError:
    """A service's ValidationError as the API's 400, with its fields renamed to the API's names."""
    rename = rename or {}
    if hasattr(error, "error_dict"):
        detail = {rename.get(field, field): messages for field, messages in error.message_dict.items()}
        detail = {(NON_FIELD if field == "__all__" else field): messages for field, messages in detail.items()}
    else:
        detail = {NON_FIELD: error.messages}
    return exceptions.ValidationError(detail)


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = {"detail": INVALID_INPUT, "errors": field_errors(exc.detail)}
    elif isinstance(exc, exceptions.ParseError):
        message = str(exc.detail)
        response.data = {"detail": message, "errors": {NON_FIELD: [message]}}
    else:
        data = response.data
        detail = data.get("detail") if isinstance(data, Mapping) else data
        response.data = {"detail": str(detail)}
    return response
