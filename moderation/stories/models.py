"""Video stories held for review before the platform publishes them.

A story is a target of kind `video_story` (reports.Target: its owner, title, caption as the
snapshot text, a frame as the snapshot file) with one StoryReview: when it came, its deadline, and
the verdict. A verdict is final: a story is approved or rejected once, by a person or (hash bank
match, detector above its action threshold) automatically; the row is locked while it is decided,
so two moderators can never both decide it (services.py).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from reports.categories import Category


class StoryStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for review")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class StoryReview(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    target = models.OneToOneField("reports.Target", on_delete=models.PROTECT, related_name="story_review")
    # Where the platform keeps the video; text only, never fetched (the frame is what staff see).
    media_url = models.CharField(max_length=2000, blank=True)
    # The platform's own submission time (as it says); the deadline runs from `received_at`.
    submitted_at = models.DateTimeField()
    received_at = models.DateTimeField(default=timezone.now)
    due_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=StoryStatus.choices, default=StoryStatus.PENDING)

    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The username, or the automatic source's name ("hash bank", a detector) when no person decided.
    decided_by_label = models.CharField(max_length=150, blank=True)
    # A rejection's reason: one category of the fixed list (reports.categories, which also maps it to
    # the DSA statement category), and the explanation sent to the platform.
    category = models.CharField(max_length=32, choices=Category.choices, blank=True)
    explanation = models.TextField(blank=True)
    automated = models.BooleanField(default=False)
    # What decided automatically: "hash bank entry 12 (Partner list)", "detector nudity-v3 2.1".
    automated_source = models.CharField(max_length=300, blank=True)
    # The escalated automated report that puts an automatic rejection before compliance.
    report = models.ForeignKey(
        "reports.Report", null=True, blank=True, on_delete=models.PROTECT, related_name="story_reviews"
    )

    class Meta:
        ordering = ["due_at", "received_at"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(status=StoryStatus.PENDING) & Q(decided_at__isnull=True))
                | (~Q(status=StoryStatus.PENDING) & Q(decided_at__isnull=False)),
                name="story_decided_has_a_time",
            ),
            models.CheckConstraint(
                condition=~Q(status=StoryStatus.REJECTED) | ~Q(category=""),
                name="story_rejection_has_a_category",
            ),
        ]
        indexes = [
            # The pre-publication queue: pending stories, oldest deadline first. Partial, so it stays as
            # small as the backlog however many stories were decided.
            models.Index(
                fields=["due_at", "received_at"],
                condition=Q(status=StoryStatus.PENDING),
                name="story_pending_due_idx",
            ),
            models.Index(fields=["decided_at"], name="story_decided_idx"),
        ]

    def __str__(self) -> str:
        return f"story {self.short_id} ({self.status})"

    @property
    def short_id(self) -> str:
        return str(self.id)[:8]

    @property
    def is_pending(self) -> bool:
        return self.status == StoryStatus.PENDING
