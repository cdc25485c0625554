"""How the affected person is told what happened: one wording per action kind, used by the sign-in
block, the notices' subjects (mail and the notices list alike), the banner and the pages that say
what is in force. Plain words about the person's own account or content, never the action's
internal label ("Temporary suspension") and never who reported it.

Every phrase is translated (gettext_lazy, read when used): a notice is written in its recipient's
language (config/i18n.py language_of around its subject and body), the sign-in block and the banner
in the page's."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.utils.dateparse import parse_datetime
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from config.dates import long_date, short_date
from moderation.enforcement.actions import ACTION_RULES, ActionKind
from moderation.enforcement.dsa import NOTICE_SOURCES, decision_source
from reports.models import TargetKind


@dataclass(frozen=True)
class ActionWording:
    #: What happened, as a clause about the person: "{content}" is their content ("your message"),
    #: "{until}" the end (" until 5 Dec") or nothing for an action without one. Translated whole,
    #: so that each language puts the end and the content where its grammar wants them.
    happened: Promise
    #: The action as a thing that can be lifted: "the suspension of your account".
    noun: Promise
    #: For actions that keep the account out: the account's state at sign-in ("This account is …").
    sign_in_state: Promise | str = ""


ACTION_WORDING: dict[str, ActionWording] = {
    ActionKind.WARNING: ActionWording(_("you received a warning"), _("the warning")),
    ActionKind.TIMEOUT: ActionWording(_("your account is timed out{until}"), _("the timeout on your account")),
    ActionKind.KICK: ActionWording(
        _("you were removed from the live session"), _("your removal from the live session")
    ),
    ActionKind.SUSPENSION: ActionWording(
        _("your account is suspended{until}"),
        _("the suspension of your account"),
        sign_in_state=_("suspended{until}"),
    ),
    ActionKind.TERMINATION: ActionWording(
        _("your account is permanently terminated"),
        _("the termination of your account"),
        sign_in_state=_("permanently terminated"),
    ),
    ActionKind.REMOVE_CONTENT: ActionWording(_("{content} was removed"), _("the removal of {content}")),
    ActionKind.QUARANTINE_FILE: ActionWording(_("{content} was quarantined"), _("the quarantine of {content}")),
    ActionKind.WITHHOLD_PAYMENTS: ActionWording(
        _("your payments are withheld{until}"), _("the withholding of your payments")
    ),
    ActionKind.REFER_AUTHORITIES: ActionWording(
        _("your case was referred to the authorities"), _("the referral to the authorities")
    ),
}

#: A person's content, as they call it, with its possessive (languages inflect both together).
CONTENT_WORDS = {
    TargetKind.MESSAGE: _("your message"),
    TargetKind.USER: _("your account's content"),
    TargetKind.FILE: _("your file"),
    TargetKind.VIDEO_SESSION: _("your live video session"),
    TargetKind.VIDEO_STORY: _("your video story"),
    TargetKind.PROFILE: _("your profile"),
}
YOUR_CONTENT = _("your content")


def _content(sanction) -> str:
    return str(CONTENT_WORDS.get(sanction.target.kind, YOUR_CONTENT) if sanction.target_id else YOUR_CONTENT)


def _fill(text, sanction, *, exact: bool) -> str:
    until = ""
    if sanction.ends_at:
        end = long_date(sanction.ends_at) if exact else short_date(sanction.ends_at)
        until = gettext(" until {date}").format(date=end)
    return str(text).format(until=until, content=_content(sanction))


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
        return gettext("A decision about your account")
    if len(clauses) == 1:
        return _sentence(clauses[0])
    text = gettext("{first} and {last}").format(first=gettext(", ").join(clauses[:-1]), last=clauses[-1])
    return _sentence(text)


def lifted_subject(sanction) -> str:
    """ "The suspension of your account was lifted"."""
    what = _fill(ACTION_WORDING[sanction.kind].noun, sanction, exact=False)
    return _sentence(gettext("{what} was lifted").format(what=what))


def sign_in_block_message(sanction) -> str:
    """ "This account is permanently terminated." / "This account is suspended until 5 Dec 2026, 14:00 UTC."."""
    state = ACTION_WORDING[sanction.kind].sign_in_state
    if not state:
        raise ValueError(f"{sanction.kind} does not keep an account out")
    return gettext("This account is {state}.").format(state=_fill(state, sanction, exact=True))


#: An appeal's outcome as the appellant is told it. "Upheld" is the decision's fate, not the
#: appeal's: the appeal did not succeed, which is what the person needs to read.
APPEAL_OUTCOME_SUBJECTS = {
    "upheld": _("Your appeal was not successful: the decision stands"),
    "partially_reversed": _("Your appeal was partly successful: part of the decision was undone"),
    "reversed": _("Your appeal was successful: the decision was reversed"),
}


def appeal_decision_subject(appeal) -> str:
    return str(APPEAL_OUTCOME_SUBJECTS[appeal.status])


def misuse_subject(*, paused_until: datetime | None) -> str:
    if paused_until is None:
        return gettext("A warning: several of your reports were unfounded")
    return gettext("We have paused your reports until {date}").format(date=short_date(paused_until))


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
        "content": _content(primary) if primary.target_id else "",
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
