"""Enforcement's forms: the decision, a reason, a referral's approval, an appeal and its decision."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from moderation.enforcement.actions import ACTION_RULES, ActionKind, kinds_for
from moderation.enforcement.models import AppealStatus, GroundType
from moderation.enforcement.services import ActionRequest
from reports.forms import MultipleFileField

DURATION_CHOICES = [
    ("1", _("1 hour")),
    ("24", _("24 hours")),
    ("72", _("3 days")),
    ("168", _("7 days")),
    ("720", _("30 days")),
    ("custom", _("Until a date I choose")),
]


class DecisionForm(forms.Form):
    actions = forms.MultipleChoiceField(
        label=_("Actions"),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Combine several if needed, e.g. remove the message and warn its author."),
    )
    duration = forms.ChoiceField(
        label=_("For how long (timeout, suspension, withheld payments)"),
        choices=DURATION_CHOICES,
        initial="24",
        required=False,
    )
    ends_at = forms.DateTimeField(
        label=_("Until"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        help_text=_("Only with “Until a date I choose”."),
    )
    ground_type = forms.ChoiceField(
        label=_("Ground"), choices=GroundType.choices, widget=forms.RadioSelect, initial=GroundType.TERMS
    )
    ground = forms.CharField(
        label=_("Law or terms clause"),
        max_length=300,
        help_text=_("E.g. “Terms of service §4.2 (harassment)” or the article of law."),
    )
    facts = forms.CharField(
        label=_("Facts, in plain words"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("The affected person reads this. Describe what they did, not who reported it."),
    )
    automated = forms.BooleanField(label=_("Automated means were used in this decision"), required=False)
    apply_to_all_open = forms.BooleanField(
        label=_("Apply to all open reports on this target"), required=False, initial=True
    )
    ladder_override_reason = forms.CharField(
        label=_("Why not the ladder's proposal?"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    # Offered once the service said an action changes nothing (a sanction in force already covers it).
    confirm_unchanged = forms.BooleanField(
        label=_("Record it anyway"),
        required=False,
        help_text=_("A decision and a statement of reasons are recorded; what is in force stays as it is."),
    )

    def __init__(self, *args, user, target_kind: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        allowed = [
            k
            for k in kinds_for(user)
            if not ACTION_RULES[k].target_kinds or target_kind in ACTION_RULES[k].target_kinds
        ]
        self.fields["actions"].choices = [(k, ActionKind(k).label) for k in allowed]

    @staticmethod
    def initial_duration(duration: timedelta | None) -> dict[str, object]:
        """The duration fields for a proposed length: one of the choices, or "until" that moment."""
        if duration is None:
            return {}
        hours = str(int(duration.total_seconds() // 3600))
        if duration.total_seconds() % 3600 == 0 and hours in dict(DURATION_CHOICES):
            return {"duration": hours}
        return {"duration": "custom", "ends_at": timezone.localtime(timezone.now() + duration).replace(second=0)}

    def action_requests(self) -> list[ActionRequest]:
        data = self.cleaned_data
        if data.get("duration") == "custom":
            ends_at = data.get("ends_at")
        elif data.get("duration"):
            ends_at = timezone.now() + timedelta(hours=int(data["duration"]))
        else:
            ends_at = None
        requests = []
        for kind in data["actions"]:
            needs_end = ACTION_RULES[kind].duration in ("required", "optional")
            requests.append(ActionRequest(kind=kind, ends_at=ends_at if needs_end else None))
        return requests


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=5000, widget=forms.Textarea(attrs={"rows": 3}))


class ReferralApprovalForm(forms.Form):
    reference = forms.CharField(
        label=_("Authority's reference"), max_length=200, help_text=_("The case or report number the authority gave.")
    )


class AppealForm(forms.Form):
    text = forms.CharField(
        label=_("Why should we change this decision?"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 6, "data-counter": "appeal-counter", "maxlength": 5000}),
        help_text=_("Explain what we got wrong. Someone who did not take the decision reads it."),
    )
    attachment = MultipleFileField(
        label=_("A file that supports your appeal (optional)"),
        required=False,
        help_text=_("One screenshot or PDF, 10 MB at most."),
    )

    def clean_attachment(self):
        files = self.cleaned_data["attachment"]
        if len(files) > 1:
            raise forms.ValidationError(_("Attach one file at most."))
        return files[0] if files else None


class AppealDecisionForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("Decision"),
        widget=forms.RadioSelect,
        choices=[
            (AppealStatus.UPHELD, "Uphold the decision"),
            (AppealStatus.PARTIALLY_REVERSED, "Partially reverse (undo only the appealed action)"),
            (AppealStatus.REVERSED, "Reverse (undo the whole decision)"),
        ],
    )
    reason = forms.CharField(
        label=_("Reasons (sent to the appellant)"), max_length=5000, widget=forms.Textarea(attrs={"rows": 4})
    )
