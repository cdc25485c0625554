import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from audit.events import EVENT_TYPES
from audit.models import AuditEvent

#: Every object type an event names (tests/test_audit_viewer.py finds each one the code records).
OBJECT_TYPES = [
    *("report", "target", "sanction", "appeal", "notice", "user", "outbox", "api_token", "platform_key"),
    *("hashbank_entry", "hashbank_import", "story", "signal", "detector", "signal_policy", "host", "audit_log"),
]


class AuditEventFilterSet(django_filters.FilterSet):
    event_type = django_filters.ChoiceFilter(
        choices=[(name, name) for name in sorted(EVENT_TYPES)], empty_label=_("Any event"), label=_("Event type")
    )
    actor = django_filters.CharFilter(field_name="actor_label", lookup_expr="exact", label=_("Actor (username)"))
    object_type = django_filters.ChoiceFilter(
        choices=[(t, t) for t in OBJECT_TYPES], empty_label=_("Any object"), label=_("Object type")
    )
    object_id = django_filters.CharFilter(lookup_expr="exact", label=_("Object id"))
    correlation_id = django_filters.UUIDFilter(label=_("Correlation id"))
    since = django_filters.DateFilter(
        field_name="created_at",
        lookup_expr="date__gte",
        label=_("From"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    until = django_filters.DateFilter(
        field_name="created_at", lookup_expr="date__lte", label=_("To"), widget=forms.DateInput(attrs={"type": "date"})
    )

    class Meta:
        model = AuditEvent
        fields = ["event_type", "actor", "object_type", "object_id", "correlation_id", "since", "until"]
