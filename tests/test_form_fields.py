"""{% form_field %} renders what crispy's |as_crispy_field renders, for each widget it builds itself."""

import pytest
from django.template import Context, Template
from django.test.html import parse_html

from moderation.forms import AssignForm, NoteForm, ReasonForm, ReviewForm


def _both(field_expression: str, **context) -> tuple[object, object]:
    ours = Template("{% load form_fields %}{% form_field " + field_expression + " %}").render(Context(context))
    crispy = Template("{% load crispy_forms_tags %}{{ " + field_expression + "|as_crispy_field }}").render(
        Context(context)
    )
    return parse_html(ours), parse_html(crispy)


def _bound_with_errors(form):
    form.is_valid()
    return form


@pytest.mark.parametrize(
    ("expression", "form"),
    [
        ("form.status", ReviewForm(current_status="pending", others_open=2)),
        (
            "form.status",
            _bound_with_errors(ReviewForm({"status": "nonsense"}, current_status="pending", others_open=0)),
        ),
        ("form.admin_notes", ReviewForm(current_status="pending", others_open=0, initial={"admin_notes": "<b>x</b>"})),
        ("form.apply_to_target", ReviewForm(current_status="pending", others_open=2)),
        (
            "form.apply_to_target",
            _bound_with_errors(ReviewForm({"apply_to_target": "on"}, current_status="pending", others_open=2)),
        ),
        ("form.assignee", AssignForm(staff=[])),
        ("form.body", _bound_with_errors(NoteForm({"body": ""}))),
        ("form.body", NoteForm(initial={"body": "</textarea><script>alert(1)</script>"})),
        ("form.reason", ReasonForm(placeholder="Why?")),
    ],
)
def test_form_field_matches_crispy(expression, form):
    ours, crispy = _both(expression, form=form)
    assert ours == crispy
