"""Who else has a report open, and who is mid-way through a decision on it.

A heartbeat through the shared cache (Django's cache API: Redis in production, so every app server
sees every beat; no new server process, no database). An open report page beats every
PRESENCE_HEARTBEAT_SECONDS from static/js/presence.js, and its page loads beat too, so a page
without JavaScript is still seen for a while. Each person's beat is a cache key of its own that
expires after three beats: a closed tab or a lost connection leaves by itself, and two people's beats
never overwrite each other. Reading is one get_many over the staff list's keys (that list is cached
for a minute, so someone made staff in the last minute is not shown until it refreshes).

Presence is a courtesy, not a record: nothing here is audited, and a decision never depends on it
alone. The review and decision forms still refuse a report that moved since it was read
(`expected_status`); presence only asks once before acting on a report someone else is working on.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from moderation.selectors import staff_members

VIEWING, REVIEWING, DECIDING = "viewing", "reviewing", "deciding"
#: What each state reads as after the person's name.
DOING_LABELS = {
    VIEWING: "has it open",
    REVIEWING: "is writing a review",
    DECIDING: "is on the decision form",
}
#: Mid-way: acting now would cut across their work, so the form asks once.
WORKING = frozenset({REVIEWING, DECIDING})


def heartbeat_seconds() -> int:
    return settings.PRESENCE_HEARTBEAT_SECONDS


def _ttl() -> int:
    return 3 * heartbeat_seconds()


def _key(report_id: uuid.UUID | str, user_id: int) -> str:
    return f"presence:{report_id}:{user_id}"


@dataclass(frozen=True)
class Present:
    user_id: int
    username: str
    doing: str

    @property
    def doing_label(self) -> str:
        return DOING_LABELS[self.doing]


def beat(*, report_id: uuid.UUID | str, user: AbstractBaseUser, doing: str) -> None:
    """`user` is on the report's page (or its decision form) now."""
    if doing not in DOING_LABELS:
        doing = VIEWING
    cache.set(_key(report_id, user.pk), {"name": user.get_username(), "doing": doing, "at": time.time()}, _ttl())


def leave(*, report_id: uuid.UUID | str, user: AbstractBaseUser) -> None:
    """The page was closed (or the person acted): gone at once rather than when the beat expires."""
    cache.delete(_key(report_id, user.pk))


def others_on(*, report_id: uuid.UUID | str, user: AbstractBaseUser) -> list[Present]:
    """Everyone else whose beat on this report has not expired, by name. One cache round trip."""
    keys = {_key(report_id, member.pk): member.pk for member in staff_members() if member.pk != user.pk}
    found = cache.get_many(list(keys)) if keys else {}
    present = [
        Present(user_id=keys[key], username=entry["name"], doing=entry["doing"])
        for key, entry in found.items()
        if isinstance(entry, dict) and entry.get("doing") in DOING_LABELS
    ]
    return sorted(present, key=lambda person: person.username.casefold())


def describe(others: list[Present]) -> str:
    """The line the page shows (and the heartbeat answers): one source for its words."""
    if not others:
        return ""
    return "Also here: " + "; ".join(f"{person.username} {person.doing_label}" for person in others) + "."


def not_yet_confirmed(*, report_id: uuid.UUID | str, user: AbstractBaseUser, go_ahead: str) -> list[Present]:
    """Those mid-way on the report whom the person has not yet been told about.

    A form posts `go_ahead`: the ids of the people its refusal named ("mia is working on this report
    — submit again to go ahead"). Submitting again with them goes ahead; someone new starting
    meanwhile asks once more."""
    told = {int(part) for part in go_ahead.split(",") if part.strip().isdigit()}
    return [
        person
        for person in others_on(report_id=report_id, user=user)
        if person.doing in WORKING and person.user_id not in told
    ]


def go_ahead_value(people: list[Present]) -> str:
    return ",".join(str(person.user_id) for person in people)


def refusal(people: list[Present]) -> str:
    names = _(" and ").join(person.username for person in people)
    return ngettext(
        "%(names)s is working on this report — submit again to go ahead.",
        "%(names)s are working on this report — submit again to go ahead.",
        len(people),
    ) % {"names": names}
