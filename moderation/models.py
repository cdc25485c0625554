"""The moderator's side keeps internal notes on reports and the dashboard's daily rollups. Enforcement's
tables (sanctions, notices, appeals, the webhook outbox, account standing) are moderation/enforcement/models.py."""

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


# --- the dashboard's rollups (moderation/rollups.py) ---------------------------------------------------
# Reports received per day (their local date), kept by `rollup_reports` from the changes the database
# triggers write into ReportRollupChange; the dashboard adds the changes not yet folded in, so its
# figures are exact at every moment. Plain ids and values, no foreign keys: derived data that a
# rebuild recomputes from the reports.


class ReportDayCount(models.Model):
    """Reports received on `day` with this category, severity and current status, and how many of
    them were first reviewed, and decided, at all and by their deadline."""

    day = models.DateField()
    category = models.CharField(max_length=32)
    severity = models.CharField(max_length=10)
    status = models.CharField(max_length=10)
    reports = models.IntegerField(default=0)
    first_review_ended = models.IntegerField(default=0)
    first_review_in_time = models.IntegerField(default=0)
    decision_ended = models.IntegerField(default=0)
    decision_in_time = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["day", "category", "severity", "status"], name="rollup_day_count_key")
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.category} {self.severity} {self.status}: {self.reports}"


class ReportDurationsThrough(models.Model):
    """For the reports of one severity received on or before `day` (from the first day counted): a
    histogram of the time from receipt to the end of one clock (first review, decision), in the fixed
    buckets of moderation/rollups.py. `counts[i]` is the number in bucket `first_bucket + i`.

    Cumulative, so that any period's histogram is two rows' difference (the latest row through its
    last day less the latest row before its first) whatever its length; daily rows made a 90-day
    page merge 720 histograms. A day without a row has the histogram of the latest row before it."""

    day = models.DateField()
    severity = models.CharField(max_length=10)
    clock = models.CharField(max_length=16)
    first_bucket = models.IntegerField()
    counts = models.JSONField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["severity", "clock", "day"], name="rollup_durations_through_key")
        ]

    def __str__(self) -> str:
        return f"through {self.day} {self.severity} {self.clock}: {sum(self.counts)}"


class ModeratorDayCount(models.Model):
    """Reports a moderator closed on `day` (local date of closed_at), by the status they closed at."""

    day = models.DateField()
    moderator_id = models.BigIntegerField()
    status = models.CharField(max_length=10)
    reports = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["day", "moderator_id", "status"], name="rollup_moderator_day_key")
        ]

    def __str__(self) -> str:
        return f"{self.day} moderator {self.moderator_id} {self.status}: {self.reports}"


class SanctionDayCount(models.Model):
    """Sanctions of one kind decided on `day` (local date of decided_at): the dashboard's actions
    by kind, which counted an index range of the sanctions that grew with the period."""

    day = models.DateField()
    kind = models.CharField(max_length=24)
    sanctions = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "kind"], name="rollup_sanction_day_key")]

    def __str__(self) -> str:
        return f"{self.day} {self.kind}: {self.sanctions}"


class ReportRollupChange(models.Model):
    """A report's counted columns before (sign -1) or after (sign +1) a change, written by the
    database triggers of moderation/rollup_triggers.py in the change's own transaction, and folded
    into the rollups (then deleted) by `rollup_reports`. Insert-only while it waits: no row is
    updated, so concurrent filings never wait on one another here."""

    id = models.BigAutoField(primary_key=True)
    recorded_at = models.DateTimeField()
    sign = models.SmallIntegerField()
    created_at = models.DateTimeField()
    category = models.CharField(max_length=32)
    severity = models.CharField(max_length=10)
    status = models.CharField(max_length=10)
    due_at = models.DateTimeField()
    first_reviewed_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by_id = models.BigIntegerField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.sign:+d} report received {self.created_at:%Y-%m-%d %H:%M}, {self.status}"


class SanctionRollupChange(models.Model):
    """A sanction's counted columns before (sign -1) or after (sign +1) a change, written by the
    triggers of moderation/rollup_triggers.py like ReportRollupChange, folded into SanctionDayCount."""

    id = models.BigAutoField(primary_key=True)
    recorded_at = models.DateTimeField()
    sign = models.SmallIntegerField()
    decided_at = models.DateTimeField()
    kind = models.CharField(max_length=24)

    def __str__(self) -> str:
        return f"{self.sign:+d} {self.kind} decided {self.decided_at:%Y-%m-%d %H:%M}"


class RollupState(models.Model):
    """One row: the rollups hold every report and sanction as of their last fold, counted in
    `time_zone`'s days. No row (a database that had reports before the rollups existed, or before
    a rollup table was added: migrations remove the row then) or another time zone means
    they must be built first (`rollup_reports` does)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    time_zone = models.CharField(max_length=64)
    built_at = models.DateTimeField()
    folded_at = models.DateTimeField()

    def __str__(self) -> str:
        return (
            f"rollups in {self.time_zone}, built {self.built_at:%Y-%m-%d %H:%M}, folded {self.folded_at:%Y-%m-%d %H:%M}"
        )
