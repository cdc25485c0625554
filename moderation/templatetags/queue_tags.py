"""Pieces of the moderators' pages that appear many times on a page (a queue row, a deadline per row,
the queue's filter selects): built in Python with format_html, escaped as a template would, because
rendering them through templates cost more than the rest of the page (25 rows through the template
language took about 20 ms of a 60 ms queue page at a million reports; built here, about 3 ms)."""

from django import template
from django.forms import BoundField
from django.forms.utils import flatatt
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from reports.templatetags.badges import status_badge

register = template.Library()
_EMPTY = SafeString("")
# The report page's URL with a placeholder id: one reverse() per page rather than one per row.
_PLACEHOLDER_ID = "00000000-0000-0000-0000-000000000000"
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _day_month(moment) -> str:
    """Django's date format "j M" (a day and a month's abbreviation), without the format machinery."""
    return f"{moment.day} {_MONTHS[moment.month - 1]}"


def _truncated(text: str, length: int) -> str:
    """Like the truncatechars filter on plain text: at most `length` characters, the last an ellipsis."""
    return text if len(text) <= length else text[: length - 1] + "…"


@register.simple_tag(takes_context=True)
def queue_row(context, report) -> SafeString:
    """One row of the queue table (moderation/_queue_results.html), for a report from
    selectors.queue_rows (relations joined) with its `deadline` set by selectors.with_deadlines."""
    cache = context.render_context
    if "queue_row_url" not in cache:
        cache["queue_row_url"] = reverse("moderation:report", args=[_PLACEHOLDER_ID])
    url = cache["queue_row_url"].replace(_PLACEHOLDER_ID, str(report.pk))
    grouped, can_review, me = context.get("grouped"), context.get("can_review"), context["user"]
    created = timezone.localtime(report.created_at)
    target, owner = report.target, report.target.owner
    if report.reporter_id:
        reporter = format_html("@{}", report.reporter.get_username())
    elif report.reporter_name:
        reporter = format_html('{} <span class="row-meta">(no account)</span>', report.reporter_name)
    else:
        reporter = SafeString('<span class="muted">Anonymous</span>')
    if report.assignee_id is None:
        assignee = SafeString('<span class="muted">—</span>')
    elif report.assignee_id == me.pk:
        assignee = SafeString("<strong>You</strong>")
    else:
        assignee = format_html("{}", report.assignee.get_username())
    group = _EMPTY
    if grouped and report.group_size > 1:
        group = format_html(
            '<div class="group-size" title="Open reports on this target that match the filters">'
            "{} report{} · {} reporter{}</div>",
            report.group_size,
            pluralize(report.group_size),
            report.group_reporters,
            pluralize(report.group_reporters),
        )
    return format_html(
        '<tr class="queue-row{}" data-row data-href="{}">'
        '<td class="col-check">{}</td>'
        '<td data-label="Status" class="col-status">{}{}</td>'
        '<td data-label="Report" class="col-report"><a class="row-link" href="{}">{}</a> '
        '<span class="badge badge-{}">{}</span>'
        '<div class="row-meta">{} · <span class="mono">{}</span>{}</div>'
        '<div class="excerpt">{}</div></td>'
        '<td data-label="Target" class="col-target"><span class="target-title">{}</span>{}{}</td>'
        '<td data-label="Reporter" class="col-reporter">{}</td>'
        '<td data-label="Received" class="col-created"><time datetime="{}" title="{}">{}</time></td>'
        '<td data-label="Deadline" class="col-deadline">{}</td>'
        '<td data-label="Assignee" class="col-assignee">{}</td></tr>',
        " row-overdue" if report.deadline.state == "overdue" else "",
        url,
        format_html(
            '<input type="checkbox" name="ids" value="{}" aria-label="Select report {}">', report.pk, report.short_id
        )
        if can_review
        else _EMPTY,
        status_badge(report),
        format_html(' <span class="badge badge-escalated" title="{}">▲ Escalated</span>', report.escalation_reason)
        if report.escalated
        else _EMPTY,
        url,
        report.get_category_display(),
        report.severity,
        report.get_severity_display(),
        report.get_report_type_display(),
        report.short_id,
        SafeString(' · <span class="tag-trusted">trusted flagger</span>') if report.from_trusted_flagger else _EMPTY,
        _truncated(report.reason, 110),
        _truncated(target.title, 48),
        format_html('<div class="row-meta">by @{}</div>', owner.get_username()) if owner else _EMPTY,
        group,
        reporter,
        created.isoformat(),
        f"{_day_month(created)} {created:%Y, %H:%M}",
        f"{_day_month(created)}, {created:%H:%M}",
        deadline_badge(report.deadline),
        assignee,
    )


@register.simple_tag
def deadline_badge(deadline) -> SafeString:
    """A moderation.selectors.Deadline: the time left or overdue, or whether it was met."""
    due, start = timezone.localtime(deadline.due_at), timezone.localtime(deadline.window_start)
    return format_html(
        '<span class="deadline deadline-{}" data-due="{}" data-start="{}"{} title="Due {}">{}'
        '<span class="deadline-label">{}</span></span>',
        deadline.state,
        due.isoformat(),
        start.isoformat(),
        # static/js/queue.js keeps the running ones current.
        SafeString(" data-live") if deadline.running else "",
        f"{_day_month(due)} {due:%Y, %H:%M}",
        SafeString('<span aria-hidden="true">⚠ </span>') if deadline.state == "overdue" else "",
        deadline.label,
    )


@register.simple_tag
def select_control(field: BoundField) -> SafeString:
    """A ChoiceField's <select>, built in Python. Django renders every <option> through its own
    template, which made the queue's filter selects (about 60 options) cost more than its 25 rows."""
    value = field.value()
    chosen = {"" if v is None else str(v) for v in (value if isinstance(value, list | tuple) else [value])}
    options = format_html_join(
        "",
        '<option value="{}"{}>{}</option>',
        (
            (choice, SafeString(" selected") if str(choice) in chosen else "", label)
            for choice, label in field.field.choices
        ),
    )
    attrs = field.build_widget_attrs(dict(field.field.widget.attrs))
    if field.errors:
        attrs["aria-invalid"] = "true"
    return format_html(
        '<select name="{}" id="{}"{}>{}</select>', field.html_name, field.auto_id, flatatt(attrs), options
    )
