"""Forms of the queue and the report page. Limits match the services' (which check them again)."""

from __future__ import annotations

import uuid

from django import forms
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from moderation import workflow
from moderation.services import ADMIN_NOTES_MAX, NOTE_MAX
from reports.models import ReportStatus

PAGE_SIZES = (25, 50, 100)
QUERY_MAX = 2000

REVIEW_LABELS = {
    ReportStatus.REVIEWED: _("Mark reviewed — investigating"),
    ReportStatus.RESOLVED: _("Resolve — action taken"),
    ReportStatus.DISMISSED: _("Dismiss — no violation"),
}
BULK_CHOICES = [
    ("assign_me", _("Assign to me")),
    ("assign", _("Assign to…")),
    ("unassign", _("Unassign")),
    ("reviewed", _("Mark reviewed")),
    ("resolved", _("Resolve")),
    ("dismissed", _("Dismiss")),
]


class LongTextField(forms.CharField):
    """Text from a textarea with line breaks as "\\n": browsers send CRLF but count one character, in
    maxlength and in the live counter, so text that fitted the box must not be refused as too long."""

    def to_python(self, value):
        value = super().to_python(value)
        return value.replace("\r\n", "\n").replace("\r", "\n") if value else value


def _staff_choices(staff: list[AbstractBaseUser]) -> list[tuple[str, str]]:
    return [(str(member.pk), member.get_username()) for member in staff]


def _textarea(rows: int, max_length: int, counter: str, placeholder: str = "") -> forms.Textarea:
    attrs = {"rows": rows, "maxlength": max_length, "data-counter": counter}
    if placeholder:
        attrs["placeholder"] = placeholder
    return forms.Textarea(attrs=attrs)


class QueueDisplayForm(forms.Form):
    """How the queue is shown (not what it contains): page size and grouping by target."""

    per_page = forms.TypedChoiceField(
        label=_("Rows per page"),
        choices=[(str(size), str(size)) for size in PAGE_SIZES],
        coerce=int,
        required=False,
        empty_value=PAGE_SIZES[0],
    )
    group = forms.BooleanField(label=_("Group by target"), required=False)

    def values(self) -> tuple[int, bool]:
        if self.is_valid():
            return self.cleaned_data["per_page"] or PAGE_SIZES[0], self.cleaned_data["group"]
        return PAGE_SIZES[0], False


class UUIDListField(forms.Field):
    """Several report ids from checkboxes (request.POST.getlist)."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value) -> list[uuid.UUID]:
        if not value:
            return []
        try:
            return list(dict.fromkeys(uuid.UUID(str(item)) for item in value))
        except ValueError:
            raise ValidationError(_("Unknown report id."), code="invalid") from None

    def validate(self, value) -> None:
        if self.required and not value:
            raise ValidationError(_("Select at least one report."), code="required")


class BulkForm(forms.Form):
    ids = UUIDListField()
    action = forms.ChoiceField(choices=BULK_CHOICES)
    assignee = forms.ChoiceField(required=False)
    note = LongTextField(
        required=False,
        max_length=ADMIN_NOTES_MAX,
        widget=_textarea(2, ADMIN_NOTES_MAX, "bulk-note-counter", "One note for all selected reports (optional)"),
    )
    # The queue's query string: where to go back to, and which group a grouped row stands for.
    query = forms.CharField(required=False, max_length=QUERY_MAX, widget=forms.HiddenInput)
    # When the queue page was read: reports changed since are skipped, not overwritten.
    seen_at = forms.DateTimeField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, staff: list[AbstractBaseUser], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.staff = {str(member.pk): member for member in staff}
        self.fields["assignee"].choices = [("", _("Choose a person…")), *_staff_choices(staff)]

    def clean(self):
        data = super().clean()
        if data.get("action") == "assign" and not data.get("assignee"):
            self.add_error("assignee", _("Choose who to assign the reports to."))
        return data

    @property
    def chosen_assignee(self) -> AbstractBaseUser | None:
        return self.staff.get(self.cleaned_data.get("assignee") or "")


class ReviewForm(forms.Form):
    status = forms.ChoiceField(label=_("Decision"), widget=forms.RadioSelect)
    admin_notes = LongTextField(
        label=_("Admin notes"),
        required=False,
        max_length=ADMIN_NOTES_MAX,
        widget=_textarea(4, ADMIN_NOTES_MAX, "admin-notes-counter"),
        help_text=_("Internal. Never shown to the reporter or the reported account."),
    )
    expected_status = forms.ChoiceField(choices=ReportStatus.choices, widget=forms.HiddenInput)
    apply_to_target = forms.BooleanField(required=False)

    def __init__(self, *args, current_status: str, others_open: int = 0, **kwargs) -> None:
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("expected_status", current_status)
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [(s, REVIEW_LABELS[s]) for s in workflow.next_statuses(current_status)]
        if others_open:
            self.fields[
                "apply_to_target"
            ].label = (
                f"Also apply to the {others_open} other open report{'s' if others_open != 1 else ''} on this target"
            )
        else:
            del self.fields["apply_to_target"]


class AssignForm(forms.Form):
    assignee = forms.ChoiceField(label=_("Assign to"), required=False)
    expected_assignee = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, staff: list[AbstractBaseUser], current: int | None = None, **kwargs) -> None:
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("expected_assignee", "" if current is None else str(current))
        kwargs["initial"].setdefault("assignee", "" if current is None else str(current))
        super().__init__(*args, **kwargs)
        self.staff = {str(member.pk): member for member in staff}
        self.fields["assignee"].choices = [("", _("Nobody (unassigned)")), *_staff_choices(staff)]

    def clean_expected_assignee(self) -> int | None:
        value = self.cleaned_data["expected_assignee"]
        if not value:
            return None
        if not value.isdigit():
            raise ValidationError(_("Reload the page and try again."))
        return int(value)

    @property
    def chosen(self) -> AbstractBaseUser | None:
        return self.staff.get(self.cleaned_data.get("assignee") or "")


class ReasonForm(forms.Form):
    reason = LongTextField(
        label=_("Reason"), max_length=NOTE_MAX, widget=forms.Textarea(attrs={"rows": 2, "maxlength": NOTE_MAX})
    )

    def __init__(self, *args, label: str = "Reason", placeholder: str = "", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reason"].label = label
        if placeholder:
            self.fields["reason"].widget.attrs["placeholder"] = placeholder


class NoteForm(forms.Form):
    body = LongTextField(
        label=_("Add an internal note"),
        max_length=NOTE_MAX,
        widget=_textarea(3, NOTE_MAX, "note-counter", _("What you checked, what you found…")),
        help_text=_("Moderators only; never shown to users."),
    )


class QuestionForm(forms.Form):
    question = LongTextField(
        label=_("Ask the reporter for more information"),
        max_length=NOTE_MAX,
        widget=_textarea(3, NOTE_MAX, "question-counter", _("e.g. When did this happen, and in which room?")),
        help_text=_("Shown on the reporter's page for this report and sent by email; they can answer there."),
    )
