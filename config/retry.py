"""How long a delivery that failed waits before its next attempt: the mail outbox (reports/outbox.py)
and the webhook outbox (moderation/enforcement/webhooks.py) back off alike."""

from __future__ import annotations

from datetime import timedelta

MAX_BACKOFF = timedelta(hours=1)


def backoff(attempts: int) -> timedelta:
    """30 s after the first failure, doubling, at most an hour: a relay or receiver down for a while is
    not hammered, and one back up is tried again within the hour."""
    # The exponent is capped first: after weeks of failures 2**attempts would overflow timedelta.
    return min(timedelta(seconds=30 * 2 ** min(max(attempts - 1, 0), 16)), MAX_BACKOFF)
