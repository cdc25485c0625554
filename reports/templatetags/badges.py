"""The status badge, which appears on every row of the queue and the report lists: built in Python
with format_html, escaped as a template would, because an {% include %} per row cost more than the
rest of the row."""

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from reports.models import ReportStatus

register = template.Library()
# Report.get_status_display() rebuilds a dict of the choices on every call; this is one per process.
_STATUS_LABELS = {str(value): str(label) for value, label in ReportStatus.choices}


@register.simple_tag
def status_badge(report) -> SafeString:
    """The report's status as a colour-coded badge (the colours are in app.css, per status)."""
    return format_html(
        '<span class="badge badge-{}" data-status="{}">{}</span>',
        report.status,
        report.status,
        _STATUS_LABELS.get(report.status, report.status),
    )
