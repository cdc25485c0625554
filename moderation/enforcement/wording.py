"""How the affected person is told what happened: one wording per action kind, used by the sign-in
block, the notices' subjects (mail and the notices list alike), the banner and the pages that say
what is in force. Plain words about the person's own account or content, never the action's
internal label ("Temporary suspension") and never who reported it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.utils.dateparse import parse_datetime

from config.dates import long_date, short_date
from moderation.enforcement.actions import ACTION_RULES, ActionKind
from moderation.enforcement.dsa import NOTICE_SOURCES, decision_source
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


def in_order(sanctions: Sequence) -> list:
    """What happened to the content first, then to the account, each in the action table's order."""
    order = list(ActionKind.values)
    return sorted(sanctions, key=lambda s: (not ACTION_RULES[s.kind].on_content, order.index(s.kind)))


def decision_subject(sanctions: Sequence) -> str:
    """The subject of a statement of reasons: "Your message was removed and your account is suspended
    until 5 Dec". A referral to the authorities is never part of what the person is told here."""
    told = in_order([s for s in sanctions if s.kind != ActionKind.REFER_AUTHORITIES])
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


# --- the parts of each notice, for its mail and its page alike -------------------------------------


@dataclass(frozen=True)
class Redress:
    """A way to challenge a decision besides our own appeal: what it is, and where to read more."""

    text: str
    url: str


def statement_context(*, sanctions: Sequence, primary) -> dict[str, Any]:
    """A statement of reasons' parts (DSA Art. 17(3)): what was decided, the facts, the ground,
    whether it followed a notice or was taken on our own initiative and whether automated means were
    used, and every way to challenge it: the internal appeal, out-of-court settlement, the courts.
    A referral to the authorities is not part of it."""
    told = in_order([s for s in sanctions if s.kind != ActionKind.REFER_AUTHORITIES])
    # The sanctions of one decision share their reports: the first one's say what it followed.
    source, detected_automatically = decision_source(sanctions[:1])
    return {
        "decided": [(sanction, what_happened(sanction, exact=True)) for sanction in told],
        "primary": primary,
        "content": CONTENT_WORDS.get(primary.target.kind, "content") if primary.target_id else "",
        "followed_notice": source in NOTICE_SOURCES,
        "detected_automatically": detected_automatically,
        "automated_decision": any(s.automated for s in sanctions),
        "appeal_days": settings.APPEAL_WINDOW_DAYS,
        **_redress(),
    }


def lift_context(*, sanction) -> dict[str, Any]:
    return {"sanction": sanction, "what": _fill(ACTION_WORDING[sanction.kind].noun, sanction, exact=False)}


def _redress() -> dict[str, Redress]:
    return {
        "out_of_court": Redress(settings.REDRESS_OUT_OF_COURT_TEXT, settings.REDRESS_OUT_OF_COURT_URL),
        "judicial": Redress(settings.REDRESS_JUDICIAL_TEXT, settings.REDRESS_JUDICIAL_URL),
    }


def appeal_context(*, appeal) -> dict[str, Any]:
    """An appeal's outcome, and where to go from here: the same routes besides us (DSA Art. 21)."""
    return {"appeal": appeal, **_redress()}


def misuse_details(*, paused_until: datetime | None, count: int) -> dict[str, Any]:
    """What a misuse notice states, kept with it (Notice.details): nothing else keeps it as it was."""
    return {
        "count": count,
        "paused_until": paused_until.isoformat() if paused_until else None,
        "window_days": settings.MISUSE_WINDOW_DAYS,
    }


def misuse_context(*, details: dict[str, Any]) -> dict[str, Any]:
    paused_until = details.get("paused_until")
    return {
        "count": details.get("count"),
        "paused_until": parse_datetime(paused_until) if paused_until else None,
        "window_days": details.get("window_days"),
    }
