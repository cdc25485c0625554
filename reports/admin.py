"""Django's admin for the reports app. The moderators' queue is /moderation/; the admin exists for
looking things up and as the baseline the queue benchmark compares against (same filters and
search). Read-only for everyone (config.admin.ReadOnlyAdmin): every change goes through a service,
with its audit event."""

from django.contrib import admin

from config.admin import ReadOnlyAdmin
from reports.models import Evidence, Report, Target


@admin.register(Report)
class ReportAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "status",
        "report_type",
        "category",
        "severity",
        "reporter",
        "target",
        "created_at",
        "due_at",
        "assignee",
        "escalated",
    ]
    list_filter = ["status", "report_type", "category", "severity", "escalated", "created_at"]
    search_fields = ["reason", "target__public_id", "reporter__username", "target__owner__username"]
    list_select_related = ["reporter", "target", "assignee"]
    date_hierarchy = "created_at"
    ordering = ["due_at"]


@admin.register(Target)
class TargetAdmin(ReadOnlyAdmin):
    list_display = ["public_id", "kind", "title", "owner", "state", "created_at"]
    list_filter = ["kind", "state"]
    search_fields = ["public_id", "external_id", "title", "owner__username"]
    list_select_related = ["owner"]


@admin.register(Evidence)
class EvidenceAdmin(ReadOnlyAdmin):
    list_display = ["id", "report", "original_name", "content_type", "size", "purged_at"]
