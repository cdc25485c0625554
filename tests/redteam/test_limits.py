"""Limits that hold: one name however it is spelt, one count for every process, the client's own
address behind the proxy, the hourly filing limit under a burst, staff names like sign-up's.

Before: "ｒｏｓａ", "rｏsa"... each had its own five tries and still signed in as rosa; each gunicorn
worker kept its own counts (10 sign-ins for a limit of 5); behind the TLS proxy every client shared
one address, so 110 failed sign-ins from one place locked every account out; 16 threads stored 21
reports against a limit of 20; create_staff accepted '"><img src=x onerror=alert(1)>'.
"""

from __future__ import annotations

import threading
import uuid

import pytest
import redis
from django.core.cache import cache
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import RequestFactory
from django.urls import reverse

from config import throttle
from moderation.auth import sign_in_name
from reports.models import Report
from reports.services import RateLimitExceeded, report_file
from tests.factories import PASSWORD, TargetFactory, UserFactory
from tests.test_settings import manage, random_secret_key

pytestmark = pytest.mark.django_db
REDIS = "redis://127.0.0.1:6379/13"


def sign_in(client, username: str, password: str, **meta: str):
    return client.post(reverse("login"), {"username": username, "password": password}, **meta)


def test_every_spelling_of_a_name_shares_its_tries(client, settings):
    settings.LOGIN_ATTEMPTS_LIMIT = 5
    rosa = UserFactory(username="rosa")
    spellings = ["ｒｏｓａ", "rｏsa", "ROSA", "Rosa ", "ｒosa"]
    assert {sign_in_name(name) for name in spellings} == {"rosa"}
    for name in spellings:
        sign_in(client, name, "wrong")
    # The next try, with the right password and the plain name, meets the lockout.
    assert sign_in(client, "rosa", PASSWORD).status_code == 429
    assert "_auth_user_id" not in client.session
    # Django itself signs the full-width spelling in as rosa (NFKC): that is why they must share.
    assert sign_in(client, "ｒｏｓａ", PASSWORD, REMOTE_ADDR="198.51.100.7").status_code == 302
    assert client.session["_auth_user_id"] == str(rosa.pk)


def test_production_refuses_to_start_with_a_per_process_cache(tmp_path):
    result = manage(
        "check",
        tmp_path=tmp_path,
        DJANGO_ENV="production",
        SECRET_KEY=random_secret_key(),
        ALLOWED_HOSTS="reports.example.com",
        AUDIT_SIGNING_KEY="k",
    )
    assert result.returncode != 0 and "REDIS_URL must be set in production" in result.stderr


@pytest.fixture
def shared_cache(settings, tmp_path):
    """The default cache on the local Redis, under a prefix of this test's own (a database number few
    use; never flushed: only this test's keys are deleted after)."""
    prefix = f"redteam-{uuid.uuid4().hex}"
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS, "KEY_PREFIX": prefix}
    }
    yield prefix
    client = redis.Redis.from_url(REDIS)
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)


def test_two_processes_count_against_one_limit(client, shared_cache, settings, tmp_path):
    """Another app process (a second gunicorn worker) fails two sign-ins from an address; this one
    fails two more from it; the limit of four holds across both."""
    settings.LOGIN_ATTEMPTS_PER_ADDRESS = 4
    UserFactory(username="rosa")
    other_worker = (
        "from config import throttle; from django.conf import settings; "
        "[throttle.hit(scope='login-ip', subject='192.0.2.10', window=settings.LOGIN_ATTEMPTS_WINDOW_SECONDS) "
        "for _ in range(2)]"
    )
    result = manage("shell", "-c", other_worker, tmp_path=tmp_path, REDIS_URL=REDIS, CACHE_KEY_PREFIX=shared_cache)
    assert result.returncode == 0, result.stderr
    for name in ("guess1", "guess2"):
        sign_in(client, name, "wrong", REMOTE_ADDR="192.0.2.10")
    response = sign_in(client, "rosa", PASSWORD, REMOTE_ADDR="192.0.2.10")
    assert "Too many failed sign-in attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_two_cache_clients_share_the_filing_attempts(shared_cache, settings):
    """The hourly attempt count lives in Redis: a second client (another worker's) sees the same count."""
    settings.REPORTS_PER_HOUR_LIMIT = 3
    reporter = UserFactory()
    for _ in range(3):
        throttle.hit(scope="filing", subject=str(reporter.pk), window=3600)
    from django.core.cache.backends.redis import RedisCache

    other_worker = RedisCache(REDIS, {"KEY_PREFIX": shared_cache})
    key, _remaining = throttle._key("filing", str(reporter.pk), 3600)
    assert other_worker.get(key) == 3 == cache.get(key)
    with pytest.raises(RateLimitExceeded):
        report_file(actor=reporter, target=TargetFactory(), category="spam", reason="one more")


def test_on_redis_a_burst_of_attempts_counts_each_once_and_the_window_expires(shared_cache):
    """throttle.hit's one round trip (a script: INCR, and the expiry on the first): 16
    threads at once get 16 different counts, the count reads back through the cache, and the key
    expires with its window."""
    import threading

    counts: list[int] = []
    start = threading.Barrier(16)

    def attempt() -> None:
        start.wait()
        counts.append(throttle.hit(scope="filing", subject="burst", window=3600))

    # The expiry is set by the first attempt, from the time left then: read it before the burst
    # (read after, it is smaller by however long the threads took, and the test flaked on a slow host).
    key, remaining_before = throttle._key("filing", "burst", 3600)
    threads = [threading.Thread(target=attempt) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(counts) == list(range(1, 17))
    assert cache.get(key) == 16
    ttl = redis.Redis.from_url(REDIS).ttl(cache.make_and_validate_key(key))
    assert 0 < ttl <= remaining_before + 1


# --- behind the TLS proxy ----------------------------------------------------------------------------

PROXY = "10.0.0.5"


def via_proxy(forwarded_for: str) -> dict[str, str]:
    return {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": forwarded_for}


@pytest.mark.parametrize(
    ("forwarded", "count", "client_address"),
    [
        ("203.0.113.7", 1, "203.0.113.7"),
        ("198.51.100.1, 203.0.113.7", 1, "203.0.113.7"),  # the client wrote the first one itself: ignored
        ("203.0.113.7, 10.0.0.9", 2, "203.0.113.7"),  # two proxies
        ("", 1, PROXY),  # no header: the request did not come through the proxy
        ("not-an-address", 1, PROXY),
    ],
)
def test_the_client_is_the_first_untrusted_hop(settings, forwarded, count, client_address):
    settings.BEHIND_TLS_PROXY, settings.TRUSTED_PROXY_COUNT = True, count
    request = RequestFactory().get("/", **via_proxy(forwarded))
    assert throttle.client_ip(request) == client_address


def test_failed_sign_ins_from_one_place_do_not_lock_everyone_out_behind_the_proxy(client, settings):
    settings.BEHIND_TLS_PROXY = True
    victim = UserFactory(username="rosa")
    for number in range(110):
        sign_in(client, f"user{number % 7}", "wrong", **via_proxy("203.0.113.66"))
        sign_in(client, "rosa", "wrong", **via_proxy("1.2.3.4, 203.0.113.66"))  # spoofing the victim's address
    assert sign_in(client, "rosa", PASSWORD, **via_proxy("203.0.113.66")).status_code != 302  # the attacker's
    assert sign_in(client, "rosa", PASSWORD, **via_proxy("198.51.100.20")).status_code == 302
    assert client.session["_auth_user_id"] == str(victim.pk)


# --- a burst of filings ------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_burst_of_filings_stores_exactly_the_limit(settings):
    """Sixteen threads, each its own connection, filing at the same moment. The cache's attempt count
    is emptied (a Redis restart): the database's count under the reporter's row lock alone must hold."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs one writer at a time: there is no race to lose")
    settings.REPORTS_PER_HOUR_LIMIT = 10
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    reporter = UserFactory()
    targets = [TargetFactory() for _ in range(16)]
    barrier = threading.Barrier(16)
    outcomes: list[str] = []

    def file(target) -> None:
        try:
            barrier.wait(timeout=10)
            report_file(actor=reporter, target=target, category="spam", reason="burst")
            outcomes.append("stored")
        except RateLimitExceeded:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=file, args=(target,)) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["refused"] * 6 + ["stored"] * 10
    assert Report.objects.filter(reporter=reporter).count() == 10


# --- staff names ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "hostile",
    ['"><img src=x onerror=alert(1)>', "<script>", "mod\u202eevil", "a b", "x" * 151, "   "],
    ids=["img-onerror", "script", "bidi-override", "space", "too-long", "blank"],
)
def test_create_staff_refuses_names_the_sign_up_form_would(hostile):
    with pytest.raises(CommandError):
        call_command("create_staff", hostile, "--role", "moderator")
    assert not Report.objects.exists()
    from django.contrib.auth import get_user_model

    assert not get_user_model().objects.exists()


def test_create_staff_refuses_a_name_in_other_letter_case_and_normalises_full_width(capsys):
    UserFactory(username="mod")
    with pytest.raises(CommandError, match="other letter case"):
        call_command("create_staff", "MOD", "--role", "admin")
    call_command("create_staff", "ｍｏｄ", "--role", "moderator")  # NFKC: the same account, given a role
    assert "Updated mod as moderator" in capsys.readouterr().out
