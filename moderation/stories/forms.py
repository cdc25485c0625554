"""The story page's verdict forms. Limits match the service's (which checks them again)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from moderation.forms import LongTextField
from moderation.stories.services import EXPLANATION_MAX
from reports.categories import Category


class StoryRejectForm(forms.Form):
    category = forms.ChoiceField(
        label=_("Reason"),
        choices=[("", _("Choose the reason…")), *Category.choices],
        error_messages={"required": _("Choose the reason from the list.")},
    )
    explanation = LongTextField(
        label=_("Explanation for the story's owner"),
        max_length=EXPLANATION_MAX,
        help_text=_("Sent to the platform with the verdict, which tells the owner. Write what breaks which rule."),
        error_messages={"required": _("Explain the rejection in a sentence or two; the story's owner is told.")},
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": EXPLANATION_MAX}),
    )
