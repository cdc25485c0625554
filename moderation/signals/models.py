"""Machine signals: detectors, their policies, the signals they send, and what an automated report
shows of them.

A signal is kept whatever its score (the platform may ask what its detector said and when); what it
does beyond that is its policy's (policy.py). Signals are never deleted by the app.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from moderation.hashbank.models import BankEntry
from reports.categories import Category
from reports.models import Evidence, Report, Target

SCORE_DIGITS = 4  # thresholds and scores as 0.0000..1.0000


class Detector(models.Model):
    """A registered source of signals: a detector of the platform's, by name. A signal from a name
    that is not registered (or not active) is refused: only a known detector, with policies an admin
    set, can put content in front of moderators or quarantine it."""

    name = models.SlugField(
        _("name"), max_length=100, unique=True, help_text=_("As the platform sends it in source.name.")
    )
    description = models.TextField(_("description"), blank=True)
    active = models.BooleanField(
        _("active"), default=True, help_text=_("Signals from an inactive detector are refused.")
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("detector")
        verbose_name_plural = _("detectors")

    def __str__(self) -> str:
        return self.name


class SignalPolicy(models.Model):
    """What a detector's score means in one category (or in every category without its own policy,
    when `category` is blank). See policy.py for the rule itself."""

    detector = models.ForeignKey(Detector, on_delete=models.PROTECT, related_name="policies")
    category = models.CharField(
        _("category"),
        max_length=32,
        choices=Category.choices,
        blank=True,
        help_text=_("Blank: every category this detector has no policy of its own for."),
    )
    floor = models.DecimalField(
        _("floor"),
        max_digits=5,
        decimal_places=SCORE_DIGITS,
        help_text=_(
            "Below it a signal is only kept. From it up to the review threshold it joins an open report, "
            "never opens one."
        ),
    )
    review_threshold = models.DecimalField(
        _("review threshold"),
        max_digits=5,
        decimal_places=SCORE_DIGITS,
        help_text=_(
            "From it a signal opens a report (or joins the open one) in the queue; a higher score puts it "
            "earlier within its deadline."
        ),
    )
    action_threshold = models.DecimalField(
        _("action threshold"),
        max_digits=5,
        decimal_places=SCORE_DIGITS,
        null=True,
        blank=True,
        help_text=_(
            "Zero-tolerance categories only: from it the content is quarantined at once and the report escalated "
            "to compliance, who confirm or release it within the 24-hour deadline. Never a sanction by itself."
        ),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["detector__name", "category"]
        verbose_name = _("signal policy")
        verbose_name_plural = _("signal policies")
        constraints = [
            models.UniqueConstraint(fields=["detector", "category"], name="signal_policy_one_per_category"),
            models.CheckConstraint(
                condition=Q(floor__gte=0) & Q(floor__lte=F("review_threshold")) & Q(review_threshold__lte=1),
                name="signal_policy_thresholds_ordered",
            ),
            models.CheckConstraint(
                condition=Q(action_threshold__isnull=True)
                | (Q(action_threshold__gte=F("review_threshold")) & Q(action_threshold__lte=1)),
                name="signal_policy_action_above_review",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.detector.name} / {self.category or '*'}"


class SignalOutcome(models.TextChoices):
    KEPT = "kept", _("Kept (below the threshold)")
    CREATED = "created", _("Opened a report")
    MERGED = "merged", _("Joined the open report")


class Signal(models.Model):
    """One detection, as the platform sent it, and what became of it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    detector = models.ForeignKey(Detector, on_delete=models.PROTECT, related_name="signals")
    detector_version = models.CharField(max_length=50)
    # The platform's key for this detection: sending it again is answered "duplicate", never twice.
    idempotency_key = models.CharField(max_length=128)
    target = models.ForeignKey(Target, on_delete=models.PROTECT, related_name="signals")
    category = models.CharField(max_length=32, choices=Category.choices)
    score = models.DecimalField(max_digits=5, decimal_places=SCORE_DIGITS)
    labels = models.JSONField(default=list, blank=True)
    outcome = models.CharField(max_length=10, choices=SignalOutcome.choices)
    report = models.ForeignKey(Report, null=True, blank=True, on_delete=models.PROTECT, related_name="signals")
    # The frame, kept as the report's evidence when the signal joins a report (a kept-only signal
    # keeps the frame's hash, not the frame: nobody looks at it, and it may be someone's private media).
    evidence = models.ForeignKey(Evidence, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    frame_sha256 = models.CharField(max_length=64, blank=True)
    quarantined = models.BooleanField(default=False, help_text="This signal quarantined its content (action threshold)")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(fields=["detector", "idempotency_key"], name="signal_idempotency_key_unique"),
        ]
        indexes = [
            models.Index(fields=["report", "created_at"], name="signal_report_idx"),
            models.Index(fields=["target", "created_at"], name="signal_target_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.detector_id} {self.detector_version}: {self.category} {self.score}"


class AutomatedCase(models.Model):
    """What an automated report's queue row and page show of the machines behind it: the strongest
    source and score so far, how many signals and bank matches joined, and whether automation
    quarantined the content (which compliance then confirms or releases). One per automated report,
    joined to the queue's rows in the same query."""

    report = models.OneToOneField(Report, on_delete=models.CASCADE, related_name="automated_case", primary_key=True)
    top_source = models.CharField(max_length=160, help_text="detector name and version, or the hash bank entry")
    top_score = models.DecimalField(max_digits=5, decimal_places=SCORE_DIGITS)
    signal_count = models.PositiveIntegerField(default=0)
    bank_entry = models.ForeignKey(BankEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    quarantined_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.top_source} {self.top_score}"


class MediaOrigin(models.TextChoices):
    SNAPSHOT = "snapshot", _("Target snapshot")
    EVIDENCE = "evidence", _("Evidence file")
    FRAME = "frame", _("Signal frame")


class BankHit(models.Model):
    """A new snapshot, evidence file or signal frame that matched the hash bank: which entry, how
    (same bytes or a near PDQ), and the automated report it filed. Staff see this, never the entry's
    media (the bank holds none)."""

    entry = models.ForeignKey(BankEntry, on_delete=models.PROTECT, related_name="+")
    report = models.ForeignKey(Report, on_delete=models.PROTECT, related_name="bank_hits")
    target = models.ForeignKey(Target, on_delete=models.PROTECT, related_name="+")
    origin = models.CharField(max_length=10, choices=MediaOrigin.choices)
    match_type = models.CharField(max_length=10)
    distance = models.PositiveSmallIntegerField()
    media_sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        indexes = [models.Index(fields=["report", "created_at"], name="bankhit_report_idx")]

    def __str__(self) -> str:
        return f"bank entry {self.entry_id} matched {self.origin}"
