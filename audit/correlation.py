"""The correlation id of the unit of work in progress: what ties its audit events together.

A web request binds its request id here (config/requestlog.py), so every event it records carries
the id of its log line; `audit.services.record` uses it when the service passes none of its own (a
decision's or a bulk action's explicit id wins). A ContextVar, so that gunicorn's threads (and any
async code) each see their own. No model imports: the logging configuration reads it too, before
the apps are loaded.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_current: ContextVar[uuid.UUID | None] = ContextVar("audit_correlation", default=None)


@contextmanager
def correlated(correlation_id: uuid.UUID) -> Iterator[uuid.UUID]:
    """Within the block, events recorded without an explicit correlation id get this one."""
    token = _current.set(correlation_id)
    try:
        yield correlation_id
    finally:
        _current.reset(token)


def current() -> uuid.UUID | None:
    """The correlation id bound by the surrounding request (or task), if any."""
    return _current.get()
