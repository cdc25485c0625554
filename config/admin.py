"""What every model admin that shows evidence or workflow state shares: it only shows.

Reports, targets, evidence, standing and the audit log change through their services, each with
its audit event; Django's admin writing them directly (a superuser editing a snapshot, deleting a
dismissed report with its evidence, a legal hold) would leave no trace. So no add, change or delete
here, for anyone, and with no delete permission Django offers no "delete selected" action either.
"""

from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
