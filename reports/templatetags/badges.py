"""Badges that appear on every row of the queue and the report lists: built in Python with
format_html (escaped like a template) because an {% include %} per row cost more than the row."""

from django import template
from django.utils import timezone
from django.utils.dateformat import format as format_date
from django.utils.html import format_html
from django.utils.safestring import SafeString

register = template.Library()

# A deadline still running is recounted in the browser (static/js/app.js reads data-live).
_LIVE_STATES = {"ok", "soon", "overdue"}


@register.simple_tag
def status_badge(report) -> SafeString:
    """The report's status as a colour-coded badge (the colours are in app.css, per status)."""
    return format_html(
        '<span class="badge badge-{}" data-status="{}">{}</span>',
        report.status,
        report.status,
        report.get_status_display(),
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
        SafeString(" data-live") if deadline.state in _LIVE_STATES else "",
        format_date(due, "j M Y, H:i"),
        SafeString('<span aria-hidden="true">⚠ </span>') if deadline.state == "overdue" else "",
        deadline.label,
    )
