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


@pytest.mark.parametrize(
    "data",
    [{}, {"q": '"><script>alert(1)</script>', "created_from": "2026-11-01", "created_to": "nonsense", "overdue": "on"}],
)
@pytest.mark.parametrize("name", ["q", "created_from", "created_to", "overdue"])
def test_input_control_matches_django_widget_rendering(rf, db, data, name):
    from django.http import QueryDict

    from moderation.filters import ReportQueueFilterSet
    from reports.models import Report

    query = QueryDict(mutable=True)
    query.update(data)
    form = ReportQueueFilterSet(query, queryset=Report.objects.none(), request=rf.get("/"), staff=[]).form
    form.is_valid()
    ours = Template("{% load queue_tags %}{% input_control field %}").render(Context({"field": form[name]}))
    django = Template("{{ field }}").render(Context({"field": form[name]}))
    if form[name].errors:  # Django marks an invalid field with aria-invalid too
        assert 'aria-invalid="true"' in ours
        ours = ours.replace(' aria-invalid="true"', "")
        django = django.replace(' aria-invalid="true"', "")
    assert parse_html(ours) == parse_html(django)
