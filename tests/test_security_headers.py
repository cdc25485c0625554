"""The production settings as a browser meets them: a gunicorn server started with DJANGO_ENV=production
(static files collected, behind a TLS proxy that sets X-Forwarded-Proto), asked over HTTP.

HTTPS only (a redirect, HSTS with preload, Secure cookies), a Content-Security-Policy without
'unsafe-inline' (and pages that need none), framing denied, a Referrer-Policy, no debug pages, host
names checked, and sign-in attempts throttled on the real server.
"""

from __future__ import annotations

import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from tests.factories import PASSWORD, UserFactory
from tests.harness import (
    Answer,
    AppServer,
    Http,
    app_environment,
    database_url,
    free_port,
)

# Every test here is transactional, even those that only read: pytest-django runs transactional tests
# after the others, and one test apart would make the module's server start (and collect) twice.
pytestmark = pytest.mark.django_db(transaction=True)

BASE_DIR = Path(__file__).resolve().parent.parent
HOST = "reportdesk.example"
HTTPS = {"Host": HOST, "X-Forwarded-Proto": "https"}


@pytest.fixture(scope="module")
def production(django_db_setup, django_db_blocker, tmp_path_factory):
    """gunicorn in production mode on the test database, after collectstatic (as a deployment does)."""
    tmp = tmp_path_factory.mktemp("production")
    with django_db_blocker.unblock():
        url = database_url(connection.settings_dict)
    env = app_environment(
        database_url=url,
        var_dir=tmp / "var",
        DJANGO_ENV="production",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS=HOST,
        BEHIND_TLS_PROXY="1",
        STATIC_ROOT=str(tmp / "static"),
        LOG_LEVEL="ERROR",
        LOGIN_ATTEMPTS_LIMIT="3",  # each attempt costs a real password hash; the default (5) is in test_throttling
        AUDIT_SIGNING_KEY=secrets.token_urlsafe(32),
        REDIS_URL="redis://127.0.0.1:6379/13",
        CACHE_KEY_PREFIX=f"security-headers-{secrets.token_hex(8)}",
    )
    collected = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert collected.returncode == 0, collected.stderr
    server = AppServer(
        port=free_port(range(8100, 8200)), env=env, workers=1, log_path=tmp / "gunicorn.log", probe_headers=HTTPS
    )
    with server:
        yield server


def _get(server: AppServer, path: str, **headers: str) -> Answer:
    return Http(server.url, headers={**HTTPS, **headers}).get(path)


def csp_directives(answer: Answer) -> dict[str, list[str]]:
    policy = answer.headers["content-security-policy"]
    return {part.split()[0]: part.split()[1:] for part in (p.strip() for p in policy.split(";")) if part}


def cookie_attributes(answer: Answer, name: str) -> set[str]:
    """The cookie's attributes, lower-cased: {"secure", "httponly", "samesite=lax", "path=/", ...}."""
    [header] = [h for h in answer.set_cookies if h.startswith(f"{name}=")]
    return {attribute.strip().lower() for attribute in header.split(";")[1:] if "expires" not in attribute.lower()}


def test_plain_http_is_redirected_to_https(production):
    answer = Http(production.url, headers={"Host": HOST}).get("/report/mine/?x=1")
    assert answer.status == 301 and answer.headers["location"] == f"https://{HOST}/report/mine/?x=1"


def test_every_answer_carries_the_security_headers(production):
    for path in ("/accounts/login/", "/complaint/", "/api/schema", "/no-such-page/"):
        answer = _get(production, path)
        assert answer.status in (200, 404), (path, answer.text[:300])
        headers = answer.headers
        assert headers["strict-transport-security"] == "max-age=31536000; includeSubDomains; preload"
        assert headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "same-origin"
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["cross-origin-opener-policy"] == "same-origin"
        csp = csp_directives(answer)
        sources = [source for values in csp.values() for source in values]
        assert not {"'unsafe-inline'", "'unsafe-eval'", "*", "http:", "https:"} & set(sources), csp
        assert csp["default-src"] == ["'self'"] and csp["script-src"] == ["'self'"] and csp["style-src"] == ["'self'"]
        assert csp["object-src"] == ["'none'"] and csp["frame-ancestors"] == ["'none'"]
        assert csp["base-uri"] == ["'self'"] and csp["form-action"] == ["'self'"]


def test_pages_need_nothing_the_policy_forbids(production):
    """No inline script, no inline event handler, no style attribute or element: each would be blocked."""
    for path in ("/accounts/login/", "/complaint/", "/"):
        html = _get(production, path).text
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), f"inline <script> on {path}"
        assert not re.search(r"\son[a-z]+\s*=", html), f"inline event handler on {path}"
        assert not re.search(r"<style\b|\sstyle\s*=", html), f"inline style on {path}"
        assert not re.search(r"""(src|href)=["']?(https?:)?//""", html), f"something from another origin on {path}"


def test_errors_show_no_debug_information(production):
    answer = _get(production, "/moderation/reports/not-a-report/")
    assert answer.status in (302, 404)
    missing = _get(production, "/no-such-page/")
    assert missing.status == 404
    for leak in ("Traceback", "URLconf", "DEBUG = True", "Django tried these URL patterns", "SECRET_KEY"):
        assert leak not in missing.text


def test_an_unknown_host_name_is_refused(production):
    answer = Http(production.url, headers={"Host": "evil.example", "X-Forwarded-Proto": "https"}).get("/")
    assert answer.status == 400


def test_the_csrf_cookie_is_secure_and_http_only(production):
    answer = _get(production, "/accounts/login/")
    assert {"secure", "httponly", "samesite=lax"} <= cookie_attributes(answer, "csrftoken")


def test_sign_in_sets_a_secure_session_cookie_and_failed_attempts_are_throttled(production, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]  # what the server checks
    UserFactory(username="prod_user")
    browser = Http(production.url, headers={**HTTPS, "Origin": f"https://{HOST}"})
    browser.get("/accounts/login/")
    answer = browser.post("/accounts/login/", form={"username": "prod_user", "password": PASSWORD})
    assert answer.status == 302, answer.text[:500]
    assert {"secure", "httponly", "samesite=lax"} <= cookie_attributes(answer, "sessionid")
    assert browser.get("/report/mine/").status == 200

    # Three wrong passwords (LOGIN_ATTEMPTS_LIMIT) lock this name from this address; then even the
    # right one waits (django-axes' lockout, answered by our sign-in page).
    attacker = Http(production.url, headers={**HTTPS, "Origin": f"https://{HOST}"})
    attacker.get("/accounts/login/")
    for attempt in range(3):
        wrong = attacker.post("/accounts/login/", form={"username": "prod_user", "password": "guess"})
        assert wrong.status == (429 if attempt == 2 else 200) and ("Too many" in wrong.text) == (attempt == 2)
    blocked = attacker.post("/accounts/login/", form={"username": "prod_user", "password": PASSWORD})
    assert blocked.status == 429 and "Too many failed sign-in attempts" in blocked.text
    assert "sessionid" not in attacker.cookies
