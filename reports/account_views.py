"""The account page: who you are, your role, and your personal API tokens (create, revoke).

A new token's key is shown once, in the response to the POST that created it, and never stored:
the page is not redirected after creation and is marked no-store, so the key is in no cache,
session or later page.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db.models import F, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from reports import hooks, services
from reports.forms import add_service_errors
from reports.models import ApiToken


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        help_text=_("What will use it, e.g. “moderation script” or “phone app”."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "placeholder": _("e.g. moderation script")}),
    )


def _tokens(user: AbstractBaseUser) -> QuerySet[ApiToken]:
    # Active tokens first, then revoked ones, newest first within each.
    return ApiToken.objects.filter(user=user).order_by(F("revoked_at").desc(nulls_first=True), "-created_at")


def _page(request: HttpRequest, *, form: ApiTokenForm, new_key: str = "", new_token=None, status=200) -> HttpResponse:
    response = render(
        request,
        "reports/account.html",
        {
            "form": form,
            "tokens": _tokens(request.user),
            "new_key": new_key,
            "new_token": new_token,
            "token_limit": services.API_TOKENS_PER_USER,
            # Restrictions and notices are enforcement's (reports/hooks.py).
            "enforcement": hooks.enforcement().account_notices(request.user),
            "api_base": request.build_absolute_uri("/api/"),
        },
        status=status,
    )
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def account(request: HttpRequest) -> HttpResponse:
    return _page(request, form=ApiTokenForm())


@login_required
@require_POST
def token_create(request: HttpRequest) -> HttpResponse:
    form = ApiTokenForm(request.POST)
    if form.is_valid():
        try:
            token, key = services.api_token_create(actor=request.user, name=form.cleaned_data["name"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return _page(request, form=ApiTokenForm(), new_key=key, new_token=token, status=201)
    return _page(request, form=form, status=400)


@login_required
@require_POST
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    try:
        token = services.api_token_revoke(actor=request.user, token_id=token_id)
    except ApiToken.DoesNotExist:
        raise Http404("No such token") from None
    messages.success(request, gettext("Token “%(name)s” revoked; it no longer works.") % {"name": token.name})
    return redirect("reports:account")
