"""The appeals queue's filters (django-filter): status, what is appealed, overdue."""

from __future__ import annotations

import django_filters
from django import forms
from django.utils import timezone

from moderation.enforcement.models import Appeal, AppealStatus


class AppealFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=AppealStatus.choices, empty_label="Any status")
    subject = django_filters.ChoiceFilter(
        label="About",
        method="filter_subject",
        empty_label="Sanctions and reports",
        choices=[("sanction", "Sanctions"), ("report", "Dismissed reports")],
    )
    overdue = django_filters.BooleanFilter(label="Overdue", method="filter_overdue", widget=forms.CheckboxInput)

    class Meta:
        model = Appeal
        fields = ["status"]

    def filter_subject(self, queryset, name, value):
        return queryset.filter(sanction__isnull=value != "sanction")

    def filter_overdue(self, queryset, name, value):
        if value:
            return queryset.filter(status=AppealStatus.PENDING, due_at__lt=timezone.now())
        return queryset
