from __future__ import annotations

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Div, Field, Layout, Submit
from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from reports.categories import Category
from reports.models import TargetKind


def add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Show a service's ValidationError on the form: on the field it names, else at the top."""
    if hasattr(error, "error_dict"):
        for field, messages in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages)
    else:
        form.add_error(None, error.messages)


class LongTextField(forms.CharField):
    """Free text from a textarea, with line breaks as "\n".

    Browsers send each line break as CRLF but count it as one character, in maxlength and in our
    live counter; without this, text that fitted in the box would be refused as too long.
    """

    def to_python(self, value):
        value = super().to_python(value)
        return value.replace("\r\n", "\n").replace("\r", "\n") if value else value


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; their content is checked by the filing service."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault(
            "widget", MultipleFileInput(attrs={"accept": "image/png,image/jpeg,image/gif,image/webp,application/pdf"})
        )
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


class ReportForm(forms.Form):
    category = forms.ChoiceField(
        label=_("What is wrong?"),
        choices=[("", _("Choose the closest match…")), *Category.choices],
        help_text=_("Pick the closest match; we look at every report whatever you choose."),
    )
    reason = LongTextField(
        label=_("What happened?"),
        max_length=settings.REPORT_REASON_MAX_WEB,
        widget=forms.Textarea(
            attrs={"rows": 5, "data-counter": "reason-counter", "maxlength": settings.REPORT_REASON_MAX_WEB}
        ),
        help_text=_("Be specific: what was said or shown, and why it is a problem. Quote the words if you can."),
    )
    incident_at = forms.DateTimeField(
        label=_("When did it happen?"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
        help_text=_("Roughly is fine. Timing helps us find it in chat and video logs."),
    )
    is_pattern = forms.BooleanField(
        label=_("This is part of a repeated pattern"),
        required=False,
        help_text=_("Tick this if it has happened before; describe the earlier times above."),
    )
    evidence = MultipleFileField(
        label=_("Evidence (optional)"),
        required=False,
        # help_text is set per form (__init__): a lazy plural formatted here would be read at import.
    )
    good_faith = forms.BooleanField(
        label=_("I believe this report is accurate and I am making it in good faith."),
        required=True,
        error_messages={"required": _("Please confirm that the report is accurate and made in good faith.")},
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["evidence"].help_text = ngettext(
            "Up to %(count)s screenshot or PDF, 10 MB. We remove hidden photo data such as location before storing it.",
            "Up to %(count)s screenshots or PDFs, 10 MB each. We remove hidden photo data such as location "
            "before storing them.",
            settings.EVIDENCE_MAX_FILES,
        ) % {"count": settings.EVIDENCE_MAX_FILES}
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            "category",
            Field("reason"),
            HTML('<p class="counter" id="reason-counter" aria-live="polite"></p>'),
            Div(Div("incident_at", css_class="col"), Div("is_pattern", css_class="col"), css_class="row"),
            "evidence",
            HTML('{% include "reports/_held_evidence.html" %}'),
            "good_faith",
            Submit("submit", _("Send report"), css_class="btn btn-primary"),
        )


class ComplaintForm(forms.Form):
    name = forms.CharField(label=_("Your name"), max_length=150, required=False)
    email = forms.EmailField(
        label=_("Your email"), required=False, help_text=_("We send a confirmation of receipt and the outcome here.")
    )
    content_kind = forms.ChoiceField(
        label=_("What kind of content?"), choices=[("", _("Choose…")), *TargetKind.choices]
    )
    # Declared in the layout's order (kind, category, location), so that the error summary lists the
    # problems in the order the fields are on the page.
    category = forms.ChoiceField(label=_("What is wrong with it?"), choices=[("", _("Choose…")), *Category.choices])
    location = forms.CharField(
        label=_("Where is it?"),
        max_length=500,
        help_text=_("A link, the room or channel name, or the username, and the time if you know it."),
    )
    description = LongTextField(
        label=_("Why should it be removed?"),
        max_length=settings.REPORT_REASON_MAX_WEB,
        widget=forms.Textarea(
            attrs={"rows": 5, "data-counter": "description-counter", "maxlength": settings.REPORT_REASON_MAX_WEB}
        ),
        help_text=_(
            "Explain clearly why the content is illegal or breaks our rules. For copyright, say what work you own."
        ),
    )
    good_faith = forms.BooleanField(
        label=_("I believe the information in this complaint is accurate and complete, and I make it in good faith."),
        required=True,
        error_messages={"required": _("Please confirm that the complaint is accurate and made in good faith.")},
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            HTML(
                format_lazy(
                    '<p class="muted">{}</p>',
                    _(
                        "Name and email are required, except for reports of child sexual abuse, which you may "
                        "send anonymously."
                    ),
                )
            ),
            Div(Div("name", css_class="col"), Div("email", css_class="col"), css_class="row"),
            Div(Div("content_kind", css_class="col"), Div("category", css_class="col"), css_class="row"),
            "location",
            "description",
            HTML('<p class="counter" id="description-counter" aria-live="polite"></p>'),
            "good_faith",
            Submit("submit", _("Send complaint"), css_class="btn btn-primary"),
        )


class InfoAnswerForm(forms.Form):
    """The reporter's answer to a moderator's question, on their report page."""

    info_request = forms.IntegerField(widget=forms.HiddenInput)
    # The length is checked after line breaks are normalised: browsers send CRLF but count one.
    answer = forms.CharField(
        label=_("Your answer"),
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": 2000}),
        help_text=_("Only the moderators see your answer; the person you reported never does."),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # One counter per question when several are open on the page.
        self.counter_id = f"answer-counter-{self['info_request'].value() or ''}"
        self.fields["answer"].widget.attrs["data-counter"] = self.counter_id

    def clean_answer(self) -> str:
        answer = self.cleaned_data["answer"].replace("\r\n", "\n")
        if len(answer) > 2000:
            raise forms.ValidationError(_("Keep your answer to 2,000 characters or fewer."))
        return answer


class ComplaintLinkForm(forms.Form):
    """On a complaint's page, for moderators: the registered content (its kind and the platform's
    own id) or the account the complaint is about (reports.services.complaint_link)."""

    kind = forms.ChoiceField(
        label=_("Kind of content"), choices=[("", _("Choose…")), *TargetKind.choices], required=False
    )
    external_id = forms.CharField(label=_("The platform's id for it"), max_length=128, required=False)
    username = forms.CharField(
        label=_("Or the account (username)"),
        max_length=150,
        required=False,
        help_text=_("When the platform never registered the content: account actions then work, removals do not."),
    )

    def clean(self):
        data = super().clean()
        content = bool(data.get("kind") and data.get("external_id", "").strip())
        if content == bool(data.get("username", "").strip()):
            raise forms.ValidationError(
                _("Give the kind and the platform's id of the content, or the account's username (one of them).")
            )
        return data
