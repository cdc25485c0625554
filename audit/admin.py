from django.contrib import admin

from audit.models import AuditEvent
from config.admin import ReadOnlyAdmin


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """Read-only: the log is append-only, in code and in the database."""

    list_display = ["id", "created_at", "event_type", "actor_label", "object_type", "object_id"]
    list_filter = ["event_type", "object_type"]
    search_fields = ["object_id", "actor_label"]
