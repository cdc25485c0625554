"""The metrics dashboard: how fast reports turn into action, against the deadlines."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from moderation import charts, metrics, rollups
from moderation.enforcement.actions import ActionKind
from reports.categories import Category, Severity

PERIOD_CHOICES = [
    ("7", gettext_lazy("Last 7 days")),
    ("30", gettext_lazy("Last 30 days")),
    ("90", gettext_lazy("Last 90 days")),
    ("custom", gettext_lazy("Dates")),
]


class PeriodForm(forms.Form):
    period = forms.ChoiceField(choices=PERIOD_CHOICES, required=False, initial="30")
    start = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        if data.get("period") == "custom":
            start, end = data.get("start"), data.get("end")
            if not start or not end:
                raise forms.ValidationError(_("Choose both dates."))
            if start > end:
                raise forms.ValidationError(_("The start must be before the end."))
            if (end - start).days > 366:
                raise forms.ValidationError(_("Choose at most a year."))
        return data

    def chosen_period(self) -> metrics.Period:
        data = self.cleaned_data if self.is_valid() else {}
        if data.get("period") == "custom":
            return metrics.Period(data["start"], data["end"])
        return metrics.Period.last(int(data.get("period") or 30))


@login_required
@permission_required("reports.view_queue", raise_exception=True)
def dashboard(request: HttpRequest) -> HttpResponse:
    form = PeriodForm(request.GET or {"period": "30"})
    period = form.chosen_period()
    figures = metrics.received_figures(period)
    per_day = figures.per_day
    days = period.days
    labels = metrics.category_labels()
    used = [c for c in Category.values if any(per_day.get(d, {}).get(c) for d in days)]
    series = [(labels[c], [per_day.get(d, {}).get(c, 0) for d in days]) for c in used]
    action_items = [(ActionKind(kind).label, figures.actions.get(kind, 0)) for kind in ActionKind.values]
    summary = figures.summary
    first_review = metrics.timing_table(summary, end_field="first_reviewed_at")
    decision = metrics.timing_table(summary, end_field="closed_at")
    backlog = metrics.open_backlog()
    buckets = [key for key, *_ in metrics.AGE_BUCKETS]
    return render(
        request,
        "moderation/dashboard.html",
        {
            "form": form,
            "period": period,
            "received_chart": charts.stacked_bars(
                days=days, series=series, title=_("Reports received per day by category")
            ),
            "legend": [(label, charts.colour_for(i)) for i, (label, _) in enumerate(series)],
            "per_day_rows": [
                (d, [per_day.get(d, {}).get(c, 0) for c in used], sum(per_day.get(d, {}).values())) for d in days
            ],
            "used_labels": [labels[c] for c in used],
            "age_buckets": [label for _, label, *_ in metrics.AGE_BUCKETS],
            "backlog_rows": [
                (severity, Severity(severity).label, [row[b] for b in buckets], row["overdue"])
                for severity, row in backlog.items()
            ],
            "timing_rows": [
                {
                    "severity": severity,
                    "label": Severity(severity).label,
                    "deadline": settings.REPORT_DEADLINE_HOURS[severity],
                    "first": first_review[severity],
                    "decision": decision[severity],
                }
                for severity in decision
            ],
            "critical": decision[Severity.CRITICAL],
            "totals": metrics.decision_totals(summary),
            "actions_chart": charts.horizontal_bars(items=action_items, title=_("Actions taken by kind")),
            "action_items": action_items,
            "appeals": metrics.appeals(period),
            "throughput": figures.throughput,
            "percentile_error": rollups.PERCENTILE_RELATIVE_ERROR,
            "generated_at": timezone.now(),
        },
    )
