"""Django's admin for enforcement: account standing, read-only (marks, holds and misuse pauses change
through the services, with their audit events, on the account's page)."""

from django.contrib import admin

from config.admin import ReadOnlyAdmin
from moderation.enforcement.models import AccountStanding


@admin.register(AccountStanding)
class AccountStandingAdmin(ReadOnlyAdmin):
    list_display = ["user", "trusted_flagger", "legal_hold", "misuse_warned_at", "reports_paused_until"]
