"""The Jinja2 side of the templates: the environment of Django's own Jinja2 backend (settings.TEMPLATES,
templates in templates/jinja2/, autoescape on) with its few helpers, and the two Django template tags
that bring a Jinja2 partial or macro into a Django template.

Why Jinja2 at all: the queue's rows appear 25 to 100 times a page. Through Django templates (an
include per row) its results took 7 to 9 times what they took as Python strings; through Jinja2, 1.3
to 1.5 times (README, Benchmarks). So the hot listings are Jinja2 (the queue's results and filters,
the report page's side lists, the badges they share with every page); every other page is a Django
template.

Each helper answers what its Django counterpart answers, for the same input (tests/test_jinja2.py
compares them):

| in Jinja2                      | Django's                                    |
|--------------------------------|---------------------------------------------|
| ``obj|label("field")``         | ``obj.get_<field>_display()``               |
| ``moment|date("j M, H:i")``    | ``{{ moment|date:"j M, H:i" }}``            |
| ``text|truncatechars(48)``     | ``{{ text|truncatechars:48 }}``             |
| ``url("app:name", pk)``        | ``{% url "app:name" pk %}``                 |
| ``static("css/app.css")``      | ``{% static "css/app.css" %}``              |
| ``moment|localtime``, ``n|intcomma``, ``n|pluralize``, ``n|floatformat(2)`` | Django's own, registered as they are |
| ``_("text")``, ``gettext``, ``ngettext``, ``{% trans %}`` | Django's gettext (jinja2.ext.i18n, newstyle) |

Text is translated with Django's own catalogues in the active language: ``{{ _("Queue") }}``, with
placeholders as keyword arguments (``_("%(n)s reports", n=count)``; newstyle gettext escapes them).
``manage.py makemessages`` finds these: Django's template lexer reads ``_("...")`` inside ``{{ }}``
(its own syntax for a translated literal), and our makemessages (reports/management/commands/
makemessages.py) adds templates/jinja2 to what it reads and refuses a Jinja2 ``{% trans %}`` block,
which Django's lexer would miss.

The backend itself adds ``request``, ``csrf_input`` and ``csrf_token`` when a template is rendered
with a request.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from datetime import date as Date
from datetime import datetime
from urllib.parse import quote

import jinja2
from django import template
from django.contrib.humanize.templatetags.humanize import intcomma
from django.core.signals import setting_changed
from django.db.models import Model
from django.dispatch import receiver
from django.template import engines
from django.template.defaultfilters import date as django_date
from django.template.defaultfilters import floatformat, pluralize
from django.templatetags.static import static
from django.templatetags.tz import localtime
from django.urls import NoReverseMatch, get_script_prefix, reverse
from django.utils import translation
from django.utils.dates import MONTHS, MONTHS_3, WEEKDAYS_ABBR
from django.utils.formats import FORMAT_SETTINGS
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator, add_truncation_text
from django.utils.timezone import template_localtime
from django.utils.translation import trans_real
from markupsafe import Markup


def environment(**options) -> jinja2.Environment:
    # Every value is escaped, whatever the settings say (Django's backend passes its own default, True).
    options.pop("autoescape", None)
    env = jinja2.Environment(autoescape=True, **options)
    env.add_extension("jinja2.ext.i18n")
    # Django's catalogues, so that both engines read the same ones, in the render's language.
    env.install_gettext_callables(gettext=_gettext, ngettext=_ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.filters.update(
        label=_in_render_language(label),
        date=_in_render_language(date),
        localtime=localtime,
        truncatechars=_in_render_language(truncatechars),
        intcomma=intcomma,
        pluralize=pluralize,
        floatformat=floatformat,
    )
    env.globals.update(url=url, static=static)
    return env


# --- the render's language -----------------------------------------------------------------------
# Asking Django for the active language (and gettext, which asks it too) reads a thread-and-task
# local, about 1.5 µs a call; a queue page of 25 rows asked it some 500 times, and that was most of
# what the page's translation cost (2.4 ms of a 6 ms render, profiled). A render reads it once: the
# i18n context processor puts LANGUAGE_CODE in the context (settings.TEMPLATES), and the filters and
# gettext below take it from there. A macro imported without context has none and asks Django.


def _in_render_language(helper: Callable[..., str]) -> Callable[..., str]:
    """The filter `helper`, given the render's language (None where the context has none)."""

    @jinja2.pass_context
    @functools.wraps(helper)
    def in_language(context: jinja2.runtime.Context, *args: object) -> str:
        return helper(*args, language=context.get("LANGUAGE_CODE"))

    return in_language


@jinja2.pass_context
def _gettext(context: jinja2.runtime.Context, message: str) -> str:
    """Django's gettext (django.utils.translation.trans_real.gettext) in the render's language."""
    language = context.get("LANGUAGE_CODE")
    if language is None or not message:
        return translation.gettext(message)
    return trans_real.translation(language).gettext(message.replace("\r\n", "\n").replace("\r", "\n"))


@jinja2.pass_context
def _ngettext(context: jinja2.runtime.Context, singular: str, plural: str, number: int) -> str:
    language = context.get("LANGUAGE_CODE")
    if language is None:
        return translation.ngettext(singular, plural, number)
    return trans_real.translation(language).ngettext(singular, plural, number)


# --- choice labels -------------------------------------------------------------------------------


@functools.cache
def _choice_labels(model: type[Model], field: str, language: str | None) -> dict[str, str]:
    """{value: label} of a model field's choices, in one language. get_<field>_display() rebuilds
    this dict on every call (a hundred calls a queue page); here it is made once per model, field
    and language."""
    with translation.override(language):
        return {str(value): str(label) for value, label in model._meta.get_field(field).flatchoices}


def label(obj: Model, field: str, *, language: str | None = None) -> str:
    """``obj|label("category")``: what ``obj.get_category_display()`` answers, in `language` (the
    render's; the active one by default)."""
    value = getattr(obj, field)
    return _choice_labels(type(obj), field, language or translation.get_language()).get(value, value)


# --- dates ---------------------------------------------------------------------------------------
# Month and day names (and the ellipsis of truncatechars) are those of the active language (the
# request's, set by LocaleMiddleware and the account), built once per language.


@functools.cache
def _names(language: str | None) -> dict[str, tuple[str, ...]]:
    """Django's own names (django.utils.dates), as DateFormat writes them, in `language`."""
    with translation.override(language):
        return {
            "D": tuple(str(WEEKDAYS_ABBR[day]) for day in range(7)),
            "F": ("", *(str(MONTHS[month]) for month in range(1, 13))),
            "M": ("", *(str(MONTHS_3[month]).title() for month in range(1, 13))),
        }


# The format characters Django's dateformat reads (django.utils.dateformat.re_formatchars).
_FORMAT_CHARACTERS = frozenset("aAbcdDeEfFgGhHiIjlLmMnNoOPrsStTUuwWyYzZ")
# Those built here, each as django.utils.dateformat.DateFormat builds it.
_FORMATTERS: dict[str, Callable[[datetime, dict], str]] = {
    "c": lambda moment, names: moment.isoformat(),
    "d": lambda moment, names: f"{moment.day:02d}",
    "D": lambda moment, names: names["D"][moment.weekday()],
    "F": lambda moment, names: names["F"][moment.month],
    "H": lambda moment, names: f"{moment.hour:02d}",
    "i": lambda moment, names: f"{moment.minute:02d}",
    "j": lambda moment, names: str(moment.day),
    "M": lambda moment, names: names["M"][moment.month],
    "Y": lambda moment, names: f"{moment.year:04d}",
}


# The characters above that a day (a date without a time) has: Django's DateFormat writes these for
# a date, and refuses the time ones.
_DAY_CHARACTERS = frozenset("dDFjMY")


@functools.cache
def _day_format(format_string: str) -> bool:
    """Whether the format asks only what a date has (its formatter then serves dates too)."""
    return not (set(format_string) & _FORMAT_CHARACTERS) - _DAY_CHARACTERS


@functools.cache
def _date_formatter(format_string: str) -> Callable[[datetime], str] | None:
    """The format compiled into literal strings and formatters, or None when it uses something only
    Django builds (a named format such as DATE_FORMAT, an escape, another character): those go
    through Django's own filter."""
    if format_string in FORMAT_SETTINGS or "\\" in format_string:
        return None
    parts: list[str | Callable[[datetime, dict], str]] = []
    for character in format_string:
        if character not in _FORMAT_CHARACTERS:
            parts.append(character)
        elif character in _FORMATTERS:
            parts.append(_FORMATTERS[character])
        else:
            return None

    def formatted(moment: datetime, language: str | None) -> str:
        names = _names(language)
        return "".join(part if isinstance(part, str) else part(moment, names) for part in parts)

    return formatted


def date(value, format_string: str, *, language: str | None = None) -> str:
    """``moment|date("j M Y, H:i")``: Django's |date, in the current time zone. Django formats each
    call through a DateFormat object, a regular expression and translated names (about 10 µs); the
    queue shows six dates a row, a 90-day dashboard some 1,400 days (dates, in day formats). A moment
    shown in several formats is converted to local time once with Django's own ``|localtime`` (which
    marks it so that this filter does not convert it again)."""
    value = template_localtime(value)
    if isinstance(value, datetime) or (isinstance(value, Date) and _day_format(format_string)):
        formatter = _date_formatter(format_string)
        if formatter is not None:
            return formatter(value, language or translation.get_language())
    return django_date(value, format_string)


# --- truncation ----------------------------------------------------------------------------------


@functools.cache
def _ellipsis(language: str | None) -> str:
    with translation.override(language):
        return add_truncation_text("")


def truncatechars(value, length: int, *, language: str | None = None) -> str:
    """``text|truncatechars(48)``: Django's |truncatechars. Django walks the text a character at a
    time (combining marks, NFC normalisation) on every call; plain ASCII text has neither, so it
    is cut at once (with the site language's ellipsis, when it is the usual one)."""
    text = str(value)
    if text.isascii() and length > 0:
        if len(text) <= length:
            return text
        ellipsis = _ellipsis(language or translation.get_language())
        if ellipsis == "…":
            return text[: length - 1] + ellipsis
    return Truncator(text).chars(length)


# --- URLs ----------------------------------------------------------------------------------------

# Stands for the id in a URL reversed once; a route whose converter refuses it is reversed per call.
_PLACEHOLDER = "00000000-0000-0000-0000-000000000000"
# What reverse() leaves unquoted in a path (django.urls.resolvers: RFC 3986 sub-delims and "/~:@").
_SAFE_IN_PATH = "!$&'()*+,;=/~:@"


@functools.cache
def _url_pattern(name: str, prefix: str) -> str | None:
    try:
        return reverse(name, args=[_PLACEHOLDER])
    except NoReverseMatch:  # the route's converter refuses the placeholder (an integer id, say)
        return None


@functools.cache
def _plain_url(name: str, prefix: str) -> str:
    return reverse(name)


def url(name: str, pk: object = None) -> str:
    """``url("moderation:report", report.pk)``: what reverse(name, args=[pk]) answers, reversed once
    per route (and script prefix) and filled with each id: reverse() costs about 10 µs, and a queue
    page links 25-100 rows. Without an id, reverse(name), also once. For the project's URLconf
    (ROOT_URLCONF; no view sets a request's own)."""
    prefix = get_script_prefix()
    if pk is None:
        return _plain_url(name, prefix)
    pattern = _url_pattern(name, prefix)
    if pattern is None:
        return reverse(name, args=[pk])
    # UUIDs and integers are URL-safe as they are; anything else is quoted as reverse() quotes it.
    filled = str(pk) if isinstance(pk, uuid.UUID | int) else quote(str(pk), safe=_SAFE_IN_PATH)
    return pattern.replace(_PLACEHOLDER, filled)


@receiver(setting_changed)
def _forget_urls(*, setting: str, **kwargs) -> None:
    # As Django forgets its own URL caches when a test changes the URLconf.
    if setting == "ROOT_URLCONF":
        _url_pattern.cache_clear()
        _plain_url.cache_clear()


# --- Jinja2 inside Django templates --------------------------------------------------------------
# Loaded in Django templates as {% load jinja2 %} (settings.TEMPLATES, "libraries").

register = template.Library()


@register.simple_tag(takes_context=True)
def jinja2_include(context: template.Context, template_name: str) -> SafeString:
    """``{% jinja2_include "moderation/_queue_results.html" %}``: a Jinja2 partial rendered in place
    with the Django template's context, as {% include %} would."""
    partial = engines["jinja2"].get_template(template_name)
    html = partial.render(context.flatten(), request=getattr(context, "request", None))
    # bandit B308/B703: the output of an autoescaping Jinja2 template, not text assembled here
    return mark_safe(html)  # noqa: S308  # nosec B308 B703


@register.simple_tag
def jinja2_macro(template_name: str, macro_name: str, *args) -> Markup:
    """``{% jinja2_macro "reports/_badges.html" "status_badge" report %}``: one macro of a Jinja2
    template, called from a Django template, so that both engines show the same markup from one
    source. A macro returns markup (escaped when it was built), which Django shows as it is."""
    return getattr(engines["jinja2"].env.get_template(template_name).module, macro_name)(*args)
