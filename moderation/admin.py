"""Django's admin for accounts and roles: staff management for the admin role.

Accounts are the one thing the admin site still changes, and every change goes through a service in
moderation/accounts.py, with its audit event; nothing here calls Django's own save of a user. The
forms offer a role (a group of moderation/roles.py) and no superuser box, staff box, group or
permission widget, for anyone: superusers are made at the shell. Groups are the roles table's, so
their admin only shows them. Accounts are deactivated, never deleted: their history refers to them.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model, update_session_auth_hash
from django.contrib.auth.admin import GroupAdmin, UserAdmin, sensitive_post_parameters_m
from django.contrib.auth.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse

from config.admin import ReadOnlyAdmin
from moderation import accounts
from moderation.roles import ROLE_LABELS, ROLES, role_of

User = get_user_model()
ROLE_CHOICES = [("", ROLE_LABELS[None]), *((role, ROLE_LABELS[role]) for role in ROLES)]


class RoleField(forms.ChoiceField):
    def __init__(self, **kwargs) -> None:
        super().__init__(choices=ROLE_CHOICES, required=False, help_text="What this account may do.", **kwargs)


class AccountChangeForm(UserChangeForm):
    role = RoleField()

    class Meta(UserChangeForm.Meta):
        fields = ("username", "password", "first_name", "last_name", "email", "is_active")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["role"].initial = role_of(self.instance) or ""

    def clean_username(self) -> str:
        return _clean_username(self)


class AccountCreationForm(UserCreationForm):
    role = RoleField()

    class Meta(UserCreationForm.Meta):
        fields = ("username", "email")

    def clean_username(self) -> str:
        return _clean_username(self)


def _clean_username(form: forms.ModelForm) -> str:
    try:
        return accounts.clean_username(form.cleaned_data["username"], account_pk=form.instance.pk)
    except ValidationError as error:
        raise ValidationError(error.message_dict["username"]) from error


class AccountAdmin(UserAdmin):
    form = AccountChangeForm
    add_form = AccountCreationForm
    change_password_form = AdminPasswordChangeForm
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("Personal info", {"fields": ("first_name", "last_name", "email")}),
        ("Role", {"fields": ("role", "is_active")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("username", "email", "role", "password1", "password2")}),)
    readonly_fields = ("last_login", "date_joined")
    list_display = ("username", "email", "first_name", "last_name", "is_active", "last_login")
    list_filter = ("is_active", "groups")
    filter_horizontal = ()

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        # A superuser's account (and password) is a superuser's to change: an admin who could set it
        # could sign in as one.
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change) -> None:
        """Never Django's save of a user: the service writes the change with its audit event. (The
        forms ran the service's own checks already, so a refusal here is a race, not bad input.)"""
        if change:
            changed = {name: form.cleaned_data[name] for name in form.changed_data if name in accounts.ACCOUNT_FIELDS}
            saved = accounts.account_update(
                actor=request.user, account_id=obj.pk, role=form.cleaned_data["role"] or None, **changed
            )
        else:
            saved = accounts.account_create(
                actor=request.user,
                username=form.cleaned_data["username"],
                email=form.cleaned_data.get("email", ""),
                password=form.cleaned_data.get("password1") or None,
                role=form.cleaned_data["role"] or None,
            )
        obj.pk = saved.pk
        obj._state.adding = False
        obj.refresh_from_db()

    def save_related(self, request, form, formsets, change) -> None:
        """Roles were set by the service; the forms carry no other relation."""

    @sensitive_post_parameters_m
    def user_change_password(self, request, id, form_url=""):
        """Django's password page, with the password set by a service that records it."""
        account = self.get_object(request, unquote(id))
        if not self.has_change_permission(request, account):
            raise PermissionDenied
        if account is None:
            raise Http404("No such account.")
        form = self.change_password_form(account, request.POST or None)
        if request.method == "POST" and form.is_valid():
            usable = form.cleaned_data.get("set_usable_password", True) and "unset-password" not in request.POST
            saved = accounts.account_set_password(
                actor=request.user, account_id=account.pk, password=form.cleaned_data["password1"] if usable else None
            )
            if saved.pk == request.user.pk:
                update_session_auth_hash(request, saved)
            messages.success(request, "Password changed." if usable else "Password-based sign-in was disabled.")
            return HttpResponseRedirect(reverse(f"{self.admin_site.name}:auth_user_change", args=[account.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": f"Set password: {account.get_username()}",
            "adminForm": admin.helpers.AdminForm(form, [(None, {"fields": list(form.base_fields)})], {}),
            "form_url": form_url,
            "form": form,
            "is_popup": False,
            "add": True,
            "change": False,
            "has_delete_permission": False,
            "has_change_permission": True,
            "has_absolute_url": False,
            "opts": self.opts,
            "original": account,
            "save_as": False,
            "show_save": True,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/auth/user/change_password.html", context)


class RoleGroupAdmin(GroupAdmin, ReadOnlyAdmin):
    """The role groups, as moderation/roles.py defines them (migrations keep them so)."""


admin.site.unregister(User)
admin.site.unregister(Group)
admin.site.register(User, AccountAdmin)
admin.site.register(Group, RoleGroupAdmin)
