"""What the app's code needs of the task engine (config/celery.py), in two helpers:

- `wake_after_commit(name, run_here=...)`: after the current transaction commits, ask a worker to
  run the named task (the outboxes: mail and webhooks). With a broker: one message per task per
  WAKE_EVERY_SECONDS per process, to run at the end of that slot of time, so every commit of the
  slot is covered by a run that starts after it (the task delivers every row that is due: a burst
  of filings needs one wake, not one each). The schedule runs the task every few seconds anyway.
  Without a broker (the demo, the tests on SQLite: CELERY_TASK_ALWAYS_EAGER) `run_here` runs in
  this process right after the commit. A broker that is down costs a log line: the row is
  written and the schedule's next run delivers it.
- `single_run(name, timeout)`: a periodic job's lock, so that two schedulers (two `celery beat` on
  two hosts) or a job still running when its next tick comes never do the same work twice. A Redis
  lock on the broker with a timeout (a worker killed holding it frees it when it expires); without
  a broker there is one process and no lock to take.
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
import uuid
from collections.abc import Callable, Iterator

from django.conf import settings
from django.db import transaction

logger = logging.getLogger(__name__)

#: A process asks for the same task at most this often (seconds); see the module's docstring. A
#: mail waits at most this long for its wake: a second, against the 3% of a filing's CPU in
#: gunicorn that publishing a wake four times a second per process cost (py-spy, README "Filing").
WAKE_EVERY_SECONDS = 1.0

_woken_slot: dict[str, int] = {}


def embedded() -> bool:
    """No broker: tasks run in the process that asks for them (the demo, the SQLite tests)."""
    return bool(settings.CELERY_TASK_ALWAYS_EAGER)


def _send(name: str) -> None:
    now = time.time()
    slot = math.floor(now / WAKE_EVERY_SECONDS) + 1
    if _woken_slot.get(name) == slot:
        return  # a wake for the end of this slot is on its way: it comes after this commit too
    _woken_slot[name] = slot
    from config.celery import app

    try:
        app.send_task(name, countdown=max(slot * WAKE_EVERY_SECONDS - now, 0.0))
    except Exception:  # the broker is down: the row is written; the schedule delivers it later
        logger.warning("could not wake %s; the schedule will run it", name, exc_info=True)


def wake_after_commit(name: str, *, run_here: Callable[[], object]) -> None:
    """Ask for task `name` once the current transaction commits. Several asks in one transaction cost
    one message (the debounce of `_send`); without a broker, the first run delivers everything and
    the others find nothing left (a query each)."""
    if embedded():
        transaction.on_commit(run_here, robust=True)
    else:
        transaction.on_commit(lambda: _send(name), robust=True)


@contextlib.contextmanager
def single_run(name: str, *, timeout: float) -> Iterator[bool]:
    """Yields True when this process holds job `name`'s lock (then runs the job), False when another
    does. The lock expires after `timeout` seconds whatever happens to its holder."""
    url = settings.CELERY_BROKER_URL
    if not url.startswith(("redis://", "rediss://", "unix://")):
        # No broker (one process, nothing to race), or one that is not Redis (RabbitMQ): then the
        # jobs' own row claims are the only guard (each is safe alone; see README, "Background work").
        yield True
        return
    import redis

    client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
    lock = client.lock(f"{settings.CACHE_KEY_PREFIX}:job:{name}", timeout=timeout, blocking=False, thread_local=False)
    token = uuid.uuid4().hex.encode()
    acquired = lock.acquire(blocking=False, token=token)
    try:
        yield acquired
    finally:
        if acquired:
            with contextlib.suppress(Exception):  # expired meanwhile: someone else's now, not ours to free
                lock.release()
        client.close()
