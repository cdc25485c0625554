"""A fixed-window counter over Django's cache, for the per-address sign-in limit and anonymous forms,
and the client's address they count by.

The cache must be shared by every app process (REDIS_URL, which production requires): a count kept
in each process's memory lets each worker through the whole limit. The per-process default is for
development and tests on one process.
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """The address the request came from: REMOTE_ADDR, or behind the TLS proxies (BEHIND_TLS_PROXY)
    the first untrusted hop of X-Forwarded-For.

    Each proxy appends the address it was reached from, so with TRUSTED_PROXY_COUNT proxies the
    client is that many entries from the right; whatever the client wrote itself is further left
    and never read. Without enough entries (the request skipped a proxy) or with something that is
    not an address there, REMOTE_ADDR counts.
    """
    remote = request.META.get("REMOTE_ADDR") or "unknown"
    if not settings.BEHIND_TLS_PROXY:
        return remote
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    if len(hops) < settings.TRUSTED_PROXY_COUNT:
        return remote
    try:
        return str(ipaddress.ip_address(hops[-settings.TRUSTED_PROXY_COUNT]))
    except ValueError:
        return remote


def axes_client_ip(request: HttpRequest) -> str | None:
    """django-axes' AXES_CLIENT_IP_CALLABLE: client_ip, or None when the request has no address (a
    sign-in made in code, as tests' force_login does); axes stores it in an IP address column."""
    address = client_ip(request)
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


def _key(scope: str, subject: str, window: int) -> tuple[str, int]:
    bucket = int(time.time()) // window
    # Hashed: a username may hold characters no cache backend accepts in a key.
    digest = hashlib.sha256(subject.encode()).hexdigest()[:32]
    return f"throttle:{scope}:{digest}:{bucket}", window - int(time.time()) % window


def retry_after(*, scope: str, subject: str, limit: int, window: int) -> int | None:
    """Seconds to wait if `subject` already used `limit` attempts in this window, else None."""
    key, remaining = _key(scope, subject, window)
    return remaining if cache.get(key, 0) >= limit else None


# INCR, and on the window's first attempt its expiry: one command, atomic on the server.
_COUNT_SCRIPT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count
"""


@functools.cache
def _redis_counter(location: str):
    """The counting script on the cache's Redis, with a connection pool per process (as the cache's own)."""
    import redis

    return redis.Redis.from_url(location).register_script(_COUNT_SCRIPT)


def _redis_location() -> str | None:
    config = settings.CACHES["default"]
    return config.get("LOCATION") if config["BACKEND"] == "django.core.cache.backends.redis.RedisCache" else None


def hit(*, scope: str, subject: str, window: int) -> int:
    """Count one attempt; the count so far in this window."""
    key, remaining = _key(scope, subject, window)
    location = _redis_location()
    if location:
        # One round trip where the cache's API takes three (add, then incr's exists and incr): a
        # filing counts every attempt (this script 67-82 µs of CPU, a MULTI of SET NX and INCR
        # 100-116, in one process, 2026-11-30). The key and the number as the cache writes them, so
        # that retry_after's cache.get reads the count.
        return int(_redis_counter(location)(keys=[cache.make_and_validate_key(key)], args=[remaining + 1]))
    cache.add(key, 0, timeout=remaining + 1)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window)
        return 1


def reset(*, scope: str, subject: str, window: int) -> None:
    cache.delete(_key(scope, subject, window)[0])
