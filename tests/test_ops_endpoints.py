"""/healthz, /readyz and /metrics (config/health.py, config/monitoring.py), in process against the
real database, cache (Redis), broker (Redis, RabbitMQ) and migration executor; and through gunicorn:
readiness with a database that does not answer, and the request histogram added up across workers.
"""

from __future__ import annotations

import re
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from config import health
from moderation.enforcement.models import OutboxEvent
from moderation.models import ReportRollupChange, SanctionRollupChange
from reports.categories import Category
from reports.models import OutboxMail, Report
from tests.factories import ReportFactory, SanctionFactory, TargetFactory, UserFactory
from tests.harness import AppServer, Http, app_environment, database_url, free_port

TOKEN = "t" * 40
UUID = re.compile(r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}", re.I)


@pytest.fixture(autouse=True)
def _fresh_migration_check():
    health.forget_migrations_check()
    yield
    health.forget_migrations_check()


def samples(body: str) -> dict[tuple[str, tuple], float]:
    """Every sample of a Prometheus text page, keyed by (name, sorted labels)."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(body)
        for sample in family.samples
    }


# --- /healthz and /readyz ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_healthz_answers_without_the_database_for_any_host_over_plain_http(client, settings, django_assert_num_queries):
    # As in production behind a load balancer probing the instance's own address over HTTP.
    settings.ALLOWED_HOSTS = ["reports.example.com"]
    settings.SECURE_SSL_REDIRECT = True
    with django_assert_num_queries(0):
        response = client.get("/healthz", HTTP_HOST="10.0.3.7:8000")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    # The rest of the site still refuses the unknown host and redirects plain HTTP.
    assert client.get("/", HTTP_HOST="10.0.3.7:8000").status_code == 400
    assert client.get("/", HTTP_HOST="reports.example.com").status_code == 301
    assert client.post("/healthz").status_code == 405


@pytest.mark.django_db
def test_readyz_is_ready_and_says_nothing_else(client, settings):
    settings.ALLOWED_HOSTS = ["reports.example.com"]
    settings.SECURE_SSL_REDIRECT = True
    response = client.get("/readyz", HTTP_HOST="10.0.3.7:8000")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response["Cache-Control"] == "no-store"


@pytest.mark.django_db
def test_readyz_fails_by_name_while_a_migration_is_unapplied(client):
    latest = MigrationRecorder.Migration.objects.filter(app="moderation").order_by("-name").first()
    MigrationRecorder(connection).record_unapplied("moderation", latest.name)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "failed": ["migrations"]}
    # Applied again: ready at the next check (kept MIGRATIONS_CHECK_SECONDS per process).
    MigrationRecorder(connection).record_applied("moderation", latest.name)
    assert client.get("/readyz").status_code == 503  # the failure is kept for a moment...
    health.forget_migrations_check()
    assert client.get("/readyz").status_code == 200  # ...and checked again after it


@pytest.mark.django_db
def test_readyz_fails_by_name_when_the_cache_does_not_answer(client, settings):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:6379/15"}
    }
    assert client.get("/readyz").status_code == 200
    port = free_port()  # nobody listens there
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": f"redis://127.0.0.1:{port}/0"}
    }
    response = client.get("/readyz")
    assert response.status_code == 503 and response.json() == {"status": "unavailable", "failed": ["cache"]}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "broker",
    ["redis://127.0.0.1:6379/15", "amqp://guest:guest@127.0.0.1:5672//"],
    ids=["redis", "rabbitmq"],
)
def test_readyz_checks_the_broker_when_one_is_configured(client, settings, broker):
    settings.CELERY_BROKER_URL = broker
    assert client.get("/readyz").status_code == 200
    closed = re.sub(r":\d+/", f":{free_port()}/", broker)
    settings.CELERY_BROKER_URL = closed
    response = client.get("/readyz")
    assert response.status_code == 503 and response.json() == {"status": "unavailable", "failed": ["broker"]}


def test_readyz_fails_by_name_when_the_database_does_not_answer(tmp_path):
    """gunicorn with a database server that does not answer: live, not ready, and only "database"
    said (the migrations are not checked without it)."""
    closed = free_port()
    env = app_environment(database_url=f"postgres://postgres@127.0.0.1:{closed}/nowhere", var_dir=tmp_path / "var")
    with AppServer(port=free_port(range(8200, 8250)), env=env, workers=1, log_path=tmp_path / "app.log") as server:
        http = Http(server.url)
        assert http.get("/healthz").status == 200
        answer = http.get("/readyz")
        assert answer.status == 503
        assert answer.json() == {"status": "unavailable", "failed": ["database"]}
        assert "nowhere" not in answer.text and str(closed) not in answer.text


# --- /metrics -------------------------------------------------------------------------------------------


@pytest.mark.django_db
def without_csrf(response) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())


def test_metrics_does_not_exist_without_a_token(client, settings):
    settings.METRICS_TOKEN = ""
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 404
    # The same 404 as any unknown path (but for the language switcher's CSRF token, new each time).
    assert without_csrf(response) == without_csrf(client.get("/no-such-page"))


@pytest.mark.django_db
def test_metrics_refuses_without_its_token(client, settings):
    settings.METRICS_TOKEN = TOKEN
    missing = client.get("/metrics")
    assert missing.status_code == 401 and missing["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Token {TOKEN}").status_code == 401
    wrong = client.get("/metrics", HTTP_AUTHORIZATION="Bearer " + "x" * 40)
    assert wrong.status_code == 403
    for refused in (missing, wrong):
        assert b"reportdesk_" not in refused.content


@pytest.mark.django_db
def test_metrics_count_the_backlog_deadlines_rates_and_lag(client, settings, moderator):
    settings.METRICS_TOKEN = TOKEN
    now = timezone.now()
    ReportFactory(category=Category.VIOLENCE)  # critical, pending
    overdue = ReportFactory(category=Category.VIOLENCE, due_at=now - timedelta(hours=1))
    ReportFactory(category=Category.SPAM, status="reviewed", reviewed_by=moderator)  # low
    ReportFactory(category=Category.SPAM, status="resolved", closed_at=now, reviewed_by=moderator)
    Report.objects.filter(pk=overdue.pk).update(created_at=now - timedelta(hours=30))
    OutboxEvent.objects.create(event_type="sanction.applied", payload={}, next_attempt_at=now)
    OutboxMail.objects.create(
        kind="report_received", recipients=["someone@example.test"], subject="s", body="b", next_attempt_at=now
    )
    SanctionFactory()  # the dashboard counts actions too: its change waits for the fold like a report's
    OutboxMail.objects.create(  # sent: no longer waiting
        kind="report_received", recipients=["x@example.test"], subject="s", body="b", next_attempt_at=now, sent_at=now
    )

    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    found = samples(response.content.decode())
    assert found[("reportdesk_open_reports", (("severity", "critical"), ("status", "pending")))] == 2
    assert found[("reportdesk_open_reports", (("severity", "low"), ("status", "reviewed")))] == 1
    assert found[("reportdesk_open_reports", (("severity", "low"), ("status", "pending")))] == 0
    age = found[("reportdesk_oldest_open_report_age_seconds", (("severity", "critical"),))]
    assert 30 * 3600 - 60 < age < 30 * 3600 + 60
    assert found[("reportdesk_oldest_open_report_age_seconds", (("severity", "high"),))] == 0
    assert found[("reportdesk_reports_past_deadline", (("severity", "critical"),))] == 1
    assert found[("reportdesk_reports_past_deadline", (("severity", "low"),))] == 0
    # Four filed, one of them moved back 30 hours: three in the last five minutes.
    assert found[("reportdesk_filings_per_minute", ())] == pytest.approx(3 / 5)
    assert found[("reportdesk_decisions_per_minute", ())] == pytest.approx(1 / 5)
    assert found[("reportdesk_webhook_outbox_waiting", ())] == 1
    assert found[("reportdesk_mail_outbox_waiting", ())] == 1
    assert found[("reportdesk_mail_outbox_oldest_age_seconds", ())] >= 0
    # Every change the triggers wrote, of reports and of sanctions alike.
    assert SanctionRollupChange.objects.count() >= 1
    pending = ReportRollupChange.objects.count() + SanctionRollupChange.objects.count()
    assert found[("reportdesk_rollup_pending_waiting", ())] == pending >= 5
    # Inside the test's transaction nothing was committed, so nothing was sealed.
    assert found[("reportdesk_audit_unsealed_waiting", ())] >= 0
    # This very scrape is not in the histogram yet (it is timed after it answers); earlier requests are.
    client.get("/")
    again = samples(client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").content.decode())
    home = ("reportdesk_http_request_duration_seconds_count", (("method", "GET"), ("route", "home"), ("status", "200")))
    assert again[home] >= 1


@pytest.mark.django_db
def test_metrics_scrape_costs_a_fixed_number_of_queries(client, settings, django_assert_max_num_queries):
    settings.METRICS_TOKEN = TOKEN
    for _ in range(20):
        ReportFactory(category=Category.VIOLENCE)
    # One snapshot (a savepoint here), whether the rollups are built, two sums of them, four seeks
    # for the oldest, one range for what is not yet due, two for the rates, five backlogs (the
    # rollups' two kinds of change).
    with django_assert_max_num_queries(17):
        assert client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 200


@pytest.mark.django_db
def test_nothing_personal_appears_in_metrics(client, settings):
    """A reporter with a telling name and address files a report with telling words; their pages,
    the report's page and an error are visited; the metrics name routes and counts, nothing else."""
    settings.METRICS_TOKEN = TOKEN
    # An id no label can hold by chance (a sequence that reached 401 would read as status="401").
    reporter = UserFactory(pk=987_654_321, username="zelda_reporter_4711", email="zelda.private@example.test")
    owner = UserFactory(username="gannon_reported_0815")
    target = TargetFactory(owner=owner, title="Secret room title", snapshot_text="snapshot words")
    report = ReportFactory(reporter=reporter, target=target, reason="my neighbour xyzzy-plugh keeps calling")
    client.force_login(reporter)
    for path in (f"/report/{report.pk}/", "/report/mine/", f"/report/{uuid.uuid4()}/", "/account/", "/nope/123"):
        client.get(path)
    client.get(f"/report/new/?target={target.public_id}")
    body = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").content.decode()
    assert "reportdesk_http_request_duration_seconds_bucket" in body and 'route="reports:detail"' in body
    for personal in (
        reporter.username,
        reporter.email,
        owner.username,
        "xyzzy",
        "Secret room",
        "snapshot words",
        str(report.pk),
        str(target.public_id),
        f'"{reporter.pk}"',
    ):
        assert personal not in body, personal
    assert not UUID.search(body)  # no id of any kind
    routes = set(re.findall(r'route="([^"]*)"', body))
    assert routes and all("/" not in route for route in routes), routes


# --- through gunicorn: several workers, one histogram ----------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_request_histogram_adds_up_across_gunicorn_workers(tmp_path):
    env = app_environment(
        database_url=database_url(connection.settings_dict),
        var_dir=tmp_path / "var",
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "prometheus"),
        METRICS_TOKEN=TOKEN,
    )
    clients, each, sent = 8, 4, 0
    histograms = tmp_path / "prometheus"
    with AppServer(port=free_port(range(8250, 8300)), env=env, workers=2, log_path=tmp_path / "app.log") as server:
        # Eight clients at once keep both (sync) workers busy, so both serve some of the requests; on a
        # loaded host one worker can take a whole round (seen in CI), so rounds go on until each worker
        # has written its histogram file (each writes one on its first request).
        deadline = time.monotonic() + 30
        while True:
            with ThreadPoolExecutor(clients) as pool:
                answers = list(
                    pool.map(lambda _: [Http(server.url).get("/").status for _ in range(each)], range(clients))
                )
            assert answers == [[200] * each] * clients
            sent += clients * each
            if len(list(histograms.glob("histogram_*.db"))) == 2 or time.monotonic() > deadline:
                break
        assert len(list(histograms.glob("histogram_*.db"))) == 2  # both workers served
        scraped = Http(server.url).get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert scraped.status == 200, scraped.text
    found = samples(scraped.text)
    home = ("reportdesk_http_request_duration_seconds_count", (("method", "GET"), ("route", "home"), ("status", "200")))
    assert found[home] == sent  # one worker answered the scrape; the count is both workers'
