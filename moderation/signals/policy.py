"""What a detector's score means: the one rule, read by the ingestion service and shown in the admin.

Per detector and category (SignalPolicy; a blank category covers the rest of the detector's):

- score < floor: the signal is only kept (its row and audit event; no report).
- floor <= score < review threshold: kept, and joins the target's open automated report when there
  is one (more context for the person reviewing it); it never opens a report.
- score >= review threshold: opens the target's automated report, or joins the open one. The score
  moves the report earlier within its category's deadline (queue_due_at), never past it.
- score >= action threshold (zero-tolerance categories only, reports.categories): as above, and the
  content is quarantined at once and the report escalated to compliance, who confirm or release it
  within the 24-hour deadline. Automation never applies a sanction: only a person's decision does.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from django.utils.translation import gettext as _

from reports.categories import deadline_for, rule_for

KEEP, ATTACH, QUEUE, ACT = "keep", "attach", "queue", "act"

#: How far the top score pulls a report forward within its deadline: a score of 1.0 is due after
#: half the category's window, a score at the review threshold after all of it.
SCORE_PULL = Decimal("0.5")


def applicable(policies: Iterable, *, detector_id: int, category: str):
    """The detector's policy for the category, else its catch-all (blank category), else None."""
    fallback = None
    for policy in policies:
        if policy.detector_id != detector_id:
            continue
        if policy.category == category:
            return policy
        if policy.category == "":
            fallback = policy
    return fallback


def verdict(policy, *, score: Decimal, category: str) -> str:
    if policy.action_threshold is not None and rule_for(category).zero_tolerance and score >= policy.action_threshold:
        return ACT
    if score >= policy.review_threshold:
        return QUEUE
    if score >= policy.floor:
        return ATTACH
    return KEEP


def queue_due_at(*, category: str, received_at: datetime, score: Decimal, review_threshold: Decimal) -> datetime:
    """The report's deadline: its category's, pulled forward by how far the score is above the
    review threshold (so among reports due the same day, the surer detection comes first)."""
    due = deadline_for(category=category, received_at=received_at)
    span = Decimal(1) - review_threshold
    above = (score - review_threshold) / span if span > 0 else Decimal(1)
    above = min(max(above, Decimal(0)), Decimal(1))
    return received_at + (due - received_at) * float(1 - SCORE_PULL * above)


def policy_problems(*, category: str, floor, review_threshold, action_threshold) -> dict[str, str]:
    """What is wrong with a policy's numbers (the admin form and the service say the same)."""
    problems: dict[str, str] = {}
    for name, value in (
        ("floor", floor),
        ("review_threshold", review_threshold),
        ("action_threshold", action_threshold),
    ):
        if value is not None and not Decimal(0) <= value <= Decimal(1):
            problems[name] = _("A score threshold is between 0 and 1.")
    if floor is not None and review_threshold is not None and floor > review_threshold:
        problems["floor"] = _("The floor cannot be above the review threshold.")
    if action_threshold is not None:
        if not category or not rule_for(category).zero_tolerance:
            problems["action_threshold"] = _(
                "An action threshold is only for zero-tolerance categories (child safety, suspected underage "
                "user, human or sex trafficking)."
            )
        elif review_threshold is not None and action_threshold < review_threshold:
            problems["action_threshold"] = _("The action threshold cannot be below the review threshold.")
    return problems
