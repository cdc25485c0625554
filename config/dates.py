"""How dates are written to people, in one place: pages, messages and mail alike."""

from __future__ import annotations

from datetime import datetime

from django.utils import dateformat, timezone


def long_date(moment: datetime) -> str:
    """"5 Dec 2026, 14:00 UTC": where exactness matters (a deadline, the end of a suspension)."""
    return dateformat.format(timezone.localtime(moment), "j M Y, H:i T")


def short_date(moment: datetime) -> str:
    """"5 Dec" (with the year when it is not this year's): for subjects, which stay short."""
    local = timezone.localtime(moment)
    return dateformat.format(local, "j M" if local.year == timezone.localtime().year else "j M Y")
