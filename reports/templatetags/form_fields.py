"""`{% form_field form.name %}`: one form field in crispy-forms' Bootstrap 5 markup (label, widget,
errors, help text), built in Python.

crispy's `|as_crispy_field` renders each field through several templates, and Django renders the
widget through its own template again: on the moderator's report page (seven fields) that was about
a fifth of the page's time. Text areas, selects, radio buttons and check boxes are built here with
the same markup and classes; any other widget still goes through crispy, so a field is never shown
differently than crispy would.
"""

from __future__ import annotations

from collections.abc import Set
from html import escape as e

from crispy_forms.templatetags.crispy_forms_filters import as_crispy_field
from django import forms, template
from django.forms import BoundField
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

register = template.Library()
_EMPTY = SafeString("")


def _attrs(field: BoundField, css: str) -> dict[str, object]:
    attrs = field.build_widget_attrs(dict(field.field.widget.attrs))
    attrs.setdefault("id", field.auto_id)
    attrs["class"] = f"{css} is-invalid" if field.errors else css
    if field.errors:
        attrs["aria-invalid"] = "true"
    ids = [f"{field.auto_id}_helptext"] if field.help_text else []
    if field.errors:
        ids.append(f"{field.auto_id}_error")
    if ids:
        attrs["aria-describedby"] = " ".join(ids)
    return attrs


def _errors(field: BoundField) -> SafeString:
    if not field.errors:
        return _EMPTY
    return format_html(
        '<div id="{}_error" class="invalid-feedback">{}</div>',
        field.auto_id,
        format_html_join(
            "",
            '<p id="error_{}_{}"><strong>{}</strong></p>',
            ((number, field.auto_id, error) for number, error in enumerate(field.errors, start=1)),
        ),
    )


def _help(field: BoundField) -> SafeString:
    if not field.help_text:
        return _EMPTY
    return format_html('<div id="{}_helptext" class="form-text">{}</div>', field.auto_id, field.help_text)


def _label(field: BoundField, tag: str = "label") -> SafeString:
    required = SafeString('<span class="asteriskField">*</span>') if field.field.required else _EMPTY
    css = "form-label requiredField" if field.field.required else "form-label"
    if tag == "legend":
        return format_html('<legend class="{} fs-6">{}{}</legend>', css, field.label, required)
    return format_html('<label for="{}" class="{}">{}{}</label>', field.auto_id, css, field.label, required)


def chosen_values(field: BoundField) -> set[str]:
    """The field's current value(s) as the strings its choices are compared with."""
    value = field.value()
    values = value if isinstance(value, list | tuple) else [value]
    return {"" if v is None else str(v) for v in values}


def option_tags(choices, chosen: Set[str] = frozenset()) -> SafeString:
    """The <option>s of a select, those in `chosen` selected; one f-string each, every value and
    label escaped with html.escape (what Django's escape calls), as a widget's template would."""
    # bandit B703: the value and label of every option are escaped with e()
    return SafeString(  # nosec B703
        "".join(
            f'<option value="{e(str(value))}"{" selected" if str(value) in chosen else ""}>{e(str(label))}</option>'
            for value, label in choices
        )
    )


@register.simple_tag
def form_field(field: BoundField) -> SafeString:
    widget = field.field.widget
    wrapper = format_html('<div id="div_{}" class="mb-3">', field.auto_id)
    if isinstance(widget, forms.Textarea):
        attrs = _attrs(field, "textarea form-control")
        value = field.value()
        control = format_html(
            "<textarea{}>\n{}</textarea>",
            flatatt({"name": field.html_name, **attrs}),
            "" if value is None else value,
        )
        return format_html("{}{}{}{}{}</div>", wrapper, _label(field), control, _errors(field), _help(field))
    if isinstance(widget, forms.RadioSelect):
        chosen, choices = chosen_values(field), list(field.field.choices)
        invalid_class = " is-invalid" if field.errors else ""
        invalid_attr = SafeString(' aria-invalid="true"') if field.errors else _EMPTY
        required = SafeString(" required") if field.field.required else _EMPTY
        radios = []
        for number, (value, label) in enumerate(choices):
            radios.append(
                format_html(
                    '<div class="form-check"><input type="radio" class="form-check-input{}" name="{}" value="{}" '
                    'id="{}_{}"{}{}{}><label for="{}_{}" class="form-check-label">{}</label>{}</div>',
                    invalid_class,
                    field.html_name,
                    value,
                    field.auto_id,
                    number,
                    required,
                    invalid_attr,
                    SafeString(" checked") if str(value) in chosen else _EMPTY,
                    field.auto_id,
                    number,
                    label,
                    # As crispy does: the errors inside the last choice.
                    _errors(field) if number == len(choices) - 1 else _EMPTY,
                )
            )
        described = format_html(' aria-describedby="{}_error"', field.auto_id) if field.errors else _EMPTY
        return format_html(
            "{}<fieldset{}>{}<div>{}</div>{}</fieldset></div>",
            wrapper,
            described,
            _label(field, "legend"),
            format_html_join("", "{}", ((radio,) for radio in radios)),
            _help(field),
        )
    if isinstance(widget, forms.Select) and not widget.allow_multiple_selected:
        options = option_tags(field.field.choices, chosen_values(field))
        control = format_html(
            "<select{}>{}</select>", flatatt({"name": field.html_name, **_attrs(field, "select form-select")}), options
        )
        return format_html("{}{}{}{}{}</div>", wrapper, _label(field), control, _errors(field), _help(field))
    if isinstance(widget, forms.CheckboxInput):
        attrs = _attrs(field, "checkboxinput form-check-input")
        if widget.check_test(field.value()):
            attrs["checked"] = True
        control = format_html('<input type="checkbox"{}>', flatatt({"name": field.html_name, **attrs}))
        return format_html(
            '<div class="mb-3"><div id="div_{}" class="form-check">{}'
            '<label for="{}" class="form-check-label">{}</label>{}{}</div></div>',
            field.auto_id,
            control,
            field.auto_id,
            field.label,
            _errors(field),
            _help(field),
        )
    return as_crispy_field(field)
