"""Pieces of the moderators' pages that appear many times on a page (a deadline per row, the queue's
filter selects): built in Python with format_html, escaped as a template would, because rendering
them through templates cost more than the rest of the page."""

from django import template
from django.forms import BoundField
from django.forms.utils import flatatt
from django.utils import timezone
from django.utils.dateformat import format as format_date
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

register = template.Library()


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
        format_date(due, "j M Y, H:i"),
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
