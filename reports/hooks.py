"""What the reports app asks the enforcement side about accounts and decisions, without importing it.

Data flows one way, reports -> moderation (and its enforcement) -> audit (docs/architecture.md): the
reports app never imports moderation. Yet filing needs an account's standing (a trusted flagger's
shorter deadline, a pause for misuse), the API's token check needs to know whether a sanction keeps
the account out, and the reporter's pages show their restrictions, notices and appeal. Enforcement
answers these through the one object it registers here when Django starts
(moderation/enforcement/apps.py); the answers are the plain values defined below, so no reports
module or template touches enforcement's models.

Nothing registered is a configuration error, said loudly: a silent default would let a suspended
account use the API.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Expression, OuterRef
from django.db.models.functions import Now

from reports.models import Evidence, Report, Target


@dataclass(frozen=True)
class ReporterStanding:
    """What filing needs to know about the person filing."""

    trusted_flagger: bool = False  # DSA Art. 22: their reports get a shorter deadline
    reports_paused_until: datetime | None = None  # DSA Art. 23: a pause after repeated unfounded reports


@dataclass(frozen=True)
class Restriction:
    """A sanction in force on the account, as its owner is told: what, and until when."""

    label: str  # in words, with its end: "Your account is timed out until 5 Dec 2026, 14:00 UTC"
    ends_at: datetime | None


@dataclass(frozen=True)
class AccountNotices:
    """For the account page: what restricts the account now, and how many notices it was sent."""

    restrictions: list[Restriction]
    notice_count: int


@dataclass(frozen=True)
class ReportAppeal:
    """The reporter's appeal against the dismissal of their report, as their report's page shows it."""

    status: str
    status_label: str
    is_open: bool
    created_at: datetime
    due_at: datetime
    decision_reason: str


class EnforcementHooks(Protocol):
    #: The account's relations that `reporter_standing` reads, for `select_related` from the
    #: account: the query that loads the account (an API token's owner) loads them too.
    account_relations: tuple[str, ...]

    def sign_in_blocked(self, account: OuterRef, *, at: datetime | Now | None = None) -> Expression:
        """Whether a sanction in force keeps the account out, as an expression for the query that
        loads the account, so that the check costs no query of its own. `at`: now by default; the
        database's Now() for a query compiled once and run many times (reports/authentication.py)."""
        ...

    def reporter_standing(self, account: AbstractBaseUser) -> ReporterStanding: ...

    def account_notices(self, account: AbstractBaseUser) -> AccountNotices: ...

    def report_appeal(self, report: Report) -> ReportAppeal | None: ...


_registered: EnforcementHooks | None = None


def register(hooks: EnforcementHooks) -> None:
    global _registered
    _registered = hooks


def enforcement() -> EnforcementHooks:
    if _registered is None:
        raise ImproperlyConfigured(
            "No enforcement hooks are registered for the reports app: is moderation.enforcement in INSTALLED_APPS?"
        )
    return _registered


class MediaCheck(Protocol):
    """Every new snapshot and evidence file is matched against the hash bank (moderation's), inside
    the transaction that stores it: a match quarantines the content, files an automated report
    naming the bank entry and escalates it, all or nothing with the filing."""

    def snapshot_stored(self, *, target: Target, content: bytes) -> None: ...

    def evidence_stored(self, *, report: Report, files: list[tuple[Evidence, bytes]]) -> None: ...


_media_check: MediaCheck | None = None


def register_media_check(check: MediaCheck) -> None:
    global _media_check
    _media_check = check


def media_check() -> MediaCheck:
    if _media_check is None:
        raise ImproperlyConfigured(
            "No media check is registered for the reports app: is moderation.signals in INSTALLED_APPS?"
        )
    return _media_check


@dataclass(frozen=True)
class HeldStory:
    """A video story held for review before publication, as POST /api/targets answers it."""

    target: Target
    story_id: uuid.UUID
    status: str  # pending; rejected at once when the frame matches the hash bank
    due_at: datetime
    created: bool  # False: the same story (same frame) was already held


class PrePublicationReview(Protocol):
    """Holds a video story for review before publication: POST /api/targets with
    `review_before_publication` goes through the one submission service of POST /api/stories
    (moderation/stories/services.py `story_submit`: the target registered, the review's deadline,
    the hash bank match, the audit event), which moderation/stories registers here. Raises the
    service's ValidationError (code "conflict" on external_id: the story was held with other media)."""

    def hold_story(
        self,
        *,
        actor: Any,
        external_id: str,
        owner: AbstractBaseUser | None,
        title: str,
        caption: str,
        frame: bytes,
        frame_clean: bytes,
        frame_content_type: str,
        metadata: dict[str, Any],
    ) -> HeldStory: ...


_pre_publication_review: PrePublicationReview | None = None


def register_pre_publication_review(review: PrePublicationReview) -> None:
    global _pre_publication_review
    _pre_publication_review = review


def pre_publication_review() -> PrePublicationReview:
    if _pre_publication_review is None:
        raise ImproperlyConfigured(
            "No pre-publication review is registered for the reports app: is moderation.stories in INSTALLED_APPS?"
        )
    return _pre_publication_review
