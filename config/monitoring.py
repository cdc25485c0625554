"""GET /metrics: Prometheus' text format, for the on-call person's dashboards and alerts.

prometheus-client, not django-prometheus: what we expose is our own (the backlog, deadlines, lag
of the outbox, the mail, the audit seal and the rollups, read from the database at scrape time)
plus one request-latency histogram by route, which the request log's middleware already times
(config/requestlog.py). django-prometheus would add its own middleware pair, database and cache
backend wrappers in place of ours, per-model counters, and an unauthenticated view to wrap.

Several gunicorn workers: with PROMETHEUS_MULTIPROC_DIR set in the environment (an empty directory,
emptied at each start: config/gunicorn.py), each worker writes its histogram to files there and a
scrape adds them all up (prometheus-client's multiprocess mode). The gauges are computed from the
database by whichever worker answers the scrape, so they are the same whichever that is, and the
same across hosts.

Behind a token: METRICS_TOKEN, sent as `Authorization: Bearer <token>`; without the header 401,
with another token 403, and without METRICS_TOKEN set the path does not exist (404). Nothing
personal is exposed: labels are severities, statuses and route names, never ids, names or paths.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Iterator

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

MULTIPROCESS = "PROMETHEUS_MULTIPROC_DIR" in os.environ

# This process's histogram (written to PROMETHEUS_MULTIPROC_DIR in multiprocess mode).
_process_registry = CollectorRegistry()
REQUEST_SECONDS = Histogram(
    "reportdesk_http_request_duration_seconds",
    "Time to answer a request, from the outermost middleware, by route name, method and status.",
    ["route", "method", "status"],
    registry=_process_registry,
)


def observe_request(*, route: str, method: str, status: int, seconds: float) -> None:
    REQUEST_SECONDS.labels(route=route, method=method, status=str(status)).observe(seconds)


class BacklogCollector(Collector):
    """The gauges, read from the database at each scrape (moderation/oncall.py)."""

    def collect(self) -> Iterator[Metric]:
        from moderation import oncall  # the apps are loaded by the time anything scrapes

        now = timezone.now()
        figures = oncall.read(now)
        open_reports = GaugeMetricFamily(
            "reportdesk_open_reports", "Open reports by severity and status.", labels=["severity", "status"]
        )
        for (severity, status), count in sorted(figures.open_reports.items()):
            open_reports.add_metric([severity, status], count)
        yield open_reports

        oldest = GaugeMetricFamily(
            "reportdesk_oldest_open_report_age_seconds",
            "Age of the oldest open report of each severity (0 when none is open).",
            labels=["severity"],
        )
        for severity, received in figures.oldest_open_received.items():
            oldest.add_metric([severity], max((now - received).total_seconds(), 0.0) if received else 0.0)
        yield oldest

        overdue = GaugeMetricFamily(
            "reportdesk_reports_past_deadline", "Open reports past their deadline, by severity.", labels=["severity"]
        )
        for severity, count in figures.past_deadline.items():
            overdue.add_metric([severity], count)
        yield overdue

        window = int(oncall.RATE_WINDOW.total_seconds() // 60)
        rates = figures.per_minute
        yield GaugeMetricFamily(
            "reportdesk_filings_per_minute",
            f"Reports filed per minute, averaged over the last {window} minutes.",
            value=rates["filings"],
        )
        yield GaugeMetricFamily(
            "reportdesk_decisions_per_minute",
            f"Reports decided (action taken or dismissed) per minute, averaged over the last {window} minutes.",
            value=rates["decisions"],
        )

        for name, what, backlog in (
            ("webhook_outbox", "Webhooks not yet accepted by the platform", figures.webhook_outbox),
            ("mail_outbox", "Mail waiting to be sent", figures.mail_outbox),
            ("audit_unsealed", "Audit events not yet sealed into the hash chain", figures.audit_unsealed),
            (
                "rollup_pending",
                "Report and sanction changes not yet folded into the dashboard's rollups",
                figures.rollup_pending,
            ),
        ):
            yield GaugeMetricFamily(f"reportdesk_{name}_waiting", f"{what}.", value=backlog.waiting)
            yield GaugeMetricFamily(
                f"reportdesk_{name}_oldest_age_seconds",
                f"{what}: age of the oldest (0 when none waits).",
                value=backlog.oldest_age_seconds(now),
            )


def _scrape_registry() -> CollectorRegistry:
    registry = CollectorRegistry()
    if MULTIPROCESS:
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_process_registry)
    registry.register(BacklogCollector())
    return registry


def _refusal(status: int, text: str) -> HttpResponse:
    response = HttpResponse(text, status=status, content_type="text/plain; charset=utf-8")
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
    return response


def metrics(request: HttpRequest) -> HttpResponse:
    """Answered by config.health.OpsEndpointsMiddleware (before host checks and the HTTPS redirect:
    Prometheus scrapes each instance by its own address); only when METRICS_TOKEN is set."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return _refusal(401, "Send the metrics token as: Authorization: Bearer <token>\n")
    if not hmac.compare_digest(token.strip().encode(), settings.METRICS_TOKEN.encode()):
        return _refusal(403, "Wrong metrics token.\n")
    response = HttpResponse(generate_latest(_scrape_registry()), content_type=CONTENT_TYPE_LATEST)
    response["Cache-Control"] = "no-store"
    return response
