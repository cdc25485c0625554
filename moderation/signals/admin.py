"""Detectors and their policies in Django's admin, for admins (moderation/roles.py). Every change
goes through services.py with its audit event (before and after); nothing here saves a row itself.
Signals and bank hits are seen on their reports' pages, not here."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from moderation.signals import policy as rules
from moderation.signals import services
from moderation.signals.models import Detector, SignalPolicy


class SignalPolicyForm(forms.ModelForm):
    class Meta:
        model = SignalPolicy
        fields = ("detector", "category", "floor", "review_threshold", "action_threshold")

    def clean(self):
        data = super().clean()
        problems = rules.policy_problems(
            category=data.get("category", ""),
            floor=data.get("floor"),
            review_threshold=data.get("review_threshold"),
            action_threshold=data.get("action_threshold"),
        )
        if problems:
            raise ValidationError(problems)
        return data


@admin.register(SignalPolicy)
class SignalPolicyAdmin(admin.ModelAdmin):
    form = SignalPolicyForm
    list_display = ("detector", "category_or_all", "floor", "review_threshold", "action_threshold", "updated_at")
    list_filter = ("detector", "category")
    list_select_related = ("detector",)

    @admin.display(description=_("category"), ordering="category")
    def category_or_all(self, policy: SignalPolicy) -> str:
        return policy.get_category_display() if policy.category else _("every other category")

    def save_model(self, request, obj, form, change) -> None:
        saved = services.policy_save(
            actor=request.user,
            policy_id=obj.pk if change else None,
            detector=form.cleaned_data["detector"],
            category=form.cleaned_data["category"],
            floor=form.cleaned_data["floor"],
            review_threshold=form.cleaned_data["review_threshold"],
            action_threshold=form.cleaned_data["action_threshold"],
        )
        obj.pk = saved.pk

    def delete_model(self, request, obj) -> None:
        services.policy_delete(actor=request.user, policy_id=obj.pk)

    def delete_queryset(self, request, queryset) -> None:
        for policy_id in list(queryset.values_list("pk", flat=True)):
            services.policy_delete(actor=request.user, policy_id=policy_id)


@admin.register(Detector)
class DetectorAdmin(admin.ModelAdmin):
    fields = ("name", "description", "active")
    list_display = ("name", "active", "created_at")

    def save_model(self, request, obj, form, change) -> None:
        saved = services.detector_save(
            actor=request.user,
            detector_id=obj.pk if change else None,
            name=form.cleaned_data["name"],
            description=form.cleaned_data["description"],
            active=form.cleaned_data["active"],
        )
        obj.pk = saved.pk

    def has_delete_permission(self, request, obj=None) -> bool:
        # Its signals refer to it: a detector is deactivated, never deleted.
        return False
