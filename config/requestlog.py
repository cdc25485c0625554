"""One log line per request, with a request id that is also the audit events' correlation id.

The request id comes from the `X-Request-ID` header when it is a UUID (what a load balancer or
nginx's `$request_id` sends), else it is generated; it goes back in the response's `X-Request-ID`
and is bound as the audit correlation id for the request (audit/correlation.py), so the log line
and the events the request wrote are found with one id. It must be a UUID because that is the
audit column's type; anything else a client sends is ignored, not echoed.

The line names the route (the URL pattern's name, never the raw path: paths carry report ids and
signed appeal tokens), the method, the status, the duration and the signed-in account's id, and
nothing else: no query string, no form field, no report text, no name or address.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.functional import SimpleLazyObject, empty

from audit import correlation
from config import monitoring

logger = logging.getLogger("reportdesk.request")

REQUEST_ID_HEADER = "X-Request-ID"
# 32 hex digits, with or without the four dashes: what uuid.UUID() accepts minus its braces and
# "urn:uuid:" forms. Checked before parsing so that a 10 kB header is refused at a glance.
_UUID = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$")
# Methods outside these are counted as "other", so that a client cannot make up label values.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# The load balancer's probes (config/health.py), every few seconds per instance: their healthy
# answers are counted in the latency histogram but not logged.
QUIET_ROUTES = frozenset({"healthz", "readyz"})


def request_id_from(request: HttpRequest) -> uuid.UUID:
    """The caller's X-Request-ID when it is a UUID, else a new one."""
    incoming = request.headers.get(REQUEST_ID_HEADER, "")
    if _UUID.match(incoming):
        return uuid.UUID(incoming)
    return uuid.uuid4()


def route_of(request: HttpRequest) -> str:
    """The name of what answered: the URL pattern's name ("moderation:report"), an ops endpoint's
    name, "static" for whitenoise's files, or "unmatched" (a 404 for an unknown path, an HTTPS
    redirect answered before routing). Never the path itself."""
    named = getattr(request, "route_name", None)
    if named:
        return named
    match = getattr(request, "resolver_match", None)
    if match is not None:
        return match.view_name
    if request.path.startswith("/" + settings.STATIC_URL.lstrip("/")):
        return "static"
    return "unmatched"


def user_id_of(request: HttpRequest) -> int | None:
    """The signed-in account's id, if the request already loaded it. AuthenticationMiddleware sets
    a lazy object; a request that never looked at it (a static file, a probe) is not made to read
    the session from the database just to be logged."""
    user = request.__dict__.get("user")
    if user is None or (isinstance(user, SimpleLazyObject) and user._wrapped is empty):
        return None
    return user.pk if user.is_authenticated else None


class RequestLogMiddleware:
    """Outermost: times the whole stack, so redirects and refusals of the middleware below are
    logged and measured too."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request_id_from(request)
        request.request_id = request_id
        started = time.perf_counter()
        with correlation.correlated(request_id):
            response = self.get_response(request)
            seconds = time.perf_counter() - started
            response[REQUEST_ID_HEADER] = str(request_id)
            route = route_of(request)
            method = request.method if request.method in KNOWN_METHODS else "other"
            monitoring.observe_request(route=route, method=method, status=response.status_code, seconds=seconds)
            if not (route in QUIET_ROUTES and response.status_code == 200):
                duration_ms = round(seconds * 1000, 1)
                logger.info(
                    "%s %s %s %s ms",
                    method,
                    route,
                    response.status_code,
                    duration_ms,
                    extra={
                        "method": method,
                        "route": route,
                        "status": response.status_code,
                        "duration_ms": duration_ms,
                        "user_id": user_id_of(request),
                    },
                )
        return response


class RequestIdFilter(logging.Filter):
    """Puts the current request id on every log record (None outside a request), so that an error
    logged deep in a service is found next to its request's line."""

    def filter(self, record: logging.LogRecord) -> bool:
        current = correlation.current()
        record.request_id = str(current) if current else None
        return True
