"""A fixed-window counter over Django's cache, for sign-in attempts and anonymous forms.

With several app servers the cache must be shared (REDIS_URL); the per-process default is right
for one server and for tests.
"""

from __future__ import annotations

import hashlib
import time

from django.core.cache import cache
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    # Behind the load balancer REMOTE_ADDR is the balancer; it must set X-Forwarded-For, and only
    # its own (first hop) address is trusted, which is what BEHIND_TLS_PROXY deployments configure.
    return request.META.get("REMOTE_ADDR", "unknown")


def _key(scope: str, subject: str, window: int) -> tuple[str, int]:
    bucket = int(time.time()) // window
    # Hashed: a username may hold characters no cache backend accepts in a key.
    digest = hashlib.sha256(subject.encode()).hexdigest()[:32]
    return f"throttle:{scope}:{digest}:{bucket}", window - int(time.time()) % window


def retry_after(*, scope: str, subject: str, limit: int, window: int) -> int | None:
    """Seconds to wait if `subject` already used `limit` attempts in this window, else None."""
    key, remaining = _key(scope, subject, window)
    return remaining if cache.get(key, 0) >= limit else None


def hit(*, scope: str, subject: str, window: int) -> int:
    key, remaining = _key(scope, subject, window)
    cache.add(key, 0, timeout=remaining + 1)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window)
        return 1


def reset(*, scope: str, subject: str, window: int) -> None:
    cache.delete(_key(scope, subject, window)[0])
