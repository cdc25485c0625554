"""{% load dates %}: config/dates.py's forms as template filters, so that a page or a mail writes a day
the way its language does ("5 December 2026", "5 de diciembre de 2026", "5. Dezember 2026") instead of
one English pattern with translated month names ("5 diciembre 2026", "5 Dezember 2026")."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils import dateformat, timezone

from config import dates

register = template.Library()


@register.filter
def full_day(moment: datetime | None) -> str:
    return dates.full_day(moment) if moment else ""


@register.filter
def full_moment(moment: datetime | None) -> str:
    return dates.full_moment(moment) if moment else ""


@register.filter
def full_moment_zone(moment: datetime | None) -> str:
    """full_moment with the time zone named ("… 14:00 UTC"), where a reader may be elsewhere."""
    if not moment:
        return ""
    return f"{dates.full_moment(moment)} {dateformat.format(timezone.localtime(moment), 'e')}"
