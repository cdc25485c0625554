"""GET /healthz and /readyz for the load balancer, and the middleware that answers them (and
/metrics) ahead of the rest of the stack.

/healthz (liveness): the process answers; touches nothing else, so a database outage never makes
the orchestrator restart healthy processes. /readyz (readiness): every configured database answers,
no migration is left to apply, the cache answers, and the task broker answers when one is configured
(CELERY_BROKER_URL). Both answer JSON with the status and, on 503, the names of the failed checks:
nothing else (no version, no host, no error text; the errors go to the log).

They are answered before SecurityMiddleware and CommonMiddleware because a load balancer probes
each instance by its own address over plain HTTP: that address is not in ALLOWED_HOSTS and the probe
would get SECURE_SSL_REDIRECT's 301. Nothing in their answers depends on the Host header, which is
what host validation protects; so no ALLOWED_HOSTS entry is needed for the probes (README,
"Running it for real"). No session, no CSRF, no user: a probe costs one `SELECT 1` and a cache read.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
import urllib.parse
from collections.abc import Callable

import redis
from django.conf import settings
from django.core.cache import cache
from django.db import connections
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse

from config import monitoring

logger = logging.getLogger(__name__)

# The migration check reads every migration file: done at most this often per process.
MIGRATIONS_CHECK_SECONDS = 30.0
# A probe must answer within a load balancer's timeout (typically 2-5 s) even when a peer hangs.
PEER_TIMEOUT_SECONDS = 2.0


def healthz(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"status": "ok"})


def _databases() -> None:
    for alias in connections:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT 1")


_migrations_checked_at = 0.0
_migrations_applied = False
_migrations_lock = threading.Lock()


def _migrations() -> None:
    """No migration of the code on disk is left unapplied on the default database. The result is
    kept MIGRATIONS_CHECK_SECONDS (building the migration graph reads every migration file)."""
    global _migrations_checked_at, _migrations_applied
    with _migrations_lock:
        if time.monotonic() - _migrations_checked_at >= MIGRATIONS_CHECK_SECONDS:
            executor = MigrationExecutor(connections["default"])
            _migrations_applied = not executor.migration_plan(executor.loader.graph.leaf_nodes())
            _migrations_checked_at = time.monotonic()
        if not _migrations_applied:
            raise RuntimeError("unapplied migrations")


def forget_migrations_check() -> None:
    """For tests: the next readiness probe checks the migrations again."""
    global _migrations_checked_at
    with _migrations_lock:
        _migrations_checked_at = 0.0


def _cache() -> None:
    cache.get("readyz-probe")


def _broker() -> None:
    """The broker answers: a Redis PING, or for another scheme (amqp://...) a TCP connection."""
    url = getattr(settings, "CELERY_BROKER_URL", "")
    if not url:
        return
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme in {"redis", "rediss"}:
        client = redis.Redis.from_url(
            url, socket_connect_timeout=PEER_TIMEOUT_SECONDS, socket_timeout=PEER_TIMEOUT_SECONDS
        )
        try:
            client.ping()
        finally:
            client.close()
        return
    with socket.create_connection((parsed.hostname, parsed.port or 5672), timeout=PEER_TIMEOUT_SECONDS):
        pass


# Checked in this order; the migrations only when the database answered.
CHECKS: list[tuple[str, Callable[[], None]]] = [
    ("database", _databases),
    ("migrations", _migrations),
    ("cache", _cache),
    ("broker", _broker),
]


def readyz(request: HttpRequest) -> HttpResponse:
    failed: list[str] = []
    for name, check in CHECKS:
        if name == "migrations" and "database" in failed:
            continue
        try:
            check()
        except Exception:  # any failure of a peer means "not ready"; what it was goes to the log
            logger.warning("readiness check %r failed", name, exc_info=True)
            failed.append(name)
    if failed:
        response = JsonResponse({"status": "unavailable", "failed": failed}, status=503)
    else:
        response = JsonResponse({"status": "ok"})
    response["Cache-Control"] = "no-store"
    return response


class OpsEndpointsMiddleware:
    """Answers /healthz, /readyz and (with METRICS_TOKEN set) /metrics before the host check and
    the HTTPS redirect; every other request passes through untouched. Exact paths only, GET or HEAD."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        endpoint = self._endpoint(request.path)
        if endpoint is None:
            return self.get_response(request)
        request.route_name, view = endpoint
        if request.method not in ("GET", "HEAD"):
            return HttpResponseNotAllowed(["GET", "HEAD"])
        return view(request)

    @staticmethod
    def _endpoint(path: str) -> tuple[str, Callable[[HttpRequest], HttpResponse]] | None:
        if path == "/healthz":
            return "healthz", healthz
        if path == "/readyz":
            return "readyz", readyz
        if path == "/metrics" and settings.METRICS_TOKEN:
            return "metrics", monitoring.metrics
        return None
