from django.contrib import admin

from audit.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the log is append-only, in code and in the database."""

    list_display = ["id", "created_at", "event_type", "actor_label", "object_type", "object_id"]
    list_filter = ["event_type", "object_type"]
    search_fields = ["object_id", "actor_label"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
