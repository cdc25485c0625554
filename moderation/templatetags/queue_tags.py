"""Pieces of the moderators' pages that appear many times on a page (a queue row, a deadline per row,
the queue's filter selects): built in Python with format_html, escaped as a template would, because
rendering them through templates cost more than the rest of the page (25 rows through the template
language took about 20 ms of a 60 ms queue page at a million reports; built here, about 3 ms)."""

from html import escape as e

from django import forms, template
from django.forms import BoundField
from django.forms.utils import flatatt
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

from moderation.enforcement.models import Sanction
from reports.templatetags.badges import choice_label, choice_labels, status_badge
from reports.templatetags.form_fields import chosen_values, option_tags

register = template.Library()
_SANCTION_LABELS = choice_labels(Sanction, "kind", "status")
# The id _url puts in a reversed URL and replaces: one reverse() per URL name and page, not per row.
_PLACEHOLDER_ID = "00000000-0000-0000-0000-000000000000"
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _day_month(moment) -> str:
    """Django's date format "j M" (a day and a month's abbreviation), without the format machinery."""
    return f"{moment.day} {_MONTHS[moment.month - 1]}"


def _day_month_time(moment) -> str:
    """Django's date format "j M, H:i"."""
    return f"{_day_month(moment)}, {moment:%H:%M}"


def _day_month_year_time(moment) -> str:
    """Django's date format "j M Y, H:i"."""
    return f"{_day_month(moment)} {moment:%Y, %H:%M}"


def _truncated(text: str, length: int) -> str:
    """Like the truncatechars filter on plain text: at most `length` characters, the last an ellipsis."""
    return text if len(text) <= length else text[: length - 1] + "…"


@register.simple_tag(takes_context=True)
def queue_row(context, report) -> SafeString:
    """One row of the queue table (moderation/_queue_results.html), for a report from
    selectors.queue_rows (relations joined) with its `deadline` set by selectors.with_deadlines.

    Every value from the database goes through `e` (the standard library's html.escape, which is
    what Django's escape filter calls, without its lazy-string wrapper); the rest is literal markup.
    """
    url = _url(context, "moderation:report", report.pk)
    grouped, can_review, me = context.get("grouped"), context.get("can_review"), context["user"]
    created = timezone.localtime(report.created_at)
    target, owner = report.target, report.target.owner
    short_id = e(report.short_id)
    if report.reporter_id:
        reporter = f"@{e(report.reporter.get_username())}"
    elif report.reporter_name:
        reporter = f'{e(report.reporter_name)} <span class="row-meta">(no account)</span>'
    else:
        reporter = '<span class="muted">Anonymous</span>'
    if report.assignee_id is None:
        assignee = '<span class="muted">—</span>'
    elif report.assignee_id == me.pk:
        assignee = "<strong>You</strong>"
    else:
        assignee = e(report.assignee.get_username())
    group = ""
    if grouped and report.group_size > 1:
        group = (
            '<div class="group-size" title="Open reports on this target that match the filters">'
            f"{report.group_size:d} report{pluralize(report.group_size)} · "
            f"{report.group_reporters:d} reporter{pluralize(report.group_reporters)}</div>"
        )
    check = (
        f'<input type="checkbox" name="ids" value="{e(str(report.pk))}" aria-label="Select report {short_id}">'
        if can_review
        else ""
    )
    escalated = (
        f' <span class="badge badge-escalated" title="{e(report.escalation_reason)}">▲ Escalated</span>'
        if report.escalated
        else ""
    )
    trusted = ' · <span class="tag-trusted">trusted flagger</span>' if report.from_trusted_flagger else ""
    by_owner = f'<div class="row-meta">by @{e(owner.get_username())}</div>' if owner else ""
    overdue = " row-overdue" if report.deadline.state == "overdue" else ""
    # bandit B703: every value interpolated below is escaped with e() or is markup built above the same way
    return SafeString(  # nosec B703
        f'<tr class="queue-row{overdue}" data-row data-href="{e(url)}">'
        f'<td class="col-check">{check}</td>'
        f'<td data-label="Status" class="col-status">{status_badge(report)}{escalated}</td>'
        f'<td data-label="Report" class="col-report"><a class="row-link" href="{e(url)}">'
        f"{e(choice_label('category', report.category))}</a> "
        f'<span class="badge badge-{e(report.severity)}">{e(choice_label("severity", report.severity))}</span>'
        f'<div class="row-meta">{e(choice_label("report_type", report.report_type))} · '
        f'<span class="mono">{short_id}</span>{trusted}</div>'
        f'<div class="excerpt">{e(_truncated(report.reason, 110))}</div></td>'
        f'<td data-label="Target" class="col-target"><span class="target-title">{e(_truncated(target.title, 48))}'
        f"</span>{by_owner}{group}</td>"
        f'<td data-label="Reporter" class="col-reporter">{reporter}</td>'
        f'<td data-label="Received" class="col-created"><time datetime="{created.isoformat()}" '
        f'title="{_day_month_year_time(created)}">{_day_month_time(created)}</time></td>'
        f'<td data-label="Deadline" class="col-deadline">{deadline_badge(report.deadline)}</td>'
        f'<td data-label="Assignee" class="col-assignee">{assignee}</td></tr>'
    )


def sanction_label(field: str, value: str) -> str:
    """What Sanction.get_<field>_display() answers, for kind and status."""
    return _SANCTION_LABELS[field].get(value, value)


def _url(context, name: str, pk) -> str:
    """reverse(name, args=[pk]), with one reverse() per URL name and page."""
    cache = context.render_context
    key = f"url:{name}"
    if key not in cache:
        cache[key] = reverse(name, args=[_PLACEHOLDER_ID])
    return cache[key].replace(_PLACEHOLDER_ID, str(pk))


def _local_day_month_time(moment) -> str:
    """Django's date filter "j M, H:i", in the current time zone."""
    return _day_month_time(timezone.localtime(moment))


def _local_day_month_year(moment) -> str:
    """Django's date filter "j M Y", in the current time zone."""
    local = timezone.localtime(moment)
    return f"{_day_month(local)} {local.year}"


def _report_item(context, report, details: str) -> SafeString:
    """A line of the report page's side lists: the status, the category linking to the report, and
    `details` (markup already escaped) beneath."""
    url = _url(context, "moderation:report", report.pk)
    # bandit B703: every value interpolated below is escaped with e() or is markup built the same way
    return SafeString(  # nosec B703
        f"<li>{status_badge(report)} "
        f'<a href="{e(url)}">{e(choice_label("category", report.category))}</a>'
        f'<span class="small muted block">{details}</span></li>'
    )


@register.simple_tag(takes_context=True)
def other_report_item(context, other) -> SafeString:
    """One line of the report page's "Other reports on this target" (relations joined, `deadline` set)."""
    reporter = f"@{e(other.reporter.get_username())}" if other.reporter_id else "no account"
    deadline = f" · {deadline_badge(other.deadline)}" if other.deadline.running else ""
    return _report_item(context, other, f"{reporter} · {_local_day_month_time(other.created_at)}{deadline}")


@register.simple_tag(takes_context=True)
def account_report_item(context, earlier) -> SafeString:
    """One line of the report page's "Earlier reports and outcomes" of the reported account (target joined)."""
    title = e(_truncated(earlier.target.title, 40))
    return _report_item(context, earlier, f"{title} · {_local_day_month_year(earlier.created_at)}")


@register.simple_tag(takes_context=True)
def sanction_item(context, sanction) -> SafeString:
    """One line of the report page's sanctions of the reported account (decided_by joined)."""
    until = f" · until {_local_day_month_year(sanction.ends_at)}" if sanction.ends_at else ""
    # bandit B703: every value interpolated below is escaped with e() or is markup built the same way
    return SafeString(  # nosec B703
        f'<li><a href="{e(_url(context, "enforcement:sanction", sanction.pk))}">'
        f"{e(sanction_label('kind', sanction.kind))}</a> "
        f'<span class="badge badge-sanction-{e(sanction.status)}">{e(sanction_label("status", sanction.status))}</span>'
        f'<span class="small muted block">{_local_day_month_year(sanction.decided_at)} by '
        f"{e(sanction.decided_by.get_username())}{until}</span></li>"
    )


@register.simple_tag
def deadline_badge(deadline) -> SafeString:
    """A moderation.selectors.Deadline: the time left or overdue, or whether it was met."""
    due, start = timezone.localtime(deadline.due_at), timezone.localtime(deadline.window_start)
    # static/js/queue.js keeps the running ones current.
    live = " data-live" if deadline.running else ""
    warning = '<span aria-hidden="true">⚠ </span>' if deadline.state == "overdue" else ""
    # bandit B703: the label and state are escaped with e(); the rest are dates and literal markup
    return SafeString(  # nosec B703
        f'<span class="deadline deadline-{e(deadline.state)}" data-due="{due.isoformat()}" '
        f'data-start="{start.isoformat()}"{live} title="Due {_day_month_year_time(due)}">{warning}'
        f'<span class="deadline-label">{e(deadline.label)}</span></span>'
    )


@register.simple_tag
def option_list(choices) -> SafeString:
    """The <option>s of a select whose markup the template writes itself (the bulk bar's)."""
    return option_tags(choices)


@register.simple_tag
def input_control(field: BoundField) -> SafeString:
    """An <input> (text, date, check box) of a filter form, built in Python like select_control."""
    widget = field.field.widget
    attrs = field.build_widget_attrs(dict(widget.attrs))
    attrs.setdefault("id", field.auto_id)
    value = field.value()
    if isinstance(widget, forms.CheckboxInput) and widget.check_test(value):
        attrs["checked"] = True
    shown = widget.format_value(value)
    if shown is not None:
        attrs["value"] = shown
    if field.errors:
        attrs["aria-invalid"] = "true"
    return format_html(
        "<input{}>", flatatt({"type": attrs.pop("type", widget.input_type), "name": field.html_name, **attrs})
    )


@register.simple_tag
def select_control(field: BoundField) -> SafeString:
    """A ChoiceField's <select>, built in Python. Django renders every <option> through its own
    template, which made the queue's filter selects (about 60 options) cost more than its 25 rows."""
    options = option_tags(field.field.choices, chosen_values(field))
    attrs = field.build_widget_attrs(dict(field.field.widget.attrs))
    if field.errors:
        attrs["aria-invalid"] = "true"
    return format_html(
        '<select name="{}" id="{}"{}>{}</select>', field.html_name, field.auto_id, flatatt(attrs), options
    )
