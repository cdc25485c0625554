"""PostgreSQL stopped in the middle of a filing load and started again (manage.py reliability_outage).

The drill runs on a throwaway cluster of its own, never on the database the tests use; see the
command's docstring for what it checks. Here it runs as the ops would run it, in its own process,
and must pass; then one requirement is shown to bite: a 500 is never taken for a clean answer.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import InterfaceError, OperationalError, connection
from django.test import Client

from tests.harness import Answer, ThrowawayCluster, unclean_503

BASE_DIR = Path(__file__).resolve().parent.parent
CANNOT = ThrowawayCluster.unavailable_reason()


@pytest.mark.skipif(bool(CANNOT), reason=f"no throwaway PostgreSQL cluster here: {CANNOT}")
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the drill makes its own PostgreSQL cluster, whatever the tests use: it runs once, in the PostgreSQL pass",
)
def test_the_outage_drill_passes():
    args = ["--before", "1.5", "--outage", "2", "--after", "2", "--targets", "1500"]
    if os.environ.get("RELIABILITY_PG_DIR"):
        args += ["--data-dir", os.environ["RELIABILITY_PG_DIR"]]
    result = subprocess.run(
        [sys.executable, "manage.py", "reliability_outage", *args],
        cwd=BASE_DIR,
        env={**os.environ, "LOG_LEVEL": "CRITICAL"},
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    report = result.stdout + result.stderr[-4000:]
    assert result.returncode == 0, report
    assert "OUTAGE DRILL PASSED" in result.stdout
    # It really went through an outage: 503s while down, 201s after, and nothing acknowledged was lost.
    assert "503 during the outage: 0;" not in result.stdout and "201 after the restart: 0" not in result.stdout
    assert ", 0 acknowledged" not in result.stdout


def test_the_drill_tells_a_clean_503_from_anything_else():
    page = {"retry-after": "5", "content-type": "text/html; charset=utf-8"}
    api = {"retry-after": "5", "content-type": "application/json"}
    clean_page = Answer(503, page, b"<h1>Briefly unavailable</h1>")
    assert unclean_503(clean_page, api=False, what="GET /") == ""
    assert unclean_503(Answer(503, api, b'{"detail": "down"}'), api=True, what="POST /api/reports") == ""
    assert "Retry-After" in unclean_503(Answer(503, {}, b'{"detail": "x"}'), api=True, what="x")
    assert "not JSON" in unclean_503(Answer(503, api, b"<html>"), api=True, what="x")
    assert "traceback" in unclean_503(Answer(503, page, b"Traceback (most recent call last)"), api=False, what="x")
    assert "not the service page" in unclean_503(Answer(503, page, b"Service Unavailable"), api=False, what="x")


@pytest.mark.django_db
@pytest.mark.parametrize("error", [OperationalError, InterfaceError])
@pytest.mark.parametrize("path", ["/report/mine/", "/api/reports/mine"])
def test_a_database_error_in_a_middleware_is_a_503_not_a_500(client: Client, user, monkeypatch, error, path):
    """The outage drill found this: a signed-in request loads its session and checks sanctions in a
    middleware, before any view, where the 503 middleware's process_exception never sees the error."""
    client.force_login(user)

    def database_down(*args, **kwargs):
        raise error("connection to server at 127.0.0.1 failed")

    monkeypatch.setattr("moderation.enforcement.signin._blocked", database_down)
    client.raise_request_exception = False
    response = client.get(path)
    assert response.status_code == 503 and response["Retry-After"] == "5"
    body = response.content.decode()
    if path.startswith("/api/"):
        assert response.json()["detail"].startswith("The service is briefly unavailable")
    else:
        assert "Briefly unavailable" in body and "Traceback" not in body


@pytest.mark.django_db
def test_other_errors_still_get_the_500_page(client: Client, user, monkeypatch):
    client.force_login(user)

    def broken(*args, **kwargs):
        raise ValueError("a bug")

    monkeypatch.setattr("moderation.enforcement.signin._blocked", broken)
    client.raise_request_exception = False
    response = client.get("/report/mine/")
    assert response.status_code == 500 and "Something went wrong" in response.content.decode()
