"""How dates are written to people, in one place: pages, messages and mail alike, in the active
language (the page's, or the recipient's inside config.i18n.language_of), with the time zone named.

English keeps the short forms written here ("5 Dec 2026, 14:00 UTC"); another language takes its
own forms from Django's locale formats (Spanish "5 de diciembre de 2026 a las 14:00 UTC", German
"5. Dezember 2026 14:00 UTC"), with the month's name in that language.
"""

from __future__ import annotations

from datetime import datetime

from django.utils import dateformat, timezone, translation
from django.utils.formats import get_format

#: English's own forms; other languages use Django's (DATETIME_FORMAT, DATE_FORMAT, MONTH_DAY_FORMAT).
_ENGLISH = {
    "long": "j M Y, H:i",
    "day": "j M",
    "day_year": "j M Y",
    "full_day": "j F Y",
    "full_moment": "j F Y, H:i",
}


def _format(kind: str, django_name: str) -> str:
    language = translation.get_language() or "en"
    if language.split("-")[0] == "en":
        return _ENGLISH[kind]
    return get_format(django_name, lang=language, use_l10n=True)


def long_date(moment: datetime) -> str:
    """ "5 Dec 2026, 14:00 UTC": where exactness matters (a deadline, the end of a suspension)."""
    return dateformat.format(timezone.localtime(moment), _format("long", "DATETIME_FORMAT") + " T")


def short_date(moment: datetime) -> str:
    """ "5 Dec" (with the year when it is not this year's): for subjects, which stay short."""
    local = timezone.localtime(moment)
    if local.year == timezone.localtime().year:
        return dateformat.format(local, _format("day", "MONTH_DAY_FORMAT"))
    return dateformat.format(local, _format("day_year", "DATE_FORMAT"))


def full_day(moment: datetime) -> str:
    """ "5 December 2026" (Spanish "5 de diciembre de 2026", German "5. Dezember 2026"): a day in a
    sentence on a person's page or in their mail. Templates: ``{% load dates %}{{ moment|full_day }}``."""
    return dateformat.format(timezone.localtime(moment), _format("full_day", "DATE_FORMAT"))


def full_moment(moment: datetime) -> str:
    """ "5 December 2026, 14:00" (Spanish "5 de diciembre de 2026 a las 14:00", German "5. Dezember
    2026 14:00"): when something was sent or happened. ``{{ moment|full_moment }}``."""
    return dateformat.format(timezone.localtime(moment), _format("full_moment", "DATETIME_FORMAT"))
