"""The moderator's side keeps one table of its own: internal notes on reports. Enforcement's tables
(sanctions, notices, appeals, the webhook outbox, account standing) are moderation/enforcement/models.py."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from reports.models import Report


class ReportNote(models.Model):
    """An internal note on a report. Moderators only; never shown to reporters or reported users."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        indexes = [models.Index(fields=["report", "created_at"], name="note_report_time_idx")]

    def __str__(self) -> str:
        return f"Note on {self.report_id} by {self.author_id}"
