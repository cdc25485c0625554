"""The queue's filters. Everything lives in the query string, so a filtered queue is a link that
can be bookmarked and shared; the defaults (open reports, earliest deadline first, and escalated
reports for compliance) apply only when the link says nothing else."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime, time, timedelta

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q, QuerySet
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from moderation.selectors import sort_order
from reports.categories import Category, Severity
from reports.models import CLOSED_STATUSES, OPEN_STATUSES, Report, ReportStatus, Target, TargetKind

OPEN, ALL = "open", "all"
STATUS_CHOICES = [
    (OPEN, _("Open")),
    *ReportStatus.choices,
    ("closed", _("Closed")),
    (ALL, _("Any status")),
]
STATUS_SETS: dict[str, tuple[str, ...]] = {
    OPEN: tuple(OPEN_STATUSES),
    "closed": tuple(CLOSED_STATUSES),
    **{value: (value,) for value in ReportStatus.values},
}
SORT_CHOICES = [("deadline", _("Deadline first")), ("newest", _("Newest first")), ("oldest", _("Oldest first"))]
ESCALATED_CHOICES = [("yes", _("Escalated only")), ("no", _("Not escalated"))]
ME, UNASSIGNED = "me", "none"
_SHORT_ID = re.compile(r"[0-9a-f]{8}")
#: A name search looks at the first this many matching accounts (by name) and their content.
SEARCH_ACCOUNTS = 50
SEARCH_TARGETS = 2_000


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


class ReportQueueFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        choices=STATUS_CHOICES, method="filter_status", label=_("Status"), empty_label=None
    )
    report_type = django_filters.ChoiceFilter(choices=TargetKind.choices, label=_("Type"), empty_label=_("Any type"))
    category = django_filters.ChoiceFilter(choices=Category.choices, label=_("Category"), empty_label=_("Any category"))
    severity = django_filters.ChoiceFilter(choices=Severity.choices, label=_("Severity"), empty_label=_("Any severity"))
    assignee = django_filters.ChoiceFilter(
        method="filter_assignee", choices=[], label=_("Assignee"), empty_label=_("Anyone")
    )
    escalated = django_filters.ChoiceFilter(
        choices=ESCALATED_CHOICES, method="filter_escalated", label=_("Escalation"), empty_label=_("Escalated or not")
    )
    overdue = django_filters.BooleanFilter(method="filter_overdue", label=_("Overdue only"), widget=forms.CheckboxInput)
    created_from = django_filters.DateFilter(
        method="filter_created_from", label=_("Received from"), widget=forms.DateInput(attrs={"type": "date"})
    )
    created_to = django_filters.DateFilter(
        method="filter_created_to", label=_("Received until"), widget=forms.DateInput(attrs={"type": "date"})
    )
    q = django_filters.CharFilter(
        method="filter_search",
        label=_("Search"),
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("Reason, report or target id, @username"), "autocomplete": "off"}
        ),
    )
    sort = django_filters.ChoiceFilter(choices=SORT_CHOICES, method="filter_sort", empty_label=None, label=_("Order"))

    class Meta:
        model = Report
        fields = ["status", "report_type", "category", "severity", "assignee", "escalated"]

    def __init__(
        self,
        data: QueryDict | dict | None = None,
        queryset: QuerySet[Report] | None = None,
        *,
        request=None,
        staff: list[AbstractBaseUser] | None = None,
        **kwargs,
    ) -> None:
        data = data.copy() if data is not None else QueryDict(mutable=True)
        user = getattr(request, "user", None)
        #: True when the query string chose nothing, so the role's default view is shown.
        self.is_default_view = not any(name in data for name in self.base_filters)
        # An unknown status or order (an old or hand-edited link) falls back to the default rather
        # than silently dropping the filter and showing every report.
        for name, choices, default in (("status", STATUS_CHOICES, OPEN), ("sort", SORT_CHOICES, "deadline")):
            if data.get(name) not in dict(choices):
                data[name] = default
        # Compliance officers start on the escalated cases; any explicit filter replaces that.
        self.escalated_by_default = bool(
            self.is_default_view and user is not None and user.has_perm("reports.view_escalated")
        )
        if self.escalated_by_default:
            data["escalated"] = "yes"
        super().__init__(data, queryset, request=request, **kwargs)
        self._search_terms: dict[str, Q] = {}
        staff = staff or []
        self.filters["assignee"].extra["choices"] = [
            (ME, _("Me")),
            (UNASSIGNED, _("Unassigned")),
            *((str(member.pk), member.get_username()) for member in staff),
        ]

    # Each method gets the queryset so far and returns it narrowed; django-filter skips empty values.

    def filter_status(self, queryset: QuerySet[Report], name: str, value: str) -> QuerySet[Report]:
        if value == ALL:
            return queryset
        return queryset.filter(status__in=STATUS_SETS[value])

    def filter_assignee(self, queryset: QuerySet[Report], name: str, value: str) -> QuerySet[Report]:
        if value == ME:
            user = getattr(self.request, "user", None)
            return queryset.filter(assignee=user) if user and user.is_authenticated else queryset.none()
        if value == UNASSIGNED:
            return queryset.filter(assignee__isnull=True)
        return queryset.filter(assignee_id=int(value))

    def filter_escalated(self, queryset: QuerySet[Report], name: str, value: str) -> QuerySet[Report]:
        return queryset.filter(escalated=value == "yes")

    def filter_overdue(self, queryset: QuerySet[Report], name: str, value: bool) -> QuerySet[Report]:
        if not value:
            return queryset
        return queryset.filter(status__in=OPEN_STATUSES, due_at__lt=timezone.now())

    # Dates are whole days in the site's time zone, compared as a datetime range so that the
    # created_at index serves them (a __date lookup would not).
    def filter_created_from(self, queryset: QuerySet[Report], name: str, value: date) -> QuerySet[Report]:
        return queryset.filter(created_at__gte=_day_start(value))

    def filter_created_to(self, queryset: QuerySet[Report], name: str, value: date) -> QuerySet[Report]:
        return queryset.filter(created_at__lt=_day_start(value + timedelta(days=1)))

    def filter_search(self, queryset: QuerySet[Report], name: str, value: str) -> QuerySet[Report]:
        """The reason's words, a report or target id, the platform's id, or an account name prefix.

        The accounts and targets are looked up first, each on its own index, so that the report
        query is an OR of the report table's own indexed columns (a bitmap OR on PostgreSQL, with a
        trigram index for the words) instead of an OR across joined tables, which reads every
        report. A name matching many accounts searches the first SEARCH_ACCOUNTS of them.
        """
        text = value.strip()
        if not text:
            return queryset
        if text not in self._search_terms:
            self._search_terms[text] = self._search_terms_for(text)
        return queryset.filter(self._search_terms[text])

    def _search_terms_for(self, text: str) -> Q:
        username = text.removeprefix("@")
        try:
            exact = uuid.UUID(text)
        except ValueError:
            exact = None
        accounts = list(
            get_user_model()
            .objects.filter(username__istartswith=username)
            .order_by("username")
            .values_list("pk", flat=True)[:SEARCH_ACCOUNTS]
        )
        target_terms = Q(external_id=text) | Q(owner_id__in=accounts)
        if exact is not None:
            target_terms |= Q(public_id=exact)
        targets = list(Target.objects.filter(target_terms).order_by().values_list("pk", flat=True)[:SEARCH_TARGETS])
        terms = Q(reason__icontains=text) | Q(reporter_id__in=accounts) | Q(target_id__in=targets)
        if exact is not None:
            terms |= Q(id=exact)
        elif _SHORT_ID.fullmatch(text.lower()):
            # The short id shown everywhere is the report UUID's first 8 hex digits.
            low = uuid.UUID(text.lower() + "0" * 24)
            high = uuid.UUID(text.lower() + "f" * 24)
            terms |= Q(id__gte=low, id__lte=high)
        return terms

    def queryset_without(self, name: str) -> QuerySet[Report]:
        """The reports under every filter but `name` (the status tabs count under the other filters).
        The search's account and target lookups are shared with `qs`."""
        self.errors  # noqa: B018 -- validates the form, as `qs` does
        queryset = self.queryset.all()
        for field, value in self.form.cleaned_data.items():
            if field != name:
                queryset = self.filters[field].filter(queryset, value)
        return queryset

    def filter_sort(self, queryset: QuerySet[Report], name: str, value: str) -> QuerySet[Report]:
        return queryset.order_by(*sort_order(value))

    @property
    def current_sort(self) -> str:
        return self.data.get("sort") or "deadline"

    @property
    def current_status(self) -> str:
        return self.data.get("status") or OPEN


# --- a queue view, carried from page to page ----------------------------------------------------

#: How the queue is shown (moderation/forms.py QueueDisplayForm), beside what it selects.
DISPLAY_KEYS = ("per_page", "group")
#: Everything that makes a queue view: the filters, how it is shown, and which page.
VIEW_KEYS = (*ReportQueueFilterSet.base_filters, *DISPLAY_KEYS, "page")
#: A view's values are short (choices, dates, a search); a longer one is a hand-made link.
_VIEW_VALUE_MAX = 200


def queue_view(data: QueryDict) -> QueryDict:
    """The queue view a URL carries, and nothing else: the report page and the decision form keep
    it in their links and form actions (the query string, so it survives reloads and new tabs), and
    "← Queue", "Next report" and "Save and take next" read it back through ReportQueueFilterSet,
    the one source of what a view selects. Unknown keys and empty values are dropped."""
    view = QueryDict(mutable=True)
    for key in VIEW_KEYS:
        value = data.get(key)
        if value not in (None, "") and len(value) <= _VIEW_VALUE_MAX:
            view[key] = value
    return view


def view_query(filterset: ReportQueueFilterSet, display: QueryDict) -> QueryDict:
    """The query string of what the queue shows, defaults included and empty values left out, so
    that every link (status tabs, order, pages, a report's) keeps the view exactly as it is."""
    query = QueryDict(mutable=True)
    for name in filterset.base_filters:
        value = filterset.data.get(name)
        if value not in ("", None):
            query[name] = value
    for name in DISPLAY_KEYS:
        if display.get(name):
            query[name] = display[name]
    return query


def with_view(url: str, view: QueryDict) -> str:
    """A URL with the queue view appended (encoded again: it may come back in a Location header)."""
    query = view.urlencode()
    return f"{url}?{query}" if query else url


def describe_view(filterset: ReportQueueFilterSet) -> str:
    """The view's narrowing filters in words ("Category: Copyright infringement"), for messages."""
    if not filterset.form.is_valid():
        return ""
    parts = []
    for name, value in filterset.form.cleaned_data.items():
        if name in ("status", "sort") or value in (None, "", False):
            continue
        field = filterset.form.fields[name]
        choices = dict(getattr(field, "choices", ()) or ())
        shown = choices.get(value, choices.get(str(value), value))
        parts.append(f"{field.label}: {shown}" if value is not True else str(field.label))
    return ", ".join(parts)
