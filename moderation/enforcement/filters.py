"""The appeals queue's filters (django-filter): status, what is appealed, overdue, a search by person
(the appellant's name or address) or by decision (a sanction's or report's id, full or the short 8
hex digits shown everywhere), the kind of action appealed, and the order."""

from __future__ import annotations

import re
import uuid

import django_filters
from django import forms
from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from moderation.enforcement.actions import ActionKind
from moderation.enforcement.models import Appeal, AppealStatus, Sanction

SORT_CHOICES = [
    ("due", _("Due date, soonest first")),
    ("newest", _("Filed, newest first")),
    ("oldest", _("Filed, oldest first")),
    ("status", _("Status, pending first")),
]
_SHORT_ID = re.compile(r"[0-9a-f]{8}")


def _id_terms(field: str, text: str) -> Q | None:
    """`field` equal to the UUID in `text`, or starting with its short form; None when it is neither."""
    try:
        return Q(**{field: uuid.UUID(text)})
    except ValueError:
        pass
    if _SHORT_ID.fullmatch(text.lower()):
        low, high = uuid.UUID(text.lower() + "0" * 24), uuid.UUID(text.lower() + "f" * 24)
        return Q(**{f"{field}__gte": low, f"{field}__lte": high})
    return None


class AppealFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="filter_search",
        label=_("Person or decision"),
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("@username, email, sanction or report id"), "autocomplete": "off"}
        ),
    )
    status = django_filters.ChoiceFilter(choices=AppealStatus.choices, empty_label=_("Any status"))
    subject = django_filters.ChoiceFilter(
        label=_("About"),
        method="filter_subject",
        empty_label=_("Sanctions and reports"),
        choices=[("sanction", _("Sanctions")), ("report", _("Dismissed reports"))],
    )
    kind = django_filters.ChoiceFilter(
        label=_("Decision"), method="filter_kind", choices=ActionKind.choices, empty_label=_("Any decision")
    )
    overdue = django_filters.BooleanFilter(label=_("Overdue"), method="filter_overdue", widget=forms.CheckboxInput)
    sort = django_filters.ChoiceFilter(label=_("Order"), method="filter_sort", choices=SORT_CHOICES, empty_label=None)

    class Meta:
        model = Appeal
        fields = ["status"]

    def __init__(self, data=None, *args, **kwargs) -> None:
        data = data.copy() if data is not None else {}
        # An unknown order (an old or hand-edited link) falls back to the default.
        if data.get("sort") not in dict(SORT_CHOICES):
            data["sort"] = "due"
        super().__init__(data, *args, **kwargs)

    def filter_search(self, queryset: QuerySet[Appeal], name: str, value: str) -> QuerySet[Appeal]:
        text = value.strip()
        if not text:
            return queryset
        person = text.removeprefix("@")
        terms = (
            Q(appellant__username__istartswith=person)
            | Q(appellant__email__iexact=text)
            | Q(appellant_email__iexact=text)
        )
        for field in ("id", "sanction_id", "report_id"):
            found = _id_terms(field, text)
            if found is not None:
                terms |= found
        # A sanction appeal is also found by any report its decision settled (a subquery, no join
        # that would repeat an appeal once per report).
        settled = _id_terms("reports__id", text)
        if settled is not None:
            terms |= Q(sanction__in=Sanction.objects.filter(settled).values("pk"))
        return queryset.filter(terms)

    def filter_subject(self, queryset, name, value):
        return queryset.filter(sanction__isnull=value != "sanction")

    def filter_kind(self, queryset: QuerySet[Appeal], name: str, value: str) -> QuerySet[Appeal]:
        return queryset.filter(sanction__kind=value)

    def filter_overdue(self, queryset, name, value):
        if value:
            return queryset.filter(status=AppealStatus.PENDING, due_at__lt=timezone.now())
        return queryset

    def filter_sort(self, queryset: QuerySet[Appeal], name: str, value: str) -> QuerySet[Appeal]:
        if value == "newest":
            return queryset.order_by("-created_at", "-pk")
        if value == "oldest":
            return queryset.order_by("created_at", "pk")
        if value == "status":
            pending_first = Case(
                When(status=AppealStatus.PENDING, then=Value(0)), default=Value(1), output_field=IntegerField()
            )
            return queryset.order_by(pending_first, "status", "due_at", "pk")
        return queryset.order_by("due_at", "pk")
