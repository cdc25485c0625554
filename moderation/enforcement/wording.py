"""How the affected person is told what happened: one wording per action kind, used by the sign-in
block, the notices' subjects (mail and the notices list alike), the banner and the pages that say
what is in force. Plain words about the person's own account or content, never the action's
internal label ("Temporary suspension") and never who reported it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.utils import dateformat, timezone

from moderation.enforcement.actions import ACTION_RULES, ActionKind
from reports.models import TargetKind


@dataclass(frozen=True)
class ActionWording:
    #: What happened, as a clause about the person: "{content}" is their content ("message"),
    #: "{until}" the end (" until 5 Dec") or nothing for an action without one.
    happened: str
    #: The action as a thing that can be lifted: "the suspension of your account".
    noun: str
    #: For actions that keep the account out: the account's state at sign-in ("This account is …").
    sign_in_state: str = ""


ACTION_WORDING: dict[str, ActionWording] = {
    ActionKind.WARNING: ActionWording("you received a warning", "the warning"),
    ActionKind.TIMEOUT: ActionWording("your account is timed out{until}", "the timeout on your account"),
    ActionKind.KICK: ActionWording("you were removed from the live session", "your removal from the live session"),
    ActionKind.SUSPENSION: ActionWording(
        "your account is suspended{until}", "the suspension of your account", sign_in_state="suspended{until}"
    ),
    ActionKind.TERMINATION: ActionWording(
        "your account is permanently terminated",
        "the termination of your account",
        sign_in_state="permanently terminated",
    ),
    ActionKind.REMOVE_CONTENT: ActionWording("your {content} was removed", "the removal of your {content}"),
    ActionKind.QUARANTINE_FILE: ActionWording("your {content} was quarantined", "the quarantine of your {content}"),
    ActionKind.WITHHOLD_PAYMENTS: ActionWording(
        "your payments are withheld{until}", "the withholding of your payments"
    ),
    ActionKind.REFER_AUTHORITIES: ActionWording(
        "your case was referred to the authorities", "the referral to the authorities"
    ),
}

#: A person's content, as they call it.
CONTENT_WORDS = {
    TargetKind.MESSAGE: "message",
    TargetKind.USER: "account's content",
    TargetKind.FILE: "file",
    TargetKind.VIDEO_SESSION: "live video session",
    TargetKind.VIDEO_STORY: "video story",
    TargetKind.PROFILE: "profile",
}


def long_date(moment: datetime) -> str:
    """ "5 Dec 2026, 14:00 UTC": where exactness matters (sign-in, the page of a notice)."""
    return dateformat.format(timezone.localtime(moment), "j M Y, H:i T")


def short_date(moment: datetime) -> str:
    """ "5 Dec" (with the year when it is not this year's): for subjects, which stay short."""
    local = timezone.localtime(moment)
    return dateformat.format(local, "j M" if local.year == timezone.localtime().year else "j M Y")


def _fill(text: str, sanction, *, exact: bool) -> str:
    until = ""
    if sanction.ends_at:
        until = f" until {long_date(sanction.ends_at) if exact else short_date(sanction.ends_at)}"
    content = CONTENT_WORDS.get(sanction.target.kind, "content") if sanction.target_id else "content"
    return text.format(until=until, content=content)


def _sentence(clause: str) -> str:
    return clause[:1].upper() + clause[1:]


def what_happened(sanction, *, exact: bool = False) -> str:
    """ "Your account is suspended until 5 Dec" (exact: "… until 5 Dec 2026, 14:00 UTC")."""
    return _sentence(_fill(ACTION_WORDING[sanction.kind].happened, sanction, exact=exact))


def _in_order(sanctions: Sequence) -> list:
    """What happened to the content first, then to the account, each in the action table's order."""
    order = list(ActionKind.values)
    return sorted(sanctions, key=lambda s: (not ACTION_RULES[s.kind].on_content, order.index(s.kind)))


def decision_subject(sanctions: Sequence) -> str:
    """The subject of a statement of reasons: "Your message was removed and your account is suspended
    until 5 Dec". A referral to the authorities is never part of what the person is told here."""
    told = _in_order([s for s in sanctions if s.kind != ActionKind.REFER_AUTHORITIES])
    clauses = [_fill(ACTION_WORDING[s.kind].happened, s, exact=False) for s in told]
    if not clauses:
        return "A decision about your account"
    text = clauses[0] if len(clauses) == 1 else f"{', '.join(clauses[:-1])} and {clauses[-1]}"
    return _sentence(text)


def lifted_subject(sanction) -> str:
    """ "The suspension of your account was lifted"."""
    return _sentence(f"{_fill(ACTION_WORDING[sanction.kind].noun, sanction, exact=False)} was lifted")


def sign_in_block_message(sanction) -> str:
    """ "This account is permanently terminated." / "This account is suspended until 5 Dec 2026, 14:00 UTC."."""
    state = ACTION_WORDING[sanction.kind].sign_in_state
    if not state:
        raise ValueError(f"{sanction.kind} does not keep an account out")
    return f"This account is {_fill(state, sanction, exact=True)}."


#: An appeal's outcome as the appellant is told it. "Upheld" is the decision's fate, not the
#: appeal's: the appeal did not succeed, which is what the person needs to read.
APPEAL_OUTCOME_SUBJECTS = {
    "upheld": "Your appeal was not successful: the decision stands",
    "partially_reversed": "Your appeal was partly successful: part of the decision was undone",
    "reversed": "Your appeal was successful: the decision was reversed",
}


def appeal_decision_subject(appeal) -> str:
    return APPEAL_OUTCOME_SUBJECTS[appeal.status]


def misuse_subject(*, paused_until: datetime | None) -> str:
    if paused_until is None:
        return "A warning: several of your reports were unfounded"
    return f"We have paused your reports until {short_date(paused_until)}"
