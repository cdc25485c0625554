"""Django's admin for the reports app. The moderators' queue is /moderation/; the admin exists for
staff housekeeping and as the baseline the queue benchmark compares against (same filters and
search). Workflow fields are read-only here: state changes go through the services."""

from django.contrib import admin

from reports.models import Evidence, Report, Target


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
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
    readonly_fields = [f.name for f in Report._meta.fields]
    date_hierarchy = "created_at"
    ordering = ["due_at"]

    def has_add_permission(self, request):
        return False


@admin.register(Target)
class TargetAdmin(admin.ModelAdmin):
    list_display = ["public_id", "kind", "title", "owner", "state", "created_at"]
    list_filter = ["kind", "state"]
    search_fields = ["public_id", "external_id", "title", "owner__username"]
    list_select_related = ["owner"]
    readonly_fields = ["public_id", "snapshot_sha256", "state", "snapshot_purged_at"]


@admin.register(Evidence)
class EvidenceAdmin(admin.ModelAdmin):
    list_display = ["id", "report", "original_name", "content_type", "size", "purged_at"]
    readonly_fields = [f.name for f in Evidence._meta.fields]

    def has_add_permission(self, request):
        return False
