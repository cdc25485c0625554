"""The status badge, which appears on every row of the queue and the report lists: built in Python
with format_html, escaped as a template would, because an {% include %} per row cost more than the
rest of the row."""

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

register = template.Library()


@register.simple_tag
def status_badge(report) -> SafeString:
    """The report's status as a colour-coded badge (the colours are in app.css, per status)."""
    return format_html(
        '<span class="badge badge-{}" data-status="{}">{}</span>',
        report.status,
        report.status,
        report.get_status_display(),
    )
