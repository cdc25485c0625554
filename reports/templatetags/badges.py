"""The status badge, which appears on every row of the queue and the report lists: built in Python
with format_html, escaped as a template would, because an {% include %} per row cost more than the
rest of the row."""

from django import template
from django.db.models import Model
from django.utils.html import format_html
from django.utils.safestring import SafeString

from reports.models import Report

register = template.Library()


def choice_labels(model: type[Model], *fields: str) -> dict[str, dict[str, str]]:
    """{field: {value: label}}: what model.get_<field>_display() answers. That method rebuilds a
    dict of every choice on each call (a hundred calls a queue page); these maps are made once."""
    return {
        name: {str(value): str(label) for value, label in model._meta.get_field(name).flatchoices} for name in fields
    }


_CHOICE_LABELS = choice_labels(Report, "status", "category", "severity", "report_type")


def choice_label(field: str, value: str) -> str:
    """What Report.get_<field>_display() answers, for status, category, severity and report_type."""
    return _CHOICE_LABELS[field].get(value, value)


@register.simple_tag
def status_badge(report) -> SafeString:
    """The report's status as a colour-coded badge (the colours are in app.css, per status)."""
    return format_html(
        '<span class="badge badge-{}" data-status="{}">{}</span>',
        report.status,
        report.status,
        choice_label("status", report.status),
    )
