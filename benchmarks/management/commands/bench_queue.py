"""The queue benchmark: server time and query count of the moderators' pages next to Django's admin
changelist for the Report model (same filters, same search, same page), measured in one run.

Run it on a database filled by `bench_data` (PostgreSQL for the real figures):

    DATABASE_URL=postgres://... python manage.py bench_data --reports 1000000
    DATABASE_URL=postgres://... python manage.py bench_queue --iterations 30

Every request goes in-process through the whole middleware stack (Django's test Client: session,
authentication, CSRF, the sanction check, templates), with DEBUG off. The time is the wall time of
the full request; the query count comes from CaptureQueriesContext. Our pages and the admin's are
measured alternately, request by request, so both see the same caches and the same machine load.

With --check the command exits non-zero when a target is missed (CI runs a small version):
every queue page under --queue-ms median and at least --min-ratio times faster than the admin,
the report page under --report-ms, the dashboard under --dashboard-ms, a /metrics scrape (with a
token of the command's own) under --metrics-ms, the queue's live poll under --poll-ms. The live
poll's cost per moderator per minute (queries, response bytes, server time at QUEUE_POLL_SECONDS)
is printed after the table.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.db.models import Count
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse
from django.utils.http import urlencode

from audit import services as audit
from benchmarks import host_speed
from moderation.forms import PAGE_SIZES
from moderation.services import staff_create
from reports.categories import Category
from reports.models import OPEN_STATUSES, Report, ReportStatus

MODERATOR = "bench_queue_moderator"
SUPERUSER = "bench_queue_superuser"
ADMIN_CHANGELIST = "admin:reports_report_changelist"
# The admin changelist's list_per_page.
ADMIN_ROWS = 100
# The token this command's own requests send to /metrics (set for its run only).
METRICS_TOKEN = "bench-queue-" + "m" * 32


@dataclass
class Timing:
    times_ms: list[float] = field(default_factory=list)
    queries: int = 0
    status: int = 0
    size: int = 0
    header_size: int = 0  # the response's status line and headers, for the live poll's bytes

    @property
    def median(self) -> float:
        return statistics.median(self.times_ms)

    @property
    def p95(self) -> float:
        ordered = sorted(self.times_ms)
        # Nearest rank: the smallest value with at least 95 % of the samples at or below it.
        return ordered[max(0, -(-95 * len(ordered) // 100) - 1)]


@dataclass
class Case:
    name: str
    ours: str
    admin: str | None
    kind: str  # queue | report | dashboard | metrics | poll
    headers: dict[str, str] = field(default_factory=dict)


def _p(value: float | None) -> str:
    return "—" if value is None else f"{value:,.1f}"


class Command(BaseCommand):
    help = "Benchmark the queue, the report page and the dashboard against Django's admin changelist."

    def add_arguments(self, parser):
        parser.add_argument("--iterations", type=int, default=30, help="Measured requests per page (default 30).")
        parser.add_argument("--warmup", type=int, default=3, help="Unmeasured requests per page first (default 3).")
        parser.add_argument(
            "--per-page",
            type=int,
            default=PAGE_SIZES[0],
            choices=PAGE_SIZES,
            help=f"Queue rows per page (default {PAGE_SIZES[0]}, the queue's default; the admin shows {ADMIN_ROWS}).",
        )
        parser.add_argument(
            "--search",
            action="append",
            default=[],
            help="A text searched (repeatable; default: a common word of the reasons and a reporter's username).",
        )
        parser.add_argument("--category", default="", help="The filtered page's category (default: the largest).")
        parser.add_argument("--page", type=int, default=1000, help="The deep page (default 1,000).")
        parser.add_argument("--check", action="store_true", help="Exit non-zero if a target is missed.")
        parser.add_argument(
            "--only",
            action="append",
            default=[],
            metavar="TEXT",
            help="Measure only the pages whose name contains TEXT (repeatable), e.g. --only dashboard.",
        )
        parser.add_argument(
            "--slow-queries",
            type=int,
            default=0,
            metavar="N",
            help="Print each page's N slowest queries (one request).",
        )
        parser.add_argument("--queue-ms", type=float, default=100.0, help="Target: queue page median (ms).")
        parser.add_argument("--min-ratio", type=float, default=5.0, help="Target: admin median / queue median.")
        parser.add_argument("--report-ms", type=float, default=50.0, help="Target: report page median (ms).")
        parser.add_argument("--dashboard-ms", type=float, default=300.0, help="Target: dashboard median (ms).")
        parser.add_argument("--metrics-ms", type=float, default=50.0, help="Target: /metrics scrape median (ms).")
        parser.add_argument("--poll-ms", type=float, default=20.0, help="Target: the queue's live poll, median (ms).")
        parser.add_argument(
            "--max-queries", type=int, default=25, help="Target: queries per page of ours, whatever the data (25)."
        )

    def handle(self, *args, **options):
        if options["iterations"] < 1:
            raise CommandError("--iterations must be at least 1")
        total = Report.objects.count()
        if total < 100:
            raise CommandError("Too few reports to measure; fill the database with `manage.py bench_data` first.")
        hosts = [*settings.ALLOWED_HOSTS, "testserver"]
        # DEBUG off as in production; the test client's host must be allowed, and no redirect to HTTPS.
        with override_settings(
            DEBUG=False, ALLOWED_HOSTS=hosts, SECURE_SSL_REDIRECT=False, METRICS_TOKEN=METRICS_TOKEN
        ):
            moderator, superuser = self._accounts()
            cases = [
                case
                for case in self._cases(options)
                if not options["only"] or any(text in case.name for text in options["only"])
            ]
            self.stdout.write(self._describe(total, options, cases))
            probe_before = host_speed.loop_seconds()
            results = self._measure(cases, moderator, superuser, options)
            self.stdout.write(host_speed.describe(probe_before, host_speed.loop_seconds()))
            if options["slow_queries"]:
                self._slow_queries(cases, moderator, superuser, options["slow_queries"])
        failures = self._report(cases, results, options)
        if options["check"] and failures:
            raise CommandError("Targets missed: " + "; ".join(failures))

    # --- set-up ----------------------------------------------------------------------------------

    def _accounts(self):
        user_model = get_user_model()
        moderator = user_model.objects.filter(username=MODERATOR).first()
        if moderator is None:
            moderator, _ = staff_create(actor=audit.SYSTEM, username=MODERATOR, role="moderator")
        superuser = user_model.objects.filter(username=SUPERUSER).first()
        if superuser is None:
            # A superuser sees the admin changelist with every filter; it is not a workflow change.
            superuser = user_model.objects.create_superuser(username=SUPERUSER, email="", password=None)
        return moderator, superuser

    def _cases(self, options) -> list[Case]:
        category = options["category"] or self._largest_category()
        if category not in Category.values:
            raise CommandError(f"Unknown category {category!r}")
        searches = options["search"] or self._searches()
        report = self._heavy_report()
        queue = reverse("moderation:queue")
        admin = reverse(ADMIN_CHANGELIST)
        per_page = options["per_page"]
        # The default queue's own link says nothing; another page size is one more parameter.
        rows = "" if per_page == PAGE_SIZES[0] else f"per_page={per_page}"

        def ours(query: str = "") -> str:
            joined = "&".join(part for part in (rows, query) if part)
            return f"{queue}?{joined}" if joined else queue

        open_in = "status__in=" + ",".join(OPEN_STATUSES)
        poll = reverse("moderation:new_reports")
        newest = Report.objects.order_by("-created_at").values_list("created_at", flat=True).first()
        # Typical: the last poll interval before the newest report (nothing or little new).
        recent = newest - timedelta(seconds=settings.QUEUE_POLL_SECONDS)
        long_ago = newest - timedelta(days=30)
        # Page 1,000 of the default queue (open reports, deadline order) and the admin's page 1,000
        # (?p=999, every report in due_at order). A smaller database has fewer pages: the deepest
        # one there is then (the admin redirects past its end).
        open_pages = -(-Report.objects.filter(status__in=OPEN_STATUSES).count() // per_page)
        admin_pages = -(-Report.objects.count() // ADMIN_ROWS)
        page, admin_page = max(1, min(options["page"], open_pages)), max(1, min(options["page"], admin_pages))
        return [
            # The default queue is the open reports, earliest deadline first; the admin's equivalent
            # is the same status set (status__in is a local-field lookup the admin accepts).
            Case("queue: first page (open)", ours(), f"{admin}?{open_in}", "queue"),
            Case(
                f"queue: {category} + pending",
                ours(f"category={category}&status=pending"),
                f"{admin}?category__exact={category}&status__exact=pending",
                "queue",
            ),
            *(
                Case(
                    f"queue: search {search!r}",
                    ours(urlencode({"q": search})),
                    f"{admin}?{open_in}&{urlencode({'q': search})}",
                    "queue",
                )
                for search in searches
            ),
            Case(
                f"queue: page {page:,}" + ("" if admin_page == page else f" (admin {admin_page:,})"),
                ours(f"page={page}"),
                f"{admin}?p={admin_page - 1}",
                "queue",
            ),
            Case(
                "report page",
                reverse("moderation:report", args=[report.pk]),
                reverse("admin:reports_report_change", args=[report.pk]),
                "report",
            ),
            Case("dashboard (30 days)", reverse("dashboard") + "?period=30", None, "dashboard"),
            Case("dashboard (90 days)", reverse("dashboard") + "?period=90", None, "dashboard"),
            Case("metrics scrape", "/metrics", None, "metrics", {"HTTP_AUTHORIZATION": f"Bearer {METRICS_TOKEN}"}),
            # The queue's live notice polls this (static/js/queue.js) every QUEUE_POLL_SECONDS with the
            # view and the time its page was read: typically nothing new in the last poll interval;
            # at worst a page left open for hours, where the count stops at its cap.
            *(
                Case(f"live poll: {name}", f"{poll}?{view}&{urlencode({'since': since})}", None, "poll")
                for name, view in (
                    ("open queue", "status=open&sort=deadline"),
                    (f"{category} + pending", f"status=pending&category={category}&sort=deadline"),
                    (f"search {searches[0]!r}", f"status=open&sort=deadline&{urlencode({'q': searches[0]})}"),
                )
                for since in (recent.isoformat(),)
            ),
            Case(
                "live poll: open queue, page left open (99+ new)",
                f"{poll}?status=open&sort=deadline&{urlencode({'since': long_ago.isoformat()})}",
                None,
                "poll",
            ),
        ]

    def _largest_category(self) -> str:
        row = (
            Report.objects.filter(status=ReportStatus.PENDING)
            .values("category")
            .annotate(n=Count("pk"))
            .order_by("-n")
            .first()
        )
        return row["category"] if row else Category.HARASSMENT

    def _searches(self) -> list[str]:
        """A word many reasons contain (bench_data's vocabulary) and a reporter's username, which
        few reports match: the search has to look through the whole open queue to fill a page."""
        reporter = (
            Report.objects.filter(status__in=OPEN_STATUSES, reporter__isnull=False)
            .order_by("created_at")
            .values_list("reporter__username", flat=True)
            .first()
        )
        return ["crypto", *([reporter] if reporter else [])]

    def _heavy_report(self) -> Report:
        """An open report on a target with many reports, about an owner with many reports: the
        report page at its busiest (others on the target, the account's history, the reporter's)."""
        busiest = (
            Report.objects.filter(status__in=OPEN_STATUSES)
            .values("target_id")
            .annotate(n=Count("pk"))
            .order_by("-n")
            .first()
        )
        reports = Report.objects.filter(status__in=OPEN_STATUSES)
        if busiest:
            reports = reports.filter(target_id=busiest["target_id"])
        report = reports.order_by("created_at").first() or Report.objects.order_by("created_at").first()
        return report

    def _describe(self, total: int, options, cases: list[Case]) -> str:
        open_count = Report.objects.filter(status__in=OPEN_STATUSES).count()
        return (
            f"database: {connection.vendor} ({settings.DATABASES['default'].get('NAME')}), "
            f"{total:,} reports, {open_count:,} open; DEBUG off; "
            f"{options['warmup']} warm-up + {options['iterations']} measured requests per page; "
            f"queue rows per page: {options['per_page']} (admin: {ADMIN_ROWS})"
        )

    # --- measuring -------------------------------------------------------------------------------

    def _measure(self, cases: list[Case], moderator, superuser, options) -> dict[str, tuple[Timing, Timing | None]]:
        ours_client, admin_client = Client(), Client()
        ours_client.force_login(moderator)
        admin_client.force_login(superuser)
        results = {}
        for case in cases:
            ours = Timing()
            admin = Timing() if case.admin else None
            runs: list[tuple[Callable[[], tuple[float, int, int, int, int]], Timing]] = [
                (lambda url=case.ours, headers=case.headers: self._request(ours_client, url, headers), ours)
            ]
            if case.admin:
                runs.append((lambda url=case.admin: self._request(admin_client, url), admin))
            for _ in range(options["warmup"]):
                for run, _timing in runs:
                    run()
            # Alternate: ours, admin, ours, admin ... so that both see the same conditions.
            for _ in range(options["iterations"]):
                for run, timing in runs:
                    elapsed, queries, status, size, header_size = run()
                    timing.times_ms.append(elapsed)
                    timing.queries, timing.status, timing.size, timing.header_size = queries, status, size, header_size
            for label, timing in (("ours", ours), ("admin", admin)):
                if timing is not None and timing.status != 200:
                    url = case.ours if label == "ours" else case.admin
                    raise CommandError(f"{case.name}: {url} answered {timing.status}, not 200")
            results[case.name] = (ours, admin)
            self.stdout.write(f"  measured {case.name}")
        return results

    @staticmethod
    def _request(
        client: Client, url: str, headers: dict[str, str] | None = None
    ) -> tuple[float, int, int, int, int]:
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get(url, **(headers or {}))
            content = response.content
            elapsed = (time.perf_counter() - started) * 1000
        header_bytes = len(b"HTTP/1.1 200 OK\r\n" + response.serialize_headers() + b"\r\n\r\n")
        return elapsed, len(queries.captured_queries), response.status_code, len(content), header_bytes

    def _slow_queries(self, cases: list[Case], moderator, superuser, count: int) -> None:
        """One more request per page with each query timed: where the time goes."""
        clients = {"ours": Client(), "admin": Client()}
        clients["ours"].force_login(moderator)
        clients["admin"].force_login(superuser)
        for case in cases:
            for label, url in (("ours", case.ours), ("admin", case.admin)):
                if url is None:
                    continue
                timed: list[tuple[float, str]] = []

                def wrapper(execute, sql, params, many, context, timed=timed):
                    started = time.perf_counter()
                    try:
                        return execute(sql, params, many, context)
                    finally:
                        timed.append(((time.perf_counter() - started) * 1000, sql))

                with connection.execute_wrapper(wrapper):
                    started = time.perf_counter()
                    clients[label].get(url, **(case.headers if label == "ours" else {}))
                    elapsed = (time.perf_counter() - started) * 1000
                in_db = sum(ms for ms, _ in timed)
                self.stdout.write(
                    f"\n{case.name} [{label}] {url}\n  {elapsed:.1f} ms in all, {in_db:.1f} ms in {len(timed)} queries"
                )
                for ms, sql in sorted(timed, reverse=True)[:count]:
                    self.stdout.write(f"  {ms:8.1f} ms  {sql[:300]}")

    # --- the table -------------------------------------------------------------------------------

    def _report(self, cases: list[Case], results, options) -> list[str]:
        width = max(len(case.name) for case in cases)
        header = (
            f"{'page':<{width}} | {'ours median':>11} {'p95':>8} {'queries':>7} | "
            f"{'admin median':>12} {'p95':>8} {'queries':>7} | {'ratio':>6} | target"
        )
        lines = ["", header, "-" * len(header)]
        failures: list[str] = []
        for case in cases:
            ours, admin = results[case.name]
            ratio = admin.median / ours.median if admin else None
            verdicts = []
            if case.kind == "queue":
                verdicts.append(self._verdict(ours.median < options["queue_ms"], f"<{options['queue_ms']:g} ms"))
                verdicts.append(
                    self._verdict(ratio is not None and ratio >= options["min_ratio"], f">={options['min_ratio']:g}x")
                )
            elif case.kind == "report":
                verdicts.append(self._verdict(ours.median < options["report_ms"], f"<{options['report_ms']:g} ms"))
            elif case.kind == "metrics":
                verdicts.append(self._verdict(ours.median < options["metrics_ms"], f"<{options['metrics_ms']:g} ms"))
            elif case.kind == "poll":
                verdicts.append(self._verdict(ours.median < options["poll_ms"], f"<{options['poll_ms']:g} ms"))
            else:
                verdicts.append(
                    self._verdict(ours.median < options["dashboard_ms"], f"<{options['dashboard_ms']:g} ms")
                )
            verdicts.append(
                self._verdict(ours.queries <= options["max_queries"], f"<={options['max_queries']} queries")
            )
            for passed, text in verdicts:
                if not passed:
                    failures.append(f"{case.name} {text}")
            lines.append(
                f"{case.name:<{width}} | {_p(ours.median):>11} {_p(ours.p95):>8} {ours.queries:>7} | "
                f"{_p(admin.median if admin else None):>12} {_p(admin.p95 if admin else None):>8} "
                f"{admin.queries if admin else '—':>7} | "
                f"{'—' if ratio is None else f'{ratio:.1f}x':>6} | "
                + (
                    "ok"
                    if all(passed for passed, _ in verdicts)
                    else "MISSED " + ", ".join(text for passed, text in verdicts if not passed)
                )
            )
        lines += self._poll_cost(cases, results)
        lines += [
            "",
            "times in ms (median and 95th percentile of the full request); ratio = admin median / ours median",
            f"targets: queue pages < {options['queue_ms']:g} ms median and >= {options['min_ratio']:g}x the admin; "
            f"report page < {options['report_ms']:g} ms; dashboard < {options['dashboard_ms']:g} ms; "
            f"/metrics < {options['metrics_ms']:g} ms; "
            f"live poll < {options['poll_ms']:g} ms; "
            f"<= {options['max_queries']} queries per page",
        ]
        self.stdout.write("\n".join(lines))
        if failures:
            self.stdout.write(self.style.WARNING("missed: " + "; ".join(failures)))
        else:
            self.stdout.write(self.style.SUCCESS("all targets met"))
        return failures

    @staticmethod
    def _poll_cost(cases: list[Case], results) -> list[str]:
        """What the live notice costs one moderator with the queue open, per minute."""
        polls_per_minute = 60 / settings.QUEUE_POLL_SECONDS
        lines = [
            "",
            f"live poll, per moderator per minute ({polls_per_minute:g} polls, QUEUE_POLL_SECONDS="
            f"{settings.QUEUE_POLL_SECONDS}; response bytes = status line and headers + JSON body):",
        ]
        for case in cases:
            if case.kind != "poll":
                continue
            timing = results[case.name][0]
            wire = timing.header_size + timing.size
            lines.append(
                f"  {case.name}: {polls_per_minute * timing.queries:g} queries, "
                f"{polls_per_minute * wire:,.0f} bytes ({timing.header_size} + {timing.size} a poll), "
                f"{polls_per_minute * timing.median:.1f} ms of server time (median {timing.median:.2f} ms a poll)"
            )
        return lines

    @staticmethod
    def _verdict(passed: bool, text: str) -> tuple[bool, str]:
        return passed, text
