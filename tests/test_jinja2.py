"""config/jinja2.py: every Jinja2 helper answers what its Django counterpart answers for the same input,
the environment escapes, and the Django tags that bring Jinja2 into Django templates show the same
markup as Jinja2 does (the status badge has one source)."""

from __future__ import annotations

import html
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from django.contrib.humanize.templatetags import humanize
from django.http import QueryDict
from django.template import Context, RequestContext, Template, defaultfilters, engines
from django.test import RequestFactory
from django.urls import get_script_prefix, reverse, set_script_prefix
from django.utils import timezone, translation
from hypothesis import given, settings
from hypothesis import strategies as st
from pytest_django.asserts import assertHTMLEqual

from config import jinja2 as helpers
from moderation.enforcement.models import Sanction
from moderation.filters import ReportQueueFilterSet
from moderation.forms import QueueDisplayForm
from reports.models import Report, ReportStatus
from tests.html import attr, one, text

JINJA2 = engines["jinja2"]


def jinja(source: str, **context) -> str:
    return JINJA2.from_string(source).render(context)


def django(source: str, **context) -> str:
    return Template(source).render(Context(context))


def test_the_environment_escapes_and_registers_djangos_own_filters():
    assert jinja("{{ text }}", text='<b class="x">&') == "&lt;b class=&#34;x&#34;&gt;&amp;"
    env = JINJA2.env
    assert env.autoescape is True
    assert env.filters["intcomma"] is humanize.intcomma and env.filters["pluralize"] is defaultfilters.pluralize
    assert jinja("{{ n|intcomma }} report{{ n|pluralize }}", n=12345) == "12,345 reports"


# --- label ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "field"),
    [
        (Report, "status"),
        (Report, "category"),
        (Report, "severity"),
        (Report, "report_type"),
        (Report, "channel"),
        (Sanction, "kind"),
        (Sanction, "status"),
    ],
)
def test_label_reads_as_get_display(model, field):
    for value, _label in model._meta.get_field(field).flatchoices:
        obj = model(**{field: value})
        assert helpers.label(obj, field) == getattr(obj, f"get_{field}_display")()
    unknown = model(**{field: "<not a choice>"})
    assert helpers.label(unknown, field) == getattr(unknown, f"get_{field}_display")() == "<not a choice>"
    assert jinja('{{ obj|label("' + field + '") }}', obj=unknown) == "&lt;not a choice&gt;"


# --- date ----------------------------------------------------------------------------------------

# The formats the templates use, and some only Django's filter builds (named, escaped, other codes).
FORMATS = [
    "c",
    "j M",
    "j M, H:i",
    "j M Y",
    "j M Y, H:i",
    "d M",
    "D j M",
    "j F Y, H:i",
    "DATE_FORMAT",
    "N j, Y, P",
    r"\a\t H:i",
    "l jS F",
]


@settings(max_examples=60, deadline=None)
@given(
    moment=st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)),
    zone=st.sampled_from(["UTC", "Europe/Berlin", "America/Los_Angeles", "Asia/Kolkata"]),
)
def test_date_writes_what_djangos_date_filter_writes_in_the_current_time_zone(moment, zone):
    with timezone.override(zone):
        for format_string in FORMATS:
            ours = jinja("{{ moment|date(format) }}", moment=moment, format=format_string)
            theirs = django("{{ moment|date:format }}", moment=moment, format=format_string)
            assert html.unescape(ours) == html.unescape(theirs), format_string


def test_date_of_a_day_a_naive_moment_and_nothing():
    day, naive = date(2026, 2, 3), datetime(2026, 2, 3, 4, 5)
    for value in (day, naive, None, ""):
        for format_string in ("j M Y", "D j M", "d M", "F Y", "DATE_FORMAT"):
            assert helpers.date(value, format_string) == defaultfilters.date(value, format_string)
    # A day in a format with a time goes to Django, which refuses it as before.
    for helper in (helpers.date, defaultfilters.date):
        with pytest.raises(TypeError, match="time-related"):
            helper(day, "j M, H:i")


@pytest.mark.parametrize("language", ["en", "es", "de"])
def test_days_are_written_as_django_writes_them_in_every_language(language):
    from django.utils import translation

    with translation.override(language):
        for day in (date(2026, month, 1 + month) for month in range(1, 13)):
            for format_string in ("d M", "D j M", "j F Y"):
                assert helpers.date(day, format_string) == defaultfilters.date(day, format_string)


# --- truncatechars -------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(
    value=st.one_of(
        st.text(alphabet=st.characters(codec="ascii"), max_size=130),
        st.text(max_size=130),  # any Unicode: combining marks, text NFC normalisation changes
        st.sampled_from(["e\u0301" * 60, "ﬁ" * 60, "…" * 60, "a" * 110, "a" * 111, ""]),
    ),
    length=st.integers(min_value=-2, max_value=120),
)
def test_truncatechars_cuts_as_djangos_filter_does(value, length):
    assert helpers.truncatechars(value, length) == defaultfilters.truncatechars(value, length)


def test_truncatechars_output_is_escaped_once():
    assert jinja("{{ text|truncatechars(7) }}", text="<b>&bold words") == "&lt;b&gt;&amp;bo…"
    assert helpers.truncatechars(None, 10) == defaultfilters.truncatechars(None, 10) == "None"


# --- url -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "pk"),
    [
        ("moderation:report", uuid.uuid4()),  # a str route
        ("moderation:report", "needs quoting é ?#&"),
        ("enforcement:sanction", uuid.uuid4()),  # a uuid route
        ("enforcement:account", 42),  # an int route: the placeholder does not fit, reversed each time
        ("moderation:queue", None),
    ],
)
def test_url_fills_what_reverse_gives(name, pk):
    args = [] if pk is None else [pk]
    assert helpers.url(name, pk) == reverse(name, args=args)
    prefix = get_script_prefix()
    set_script_prefix("/desk/")
    try:
        assert helpers.url(name, pk) == reverse(name, args=args) and helpers.url(name, pk).startswith("/desk/")
    finally:
        set_script_prefix(prefix)
    assert helpers.url(name, pk) == reverse(name, args=args)
    escaped = jinja("{{ url(name, pk) }}", name=name, pk=pk)
    assert html.unescape(escaped) == reverse(name, args=args)


def test_static_is_djangos():
    assert jinja('{{ static("js/queue.js") }}') == django('{% load static %}{% static "js/queue.js" %}')


# --- Jinja2 inside Django templates --------------------------------------------------------------


@pytest.mark.parametrize("status", ReportStatus.values)
def test_the_status_badge_is_one_macro_for_both_engines(status):
    report = Report(status=status)
    expected = f'<span class="badge badge-{status}" data-status="{status}">{report.get_status_display()}</span>'
    from_jinja2 = jinja(
        '{% from "reports/_badges.html" import status_badge %}{{ status_badge(report) }}', report=report
    )
    from_django = django(
        '{% load jinja2 %}{% jinja2_macro "reports/_badges.html" "status_badge" report %}', report=report
    )
    assertHTMLEqual(from_jinja2, expected)
    assertHTMLEqual(from_django, expected)  # not escaped a second time by Django


def test_a_jinja2_partial_in_a_django_template_sees_its_context_and_request(rf):
    request = rf.get("/")
    request.user = type("Anonymous", (), {"pk": None, "is_authenticated": False})()
    partial = Template(
        '{% load jinja2 %}<div>{% with query="a=1&b=<2>" %}{% jinja2_include "moderation/_queue_results.html" %}'
        "{% endwith %}</div>"
    ).render(
        RequestContext(
            request,
            {
                "page": type("EmptyPage", (), {"object_list": [], "paginator": type("P", (), {"count": 0})()})(),
                "status_tabs": [("open", "Open", None, "status=open")],
                "sort_links": [],
                "page_size_links": [],
                "current_status": "open",
            },
        )
    )
    # The context's text escaped once, by Jinja2, and the partial's markup left as it is by Django.
    assert attr(one(partial, "div", class_="queue-results"), "data-query") == "a=1&b=<2>"
    assert "&amp;amp;" not in partial and "&lt;div" not in partial
    assert text(one(partial, "p", class_="muted")).startswith("Nothing open in this view")


def test_the_bridge_passes_the_request_so_forms_carry_the_csrf_token(client, moderator):
    from tests.factories import ReportFactory
    from tests.html import elements

    ReportFactory()
    client.force_login(moderator)
    page = client.get(reverse("moderation:queue")).content.decode()
    bulk = one(page, "form", id="bulk-form")
    token = one(bulk, "input", name="csrfmiddlewaretoken")
    assert attr(token, "value") and len(attr(token, "value")) == 64
    assert elements(page, "input", name="csrfmiddlewaretoken")  # the page's own forms too


# --- the select macro ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    ["", "status=closed&category=spam&assignee=me&sort=newest&escalated=no", "severity=nonsense&report_type=<x>"],
)
def test_the_select_macro_draws_what_djangos_select_widget_draws(db, moderator, query):
    staff = [moderator]
    form = ReportQueueFilterSet(
        QueryDict(query), queryset=Report.objects.none(), request=RequestFactory().get("/"), staff=staff
    ).form
    form.is_valid()
    macro = '{% from "_select.html" import select %}{{ select(field) }}'
    for name in ("status", "report_type", "category", "severity", "assignee", "escalated", "sort"):
        field = form[name]
        assertHTMLEqual(jinja(macro, field=field), str(field))
        if field.errors:
            assert 'aria-invalid="true"' in jinja(macro, field=field)
    display = QueueDisplayForm(QueryDict("per_page=50"))
    assertHTMLEqual(jinja(macro, field=display["per_page"]), str(display["per_page"]))


def test_the_select_macro_marks_a_value_given_instead_of_the_fields(db):
    display = QueueDisplayForm(QueryDict(""))  # nothing asked: the page shows 25 rows and says so
    drawn = jinja('{% from "_select.html" import select %}{{ select(field, 25) }}', field=display["per_page"])
    assertHTMLEqual(
        drawn,
        '<select name="per_page" id="id_per_page"><option value="25" selected>25</option>'
        '<option value="50">50</option><option value="100">100</option></select>',
    )


def test_deadline_badge_reads_the_deadline(db):
    from moderation.selectors import deadline_of
    from tests.factories import ReportFactory

    now = timezone.now()
    report = ReportFactory(due_at=now - timedelta(hours=3))
    deadline = deadline_of(report, now=now)
    drawn = jinja('{% from "moderation/_deadline.html" import deadline_badge %}{{ deadline_badge(d) }}', d=deadline)
    due, start = timezone.localtime(deadline.due_at), timezone.localtime(deadline.window_start)
    assertHTMLEqual(
        drawn,
        f'<span class="deadline deadline-overdue" data-due="{due.isoformat()}" data-start="{start.isoformat()}" '
        f'data-live title="Due {defaultfilters.date(due, "j M Y, H:i")}"><span aria-hidden="true">⚠ </span>'
        f'<span class="deadline-label">{deadline.label}</span></span>',
    )


@pytest.mark.parametrize("language", ["en", "es", "de"])
def test_date_label_and_ellipsis_follow_the_active_language(language):
    """date, label and truncatechars answer what Django answers in the request's language (chosen per
    request by LocaleMiddleware and the account, config/i18n.py), not one language read once."""
    from django.utils import translation

    report = Report(category="hate_speech")
    moment = datetime(2026, 12, 5, 14, 0, tzinfo=UTC)
    with translation.override(language):
        assert helpers.date(moment, "D j M Y, F") == defaultfilters.date(moment, "D j M Y, F")
        assert helpers.label(report, "category") == report.get_category_display()
        assert helpers.truncatechars("a" * 60, 10) == defaultfilters.truncatechars("a" * 60, 10)
        translated = jinja('{{ _("Queue") }}')
        month = helpers.date(moment, "F")
    assert translated == {"en": "Queue", "es": "Cola", "de": "Warteschlange"}[language]
    assert month == {"en": "December", "es": "diciembre", "de": "Dezember"}[language]


def test_a_render_is_in_the_language_its_context_names_read_once():
    """A page's Jinja2 partial takes its language from the render's context (LANGUAGE_CODE, by the
    i18n context processor) rather than asking Django on every call: filters and gettext follow it
    even where another language is active, and without it they follow the active language."""
    report = Report(category="hate_speech")
    moment = datetime(2026, 12, 5, 14, 0, tzinfo=UTC)
    source = '{{ _("Queue") }}|{{ m|date("F") }}|{{ r|label("category") }}|{{ t|truncatechars(5) }}'
    with translation.override("de"):
        german = (translation.gettext("Queue"), defaultfilters.date(moment, "F"), report.get_category_display())
    with translation.override("en"):
        in_german = jinja(source, m=moment, r=report, t="a" * 20, LANGUAGE_CODE="de")
        in_english = jinja(source, m=moment, r=report, t="a" * 20)
    assert in_german.split("|")[:3] == list(german) and german[0] == "Warteschlange"
    assert in_english.split("|")[:3] == ["Queue", "December", report.get_category_display()]
