"""Django's admin as Report Desk has it: the site, and the base of every model admin that shows
evidence or workflow state, which only shows.

Reports, targets, evidence, standing and the audit log change through their services, each with
its audit event; Django's admin writing them directly (a superuser editing a snapshot, deleting a
dismissed report with its evidence, a legal hold) would leave no trace. So no add, change or delete
here, for anyone, and with no delete permission Django offers no "delete selected" action either.
"""

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.contrib.auth import update_session_auth_hash
from django.http import HttpResponseRedirect


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ReportDeskAdminSite(admin.AdminSite):
    """Django's admin site, with one change: a staff member's own password change (the site's
    "Change password" page) is set by the accounts service, which records it. Every other change the
    admin still makes goes through the model admins' services (moderation/admin.py)."""

    def password_change(self, request, extra_context=None):
        from django.contrib.auth.views import PasswordChangeView
        from django.urls import reverse

        from moderation.accounts import account_set_password

        class RecordedPasswordChangeView(PasswordChangeView):
            def form_valid(self, form):
                account = account_set_password(
                    actor=self.request.user,
                    account_id=self.request.user.pk,
                    password=form.cleaned_data["new_password1"],
                )
                update_session_auth_hash(self.request, account)
                return HttpResponseRedirect(self.get_success_url())

        context = {**self.each_context(request), **(extra_context or {})}
        request.current_app = self.name
        return RecordedPasswordChangeView.as_view(
            success_url=reverse("admin:password_change_done", current_app=self.name),
            extra_context=context,
            template_name=self.password_change_template or "registration/password_change_form.html",
        )(request)


class ReportDeskAdminConfig(AdminConfig):
    """Installed instead of django.contrib.admin, so that admin.site is ReportDeskAdminSite."""

    default_site = "config.admin.ReportDeskAdminSite"
