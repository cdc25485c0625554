"""Django's admin for story reviews, read-only (verdicts are taken on the story's page, through the
services, with their audit events and webhooks)."""

from django.contrib import admin

from config.admin import ReadOnlyAdmin
from moderation.stories.models import StoryReview


@admin.register(StoryReview)
class StoryReviewAdmin(ReadOnlyAdmin):
    list_display = ["id", "target", "status", "due_at", "decided_at", "decided_by_label", "category", "automated"]
    list_filter = ["status", "automated", "category"]
    list_select_related = ["target"]
