import logging
import sys
import tempfile
from collections.abc import Callable

from django.conf import settings
from django.core.handlers.wsgi import LimitedStream
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.views import defaults

logger = logging.getLogger(__name__)


class ContentSecurityPolicyMiddleware:
    """Sends the Content-Security-Policy from settings: no inline script or style anywhere."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if settings.CONTENT_SECURITY_POLICY:
            response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        return response


class RequestBodyLimitMiddleware:
    """Refuses a request body over its cap with 413 before anything reads it.

    Django reads a multipart body to its end before any view sees it (files go to temporary files),
    so a 200 MB upload was read, spooled and parsed before the form said no. The cap: API_MAX_BODY_BYTES
    under /api/, MAX_REQUEST_BYTES for multipart forms (the most evidence one filing may carry), and
    DATA_UPLOAD_MAX_MEMORY_SIZE for any other body. A Content-Length over it is answered at once. A
    chunked body has no Content-Length (Django would read it as empty): it is read here, counted, and
    refused as soon as it passes the cap; under the cap it is handed to Django with its length.
    """

    CHUNK = 64 * 1024

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    @staticmethod
    def limit_for(request: HttpRequest) -> int:
        if request.path.startswith("/api/"):
            return settings.API_MAX_BODY_BYTES
        if request.META.get("CONTENT_TYPE", "").lower().startswith("multipart/"):
            return settings.MAX_REQUEST_BYTES
        return settings.DATA_UPLOAD_MAX_MEMORY_SIZE

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = self.limit_for(request)
        declared = request.META.get("CONTENT_LENGTH")
        if declared:
            if not declared.isdigit():
                return body_refused(request, 400, _("The Content-Length header is not a number."))
            if int(declared) > limit:
                return body_too_large(request, limit)
        elif "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower():
            refused = self._read_chunked(request, limit)
            if refused is not None:
                return refused
        return self.get_response(request)

    def _read_chunked(self, request: HttpRequest, limit: int) -> HttpResponse | None:
        if not request.META.get("wsgi.input_terminated"):
            # The server hands over the raw chunked stream (runserver): its end cannot be found.
            return body_refused(request, 411, _("Send the request with a Content-Length."))
        source = request.META["wsgi.input"]
        body = tempfile.SpooledTemporaryFile(max_size=settings.FILE_UPLOAD_MAX_MEMORY_SIZE)  # noqa: SIM115
        size = 0
        while chunk := source.read(self.CHUNK):
            size += len(chunk)
            if size > limit:
                body.close()
                return body_too_large(request, limit)
            body.write(chunk)
        body.seek(0)
        request._stream = LimitedStream(body, size)
        request.META["CONTENT_LENGTH"] = str(size)
        return None


def body_too_large(request: HttpRequest, limit: int) -> HttpResponse:
    return body_refused(
        request,
        413,
        _("The request is larger than %(size)s MB, the most we accept. Nothing was saved.")
        % {"size": number_format(limit / 1024 / 1024, 1)},
    )


def body_refused(request: HttpRequest, status: int, message: str) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=status)
    return HttpResponse(render_to_string("413.html", {"message": message}), status=status)


class DatabaseUnavailableMiddleware:
    """A database outage answers 503 with Retry-After (a page, or JSON under /api/), never a traceback.

    Nothing is half-written: every service runs in one transaction, so a request that fails here
    rolled back entirely, and the client is told to try again.
    """

    RETRY_AFTER_SECONDS = "5"

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        return database_unavailable(request, exception)


def server_error(request: HttpRequest, template_name: str = "500.html") -> HttpResponse:
    """handler500. A database error raised outside a view (a middleware that loads the session or
    checks sanctions) never reaches process_exception above; it gets the same clean 503 here."""
    exception = sys.exc_info()[1]
    if isinstance(exception, OperationalError | InterfaceError):
        return database_unavailable(request, exception)
    return defaults.server_error(request, template_name)


def database_unavailable(request: HttpRequest, exception: Exception) -> HttpResponse:
    logger.error("database unavailable: %s", exception)
    message = _("The service is briefly unavailable. Nothing was saved; please try again in a few seconds.")
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse({"detail": message}, status=503)
    else:
        response = HttpResponse(render_to_string("503.html", {"message": message}), status=503)
    response["Retry-After"] = DatabaseUnavailableMiddleware.RETRY_AFTER_SECONDS
    return response
