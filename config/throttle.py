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


@functools.cache
def _redis(location: str):
    """A client of the cache's Redis, one connection pool per process (as the cache's own)."""
    import redis

    return redis.Redis.from_url(location)


def _redis_location() -> str | None:
    config = settings.CACHES["default"]
    return config.get("LOCATION") if config["BACKEND"] == "django.core.cache.backends.redis.RedisCache" else None


def hit(*, scope: str, subject: str, window: int) -> int:
    """Count one attempt; the count so far in this window."""
    key, remaining = _key(scope, subject, window)
    location = _redis_location()
    if location:
        # One round trip where the cache's API takes three (add, then incr's exists and incr): a
        # filing counts every attempt. The key and the number as the cache writes them, so that
        # retry_after's cache.get reads the count.
        with _redis(location).pipeline(transaction=True) as pipe:
            pipe.set(cache.make_and_validate_key(key), 0, ex=remaining + 1, nx=True)
            pipe.incr(cache.make_and_validate_key(key))
            return pipe.execute()[1]
    cache.add(key, 0, timeout=remaining + 1)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window)
        return 1


def reset(*, scope: str, subject: str, window: int) -> None:
    cache.delete(_key(scope, subject, window)[0])
