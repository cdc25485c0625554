"""The one table of enforcement actions: who may take them, what they need, what they do, and how
they are described to the EU DSA Transparency Database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ActionKind(models.TextChoices):
    WARNING = "warning", _("Warning")
    TIMEOUT = "timeout", _("Timeout (temporary restriction)")
    KICK = "kick", _("Kick from the live session")
    SUSPENSION = "suspension", _("Temporary suspension")
    TERMINATION = "termination", _("Permanent termination")
    REMOVE_CONTENT = "remove_content", _("Remove content")
    QUARANTINE_FILE = "quarantine_file", _("Quarantine file")
    WITHHOLD_PAYMENTS = "withhold_payments", _("Withhold payments")
    REFER_AUTHORITIES = "refer_authorities", _("Refer to authorities")


BASIC = "enforcement.apply_basic_action"
SEVERE = "enforcement.apply_severe_action"


@dataclass(frozen=True)
class ActionRule:
    permission: str
    # "required": the decision must give an end; "none": the action has no duration.
    duration: str
    # Ongoing effect until it ends or is lifted (as opposed to a one-off such as a warning).
    lasting: bool
    # Blocks sign-in while active.
    blocks_sign_in: bool = False
    # Acts on the reported content rather than the account.
    on_content: bool = False
    # Counts as a strike on the account for the repeat-offender ladder.
    strike: bool = False
    # Needs a second compliance officer's approval before it counts.
    needs_second_approval: bool = False
    # Kinds of target it applies to (None = any).
    target_kinds: tuple[str, ...] | None = None
    # EU DSA Transparency Database decision fields this action sets.
    dsa: tuple[tuple[str, str], ...] = ()
    # Kinds which, in force at least as long (on the same account; on the same content for a
    # content action), make this action change nothing: a 24-hour timeout inside a week's timeout
    # or a suspension. The decision form then asks for confirmation.
    covered_by: tuple[str, ...] = ()


ACTION_RULES: dict[str, ActionRule] = {
    ActionKind.WARNING: ActionRule(BASIC, "none", lasting=False, strike=True),
    ActionKind.TIMEOUT: ActionRule(
        BASIC,
        "required",
        lasting=True,
        strike=True,
        dsa=(("decision_provision", "DECISION_PROVISION_PARTIAL_SUSPENSION"),),
        covered_by=(ActionKind.TIMEOUT, ActionKind.SUSPENSION, ActionKind.TERMINATION),
    ),
    ActionKind.KICK: ActionRule(
        BASIC,
        "none",
        lasting=False,
        target_kinds=("video_session",),
        dsa=(("decision_provision", "DECISION_PROVISION_PARTIAL_SUSPENSION"),),
    ),
    ActionKind.SUSPENSION: ActionRule(
        BASIC,
        "required",
        lasting=True,
        blocks_sign_in=True,
        strike=True,
        dsa=(("decision_account", "DECISION_ACCOUNT_SUSPENDED"),),
        covered_by=(ActionKind.SUSPENSION, ActionKind.TERMINATION),
    ),
    ActionKind.TERMINATION: ActionRule(
        SEVERE,
        "none",
        lasting=True,
        blocks_sign_in=True,
        strike=True,
        dsa=(("decision_account", "DECISION_ACCOUNT_TERMINATED"),),
        covered_by=(ActionKind.TERMINATION,),
    ),
    ActionKind.REMOVE_CONTENT: ActionRule(
        BASIC,
        "none",
        lasting=True,
        on_content=True,
        dsa=(("decision_visibility", "DECISION_VISIBILITY_CONTENT_REMOVED"),),
        covered_by=(ActionKind.REMOVE_CONTENT,),
    ),
    ActionKind.QUARANTINE_FILE: ActionRule(
        BASIC,
        "none",
        lasting=True,
        on_content=True,
        target_kinds=("file", "video_story"),
        dsa=(("decision_visibility", "DECISION_VISIBILITY_CONTENT_DISABLED"),),
        covered_by=(ActionKind.QUARANTINE_FILE, ActionKind.REMOVE_CONTENT),
    ),
    ActionKind.WITHHOLD_PAYMENTS: ActionRule(
        SEVERE,
        "optional",
        lasting=True,
        dsa=(("decision_monetary", "DECISION_MONETARY_SUSPENSION"),),
        covered_by=(ActionKind.WITHHOLD_PAYMENTS,),
    ),
    ActionKind.REFER_AUTHORITIES: ActionRule(SEVERE, "none", lasting=False, needs_second_approval=True),
}


def rule_for(kind: str) -> ActionRule:
    return ACTION_RULES[kind]


def may_take(user, kind: str) -> bool:
    return user.has_perm(ACTION_RULES[kind].permission)


def kinds_for(user) -> list[str]:
    return [kind for kind in ActionKind.values if may_take(user, kind)]


@dataclass(frozen=True)
class LadderStep:
    kind: str
    duration: timedelta | None


def strike_ladder() -> list[LadderStep]:
    """The repeat-offender ladder from settings.STRIKE_LADDER, e.g. ["warning", "timeout:24h", ...]."""
    steps = []
    for entry in settings.STRIKE_LADDER:
        kind, _sep, length = entry.partition(":")
        duration = None
        if length:
            number, unit = int(length[:-1]), length[-1]
            duration = timedelta(hours=number) if unit == "h" else timedelta(days=number)
        steps.append(LadderStep(kind, duration))
    return steps
