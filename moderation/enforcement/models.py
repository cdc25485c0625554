"""Enforcement's tables: sanctions (each one action of a decision, with its statement of reasons),
the notices people were sent, appeals, the platform's webhook outbox, and what is known about an
account's standing (trusted flagger, misuse warnings and pauses, legal hold).

They moved here from moderation/ and reports/ with their rows: the migrations rename the tables and
move the content types, so permissions and role groups stay (docs/architecture.md, "Migrations").
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from moderation.enforcement.actions import ACTION_RULES, ActionKind
from reports.models import Report, Target


class SanctionStatus(models.TextChoices):
    PENDING_APPROVAL = "pending_approval", _("Awaiting second approval")
    ACTIVE = "active", _("Active")
    DONE = "done", _("Done")  # one-off actions: a warning given, a kick, an approved referral
    EXPIRED = "expired", _("Ended")
    LIFTED = "lifted", _("Lifted early")
    REVERSED = "reversed", _("Reversed on appeal")


#: A referral awaiting its second approval does not count yet, and a decision reversed on appeal no
#: longer does: neither is a strike on the account, nor can it be appealed.
UNCOUNTED_STATUSES = frozenset({SanctionStatus.PENDING_APPROVAL, SanctionStatus.REVERSED})
#: A sanction can be lifted early while it is in force or awaits its second approval...
LIFTABLE_STATUSES = frozenset({SanctionStatus.ACTIVE, SanctionStatus.PENDING_APPROVAL})
#: ...and an appeal can also reverse a finished or one-off one (a warning given, a suspension ended).
REVERSIBLE_ON_APPEAL_STATUSES = LIFTABLE_STATUSES | {SanctionStatus.DONE, SanctionStatus.EXPIRED}


class GroundType(models.TextChoices):
    TERMS = "terms", _("Terms of service")
    LAW = "law", _("Law")


class Sanction(models.Model):
    """One enforcement action and its statement of reasons (DSA Art. 17).

    A decision that combines several actions (remove the message AND warn its author) is several
    sanctions sharing a `decision_id`.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    decision_id = models.UUIDField(default=uuid.uuid4, db_index=True)
    kind = models.CharField(max_length=24, choices=ActionKind.choices)
    account = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="sanctions"
    )
    target = models.ForeignKey(Target, null=True, blank=True, on_delete=models.PROTECT, related_name="sanctions")
    reports = models.ManyToManyField(Report, related_name="sanctions", blank=True)
    status = models.CharField(max_length=20, choices=SanctionStatus.choices)
    ground_type = models.CharField(max_length=10, choices=GroundType.choices)
    ground = models.CharField(max_length=300, help_text="The law or the clause of the terms of service")
    facts = models.TextField(help_text="The facts and circumstances, in plain words")
    automated = models.BooleanField(default=False, help_text="Whether automated means were used")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(null=True, blank=True)
    ladder_override_reason = models.TextField(blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField()
    # Referral to authorities: a second compliance officer approves; the authority's reference.
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    reference = models.CharField(max_length=200, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    lifted_at = models.DateTimeField(null=True, blank=True)
    lift_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-decided_at"]
        indexes = [
            models.Index(fields=["account", "status", "ends_at"], name="sanction_account_status_idx"),
            models.Index(fields=["status", "ends_at"], name="sanction_status_end_idx"),
            # Decisions in a period by kind (the dashboard): an index-only scan, kind included.
            models.Index(fields=["decided_at", "kind"], name="sanction_decided_kind_idx"),
        ]
        permissions = [
            ("apply_basic_action", "Can warn, time out, kick, suspend temporarily, remove and quarantine"),
            ("apply_severe_action", "Can terminate, withhold payments and refer to authorities"),
            ("approve_referral", "Can approve another officer's referral to authorities"),
            ("lift_sanction", "Can lift or reverse a sanction early"),
            ("view_removed_content", "Can see removed content and quarantined files"),
            ("decide_appeal", "Can decide appeals"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_status_display()})"

    def is_in_force(self, at=None) -> bool:
        """Active and not past its end: expiry is checked on access, the sweep only records it."""
        at = at or timezone.now()
        return self.status == SanctionStatus.ACTIVE and (self.ends_at is None or self.ends_at > at)

    @property
    def acts_on_content(self) -> bool:
        """Removes or quarantines the content, rather than restricting the account (ACTION_RULES)."""
        return ACTION_RULES[self.kind].on_content

    @property
    def is_liftable(self) -> bool:
        """Whether it can be lifted early (the lift service and the sanction's page ask this)."""
        return self.status in LIFTABLE_STATUSES

    @property
    def awaits_second_approval(self) -> bool:
        return self.kind == ActionKind.REFER_AUTHORITIES and self.status == SanctionStatus.PENDING_APPROVAL

    def may_be_approved_by(self, user) -> bool:
        """A referral to the authorities needs a second officer: anyone but who made it."""
        return self.awaits_second_approval and user.pk != self.decided_by_id


class NoticeKind(models.TextChoices):
    STATEMENT_OF_REASONS = "statement_of_reasons", _("Statement of reasons")
    REPORT_OUTCOME = "report_outcome", _("Outcome of your report")
    APPEAL_DECISION = "appeal_decision", _("Decision on your appeal")
    SANCTION_LIFTED = "sanction_lifted", _("Restriction lifted")
    MISUSE_WARNING = "misuse_warning", _("Warning about unfounded reports")
    REPORTS_PAUSED = "reports_paused", _("Your reports are paused")


class Notice(models.Model):
    """What a person was told, kept word for word: proof for compliance, a page for the user."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=24, choices=NoticeKind.choices)
    decision_id = models.UUIDField(null=True, blank=True)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="notices"
    )
    email = models.EmailField(blank=True)
    subject = models.CharField(max_length=200)
    body = models.TextField()
    sanction = models.ForeignKey(Sanction, null=True, blank=True, on_delete=models.PROTECT, related_name="notices")
    report = models.ForeignKey(Report, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    appeal = models.ForeignKey("Appeal", null=True, blank=True, on_delete=models.PROTECT, related_name="notices")
    # What the notice states that no linked row keeps as it was then: a misuse notice's count of
    # unfounded reports and the end of the pause. The page of the notice is built from these and the
    # linked sanction, decision or appeal; `body` is the mail as it was sent.
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # When the recipient first opened it (unread notices are announced on every page).
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["recipient", "created_at"], name="notice_recipient_idx"),
            models.Index(fields=["recipient"], condition=Q(read_at__isnull=True), name="notice_unread_idx"),
        ]

    def __str__(self) -> str:
        return self.subject


class AppealStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    UPHELD = "upheld", _("Upheld")
    PARTIALLY_REVERSED = "partially_reversed", _("Partially reversed")
    REVERSED = "reversed", _("Reversed")


def appeal_upload_to(instance: Appeal, filename: str) -> str:
    return f"appeals/{instance.id}/{uuid.uuid4().hex}"


class Appeal(models.Model):
    """An internal complaint against a decision (DSA Art. 20): a sanction, or a dismissed report."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Null for someone who sent a complaint without an account (DSA Art. 20(1) covers notice senders):
    # they appeal from the signed link in the outcome mail and are answered at appellant_email.
    appellant = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="appeals"
    )
    appellant_email = models.EmailField(blank=True)
    sanction = models.ForeignKey(Sanction, null=True, blank=True, on_delete=models.PROTECT, related_name="appeals")
    report = models.ForeignKey(Report, null=True, blank=True, on_delete=models.PROTECT, related_name="appeals")
    text = models.TextField()
    attachment = models.FileField(upload_to=appeal_upload_to, blank=True)
    attachment_name = models.CharField(max_length=255, blank=True)
    attachment_content_type = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=20, choices=AppealStatus.choices, default=AppealStatus.PENDING)
    due_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["due_at"]
        constraints = [
            models.UniqueConstraint(fields=["appellant", "sanction"], name="appeal_once_per_sanction"),
            models.UniqueConstraint(fields=["appellant", "report"], name="appeal_once_per_report"),
            models.UniqueConstraint(
                fields=["report"], condition=Q(appellant__isnull=True), name="appeal_once_per_complaint"
            ),
            models.CheckConstraint(
                condition=Q(appellant__isnull=False) | (Q(report__isnull=False) & ~Q(appellant_email="")),
                name="appeal_has_appellant",
            ),
            models.CheckConstraint(
                condition=Q(sanction__isnull=False) | Q(report__isnull=False), name="appeal_has_subject"
            ),
        ]
        indexes = [models.Index(fields=["status", "due_at"], name="appeal_status_due_idx")]

    def __str__(self) -> str:
        return f"Appeal {str(self.id)[:8]} ({self.get_status_display()})"

    @property
    def is_open(self) -> bool:
        return self.status == AppealStatus.PENDING

    @property
    def original_decider_id(self) -> int | None:
        """Who took the appealed decision: the sanction's decider, or whoever dismissed the report."""
        return self.sanction.decided_by_id if self.sanction_id else self.report.reviewed_by_id

    def may_be_decided_by(self, user) -> bool:
        """DSA Art. 20(6): an appeal is decided by someone other than the original decider (nor by the
        appellant). The appeal service enforces it; the appeal's page asks it to offer the form."""
        return user.pk not in (self.original_decider_id, self.appellant_id)

    @property
    def appellant_label(self) -> str:
        return f"@{self.appellant.get_username()}" if self.appellant else "a complainant without an account"


class OutboxEvent(models.Model):
    """A webhook for the host platform, written in the same transaction as the change it announces
    and delivered (HMAC-signed) by a worker (webhooks.py); retried with backoff until accepted."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    event_type = models.CharField(max_length=64)
    payload = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["created_at"]
        indexes = [models.Index(fields=["delivered_at", "next_attempt_at"], name="outbox_due_idx")]

    def __str__(self) -> str:
        return f"{self.event_type} {self.id}"


class AccountStanding(models.Model):
    """What the report system knows about an account as a reporter and as a subject of cases.

    Created on first need; an account without a row has the defaults.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="standing"
    )
    # DSA Art. 22: notices from trusted flaggers are given priority (a shorter deadline) and counted apart.
    trusted_flagger = models.BooleanField(default=False)
    # DSA Art. 23: after repeated manifestly unfounded reports, a warning, then a pause in processing.
    misuse_warned_at = models.DateTimeField(null=True, blank=True)
    reports_paused_until = models.DateTimeField(null=True, blank=True)
    # Compliance: keeps this account's evidence past retention (referrals, appeals, litigation).
    legal_hold = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Standing of {self.user_id}"
