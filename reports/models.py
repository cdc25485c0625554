from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from reports.categories import Category, Severity


class TargetKind(models.TextChoices):
    MESSAGE = "message", _("Chat message")
    USER = "user", _("Account")
    FILE = "file", _("File")
    VIDEO_SESSION = "video_session", _("Live video session")
    VIDEO_STORY = "video_story", _("Video story")
    PROFILE = "profile", _("Profile")


#: A kind as a word inside a sentence ("Report this chat message"): lower case in English, but not in
#: every language (German nouns keep their capital), so it is translated apart from the label.
KIND_IN_SENTENCE = {
    TargetKind.MESSAGE: pgettext_lazy("a kind of content, inside a sentence", "chat message"),
    TargetKind.USER: pgettext_lazy("a kind of content, inside a sentence", "account"),
    TargetKind.FILE: pgettext_lazy("a kind of content, inside a sentence", "file"),
    TargetKind.VIDEO_SESSION: pgettext_lazy("a kind of content, inside a sentence", "live video session"),
    TargetKind.VIDEO_STORY: pgettext_lazy("a kind of content, inside a sentence", "video story"),
    TargetKind.PROFILE: pgettext_lazy("a kind of content, inside a sentence", "profile"),
}


class TargetState(models.TextChoices):
    VISIBLE = "visible", _("Visible")
    REMOVED = "removed", _("Removed")
    QUARANTINED = "quarantined", _("Quarantined")


class Target(models.Model):
    """A reportable thing as the moderation system knows it, with a snapshot kept as evidence.

    The snapshot (text, or a file with its SHA-256, plus metadata) survives the content's removal on
    the platform, so a decision can always be checked against what was actually reported.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=20, choices=TargetKind.choices)
    # The platform's own identifier; targets registered through the API are idempotent on it.
    external_id = models.CharField(max_length=128, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="owned_targets"
    )
    title = models.CharField(max_length=200, help_text="Short label, e.g. 'Message in #lobby'")
    snapshot_text = models.TextField(blank=True)
    snapshot_file = models.FileField(upload_to="snapshots/%Y/%m/", blank=True)
    snapshot_content_type = models.CharField(max_length=100, blank=True)
    snapshot_sha256 = models.CharField(max_length=64, blank=True)
    snapshot_purged_at = models.DateTimeField(null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=20, choices=TargetState.choices, default=TargetState.VISIBLE)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "external_id"], condition=~Q(external_id=""), name="target_unique_external_id"
            ),
        ]
        indexes = [models.Index(fields=["owner", "kind"], name="target_owner_kind_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.title}"

    @property
    def kind_in_sentence(self) -> str:
        return str(KIND_IN_SENTENCE.get(self.kind, self.get_kind_display()))

    @property
    def snapshot_is_image(self) -> bool:
        return self.snapshot_content_type.startswith("image/")


class ReportStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    REVIEWED = "reviewed", _("Reviewed")
    RESOLVED = "resolved", _("Resolved")
    DISMISSED = "dismissed", _("Dismissed")


OPEN_STATUSES = (ReportStatus.PENDING, ReportStatus.REVIEWED)
CLOSED_STATUSES = (ReportStatus.RESOLVED, ReportStatus.DISMISSED)


class ReportChannel(models.TextChoices):
    WEB = "web", _("Web form")
    API = "api", _("API")
    THIRD_PARTY = "third_party", _("Complaint (no account)")
    AUTOMATED = "automated", _("Automated detection")


class Report(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    report_type = models.CharField(max_length=20, choices=TargetKind.choices)
    target = models.ForeignKey(Target, on_delete=models.PROTECT, related_name="reports")
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="reports_filed"
    )
    # For complaints sent without an account; both may be empty for anonymous child-safety reports.
    reporter_name = models.CharField(max_length=150, blank=True)
    reporter_email = models.EmailField(blank=True)
    channel = models.CharField(max_length=20, choices=ReportChannel.choices, default=ReportChannel.WEB)
    category = models.CharField(max_length=32, choices=Category.choices)
    severity = models.CharField(max_length=10, choices=Severity.choices)
    reason = models.TextField()
    incident_at = models.DateTimeField(null=True, blank=True)
    is_pattern = models.BooleanField(_("Part of a repeated pattern"), default=False)
    # The language the report or complaint was sent in (the page's, at filing): a complainant has no
    # account to store one on, so their mail is written in this one (config/i18n.py recipient_language).
    # A database default too: rows written without the ORM (bench_data's COPY) have no language.
    language = models.CharField(max_length=16, blank=True, default="", db_default="")

    status = models.CharField(max_length=10, choices=ReportStatus.choices, default=ReportStatus.PENDING)
    due_at = models.DateTimeField()
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="reports_assigned"
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="reports_reviewed"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    first_reviewed_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    admin_notes = models.TextField(blank=True)
    escalated = models.BooleanField(default=False)
    escalation_reason = models.TextField(blank=True)
    sla_alerted_at = models.DateTimeField(null=True, blank=True)
    from_trusted_flagger = models.BooleanField(default=False)
    # Set when a dismissal found the report manifestly unfounded (counts towards misuse, DSA Art. 23).
    manifestly_unfounded = models.BooleanField(default=False)
    legal_hold = models.BooleanField(default=False)
    evidence_purged_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["due_at"]
        constraints = [
            # "You already reported this": one open report per person per target.
            models.UniqueConstraint(
                fields=["reporter", "target"],
                condition=Q(status__in=list(OPEN_STATUSES)) & Q(reporter__isnull=False),
                name="report_one_open_per_reporter_target",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "due_at"], name="report_status_due_idx"),
            models.Index(fields=["status", "category", "due_at"], name="report_status_cat_due_idx"),
            models.Index(fields=["status", "report_type", "due_at"], name="report_status_type_due_idx"),
            models.Index(fields=["status", "severity", "due_at"], name="report_status_sev_due_idx"),
            models.Index(fields=["assignee", "status", "due_at"], name="report_assignee_idx"),
            models.Index(fields=["target", "status"], name="report_target_status_idx"),
            models.Index(fields=["reporter", "created_at"], name="report_reporter_time_idx"),
            models.Index(fields=["created_at"], name="report_created_idx"),
            models.Index(fields=["closed_at"], name="report_closed_idx"),
            # The queue's default view: open reports by deadline. Partial, so it stays as small as the
            # open backlog however many closed reports pile up (79 ms -> 2 ms at 300,000 reports).
            models.Index(
                fields=["due_at", "created_at"],
                condition=Q(status__in=list(OPEN_STATUSES)),
                name="report_open_due_idx",
            ),
            models.Index(
                fields=["due_at", "created_at"],
                condition=Q(escalated=True, status__in=list(OPEN_STATUSES)),
                name="report_open_escalated_due_idx",
            ),
            # The oldest open report of each severity, for /metrics: one seek per severity into an
            # index as small as the open backlog.
            models.Index(
                fields=["severity", "created_at"],
                condition=Q(status__in=list(OPEN_STATUSES)),
                name="report_open_sev_created_idx",
            ),
        ]
        permissions = [
            ("view_queue", "Can work the moderation queue and see every report"),
            ("review_report", "Can review, assign, note and escalate reports"),
            ("reopen_report", "Can reopen a resolved or dismissed report"),
            ("view_escalated", "Sees escalated reports in the default view (compliance)"),
            ("set_legal_hold", "Can put a report or an account under legal hold"),
            ("mark_trusted_flagger", "Can mark an account as a trusted flagger"),
        ]

    def __str__(self) -> str:
        return f"Report {self.short_id} ({self.get_category_display()})"

    def get_absolute_url(self) -> str:
        return reverse("reports:detail", args=[self.id])

    @property
    def short_id(self) -> str:
        return str(self.id)[:8]

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


def evidence_upload_to(instance: Evidence, filename: str) -> str:
    # Never trust the uploaded name for the path: a random name with the extension we chose.
    return f"evidence/{instance.report_id}/{uuid.uuid4().hex}{instance.extension}"


class Evidence(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="evidence")
    file = models.FileField(upload_to=evidence_upload_to, blank=True)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    purged_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        verbose_name_plural = "evidence"

    def __str__(self) -> str:
        return self.original_name

    @property
    def extension(self) -> str:
        return {"image/png": ".png", "image/jpeg": ".jpg", "application/pdf": ".pdf"}.get(self.content_type, ".bin")

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


def held_evidence_upload_to(instance: HeldEvidence, filename: str) -> str:
    return f"held/{instance.owner_id}/{uuid.uuid4().hex}"


class HeldEvidence(models.Model):
    """Evidence a reporter chose on a filing form that came back with an error (a box left unticked):
    already checked and cleaned, kept for a short time (HELD_EVIDENCE_MINUTES) for that person's
    next try, so the form can say "photo.png attached" instead of silently dropping it (a browser
    cannot fill a file input again). Its ids are also kept in the person's session: only the
    session that chose a file can attach it. Filing moves it into Evidence; what is left expires."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    file = models.FileField(upload_to=held_evidence_upload_to)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at"]
        verbose_name_plural = "held evidence"

    def __str__(self) -> str:
        return self.original_name


class InfoRequest(models.Model):
    """A moderator's question to the reporter, answered on the reporter's own report page."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="info_requests")
    question = models.TextField()
    asked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    asked_at = models.DateTimeField(auto_now_add=True)
    answer = models.TextField(blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["asked_at"]

    def __str__(self) -> str:
        return f"Question on {self.report_id}"

    @property
    def is_answered(self) -> bool:
        return self.answered_at is not None


class ApiToken(models.Model):
    """A personal API token: "Authorization: Token <key>" acts as its user.

    Only a SHA-256 of the key is stored (the key is 32 random bytes, so a fast hash is enough);
    the key itself is shown once, when it is created. `prefix` finds the row and is shown on the
    account page so that a person can tell their tokens apart.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "revoked_at"], name="apitoken_user_idx")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class PlatformKey(models.Model):
    """The host platform's server key: "Authorization: Platform <key>". Stored hashed, shown once."""

    name = models.CharField(max_length=100, unique=True)
    prefix = models.CharField(max_length=16, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class OutboxMail(models.Model):
    """One mail to send: written, rendered, in the transaction of the change it tells about (so a
    crash after the commit loses nothing and a rolled-back change sends nothing), and delivered by
    a worker (reports/outbox.py), never inside the request.

    A worker claims a row for `claimed_until` (a lease) under `claim`, hands it to the relay, and
    marks it `sent_at` once the relay accepted it; a failure schedules the next attempt with
    backoff. A worker killed mid-delivery leaves its claim to expire, and the row goes out once
    after that. The id is the message's Message-ID, so a receiver can tell a repeat. Sent rows are
    kept MAIL_OUTBOX_KEEP_SENT_HOURS (for the record and the metrics), then deleted: they hold an
    address and a message."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # What the mail is (report_received, report_outcome, info_requested, sla_alert, notice): for the
    # log and the metrics, never shown to anyone.
    kind = models.CharField(max_length=40)
    recipients = models.JSONField()
    subject = models.CharField(max_length=300)
    # Written with the change, or (`template` set) rendered by the worker when it first tries to send
    # it, from `context` (JSON facts) in `language`, and kept here from then on (reports/outbox.py).
    body = models.TextField(blank=True)
    template = models.CharField(max_length=200, blank=True)
    context = models.JSONField(default=dict, blank=True)
    language = models.CharField(max_length=16, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_error = models.TextField(blank=True)
    claim = models.UUIDField(null=True, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        indexes = [
            # What waits: as small as the backlog, whatever has been sent.
            models.Index(fields=["next_attempt_at"], condition=Q(sent_at__isnull=True), name="outboxmail_due_idx"),
            models.Index(fields=["sent_at"], condition=Q(sent_at__isnull=False), name="outboxmail_sent_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind}: {self.subject}"


class Profile(models.Model):
    """What a person chose for their own account: the language of their pages and mail. Created on
    first need (the language switcher); an account without a row has the defaults."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="profile"
    )
    # A code of settings.LANGUAGES, or "" for none chosen (the browser's then). Not a choices field: a
    # language added to settings needs no migration; reports.services.account_language_set checks it.
    language = models.CharField(max_length=16, blank=True, default="")
    # The language of the pages they last signed in with (the switcher's cookie or the browser's):
    # mail and notices fall back to it when no language was chosen, rather than to English.
    seen_language = models.CharField(max_length=16, blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Profile of {self.user_id}"
