"""Statements of reasons in the format of the EU DSA Transparency Database API, and a validator
that applies the database's own validation rules (its StatementStoreRequest) to each statement.

One statement per decision: the sanctions that share a decision_id are one decision about one
piece of content or one account, as the database models it (its restriction fields can all be
set on one statement). Warnings and referrals restrict nothing, so on their own they produce no
statement. No personal data leaves: the puid is derived from the decision's random id, free text
is scrubbed of handles, emails, links and numbers, and the reporter is never part of a statement.
"""

from __future__ import annotations

import re
import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from moderation.enforcement.actions import ACTION_RULES
from moderation.enforcement.models import GroundType, Sanction, SanctionStatus
from moderation.stories.models import StoryReview, StoryStatus
from reports.categories import Category
from reports.categories import rule_for as category_rule
from reports.models import ReportChannel

# The database's enumerations (its App\Models\Statement constants), v2 taxonomy.
DECISION_VISIBILITIES = {
    "DECISION_VISIBILITY_CONTENT_REMOVED",
    "DECISION_VISIBILITY_CONTENT_DISABLED",
    "DECISION_VISIBILITY_CONTENT_DEMOTED",
    "DECISION_VISIBILITY_CONTENT_AGE_RESTRICTED",
    "DECISION_VISIBILITY_CONTENT_INTERACTION_RESTRICTED",
    "DECISION_VISIBILITY_CONTENT_LABELLED",
    "DECISION_VISIBILITY_OTHER",
}
DECISION_MONETARIES = {"DECISION_MONETARY_SUSPENSION", "DECISION_MONETARY_TERMINATION", "DECISION_MONETARY_OTHER"}
DECISION_PROVISIONS = {
    "DECISION_PROVISION_PARTIAL_SUSPENSION",
    "DECISION_PROVISION_TOTAL_SUSPENSION",
    "DECISION_PROVISION_PARTIAL_TERMINATION",
    "DECISION_PROVISION_TOTAL_TERMINATION",
}
DECISION_ACCOUNTS = {"DECISION_ACCOUNT_SUSPENDED", "DECISION_ACCOUNT_TERMINATED"}
ACCOUNT_TYPES = {"ACCOUNT_TYPE_BUSINESS", "ACCOUNT_TYPE_PRIVATE"}
DECISION_GROUNDS = {"DECISION_GROUND_ILLEGAL_CONTENT", "DECISION_GROUND_INCOMPATIBLE_CONTENT"}
CONTENT_TYPES = {
    "CONTENT_TYPE_APP",
    "CONTENT_TYPE_AUDIO",
    "CONTENT_TYPE_IMAGE",
    "CONTENT_TYPE_PRODUCT",
    "CONTENT_TYPE_SYNTHETIC_MEDIA",
    "CONTENT_TYPE_TEXT",
    "CONTENT_TYPE_VIDEO",
    "CONTENT_TYPE_OTHER",
}
STATEMENT_CATEGORIES = {
    "STATEMENT_CATEGORY_ANIMAL_WELFARE",
    "STATEMENT_CATEGORY_CONSUMER_INFORMATION",
    "STATEMENT_CATEGORY_CYBER_VIOLENCE",
    "STATEMENT_CATEGORY_CYBER_VIOLENCE_AGAINST_WOMEN",
    "STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS",
    "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
    "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS",
    "STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS",
    "STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE",
    "STATEMENT_CATEGORY_OTHER_VIOLATION_TC",
    "STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
    "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY",
    "STATEMENT_CATEGORY_SCAMS_AND_FRAUD",
    "STATEMENT_CATEGORY_SELF_HARM",
    "STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS",
    "STATEMENT_CATEGORY_VIOLENCE",
}
SOURCE_TYPES = {"SOURCE_ARTICLE_16", "SOURCE_TRUSTED_FLAGGER", "SOURCE_TYPE_OTHER_NOTIFICATION", "SOURCE_VOLUNTARY"}
YES_NO = {"Yes", "No"}
AUTOMATED_DECISIONS = {"AUTOMATED_DECISION_FULLY", "AUTOMATED_DECISION_PARTIALLY", "AUTOMATED_DECISION_NOT_AUTOMATED"}
EEA_COUNTRY_CODES = (
    "AT",
    "BE",
    "BG",
    "CY",
    "CZ",
    "DE",
    "DK",
    "EE",
    "ES",
    "FI",
    "FR",
    "GR",
    "HR",
    "HU",
    "IE",
    "IS",
    "IT",
    "LI",
    "LT",
    "LU",
    "LV",
    "MT",
    "NL",
    "NO",
    "PL",
    "PT",
    "RO",
    "SE",
    "SI",
    "SK",
)
PUID_PATTERN = re.compile(r"^[a-zA-Z0-9\-_]+$")
DATE_FORMAT = "%Y-%m-%d"
END_DATE_FIELDS = {
    "decision_account": "end_date_account_restriction",
    "decision_monetary": "end_date_monetary_restriction",
    "decision_provision": "end_date_service_restriction",
    "decision_visibility": "end_date_visibility_restriction",
}
CONTENT_TYPE_BY_KIND = {
    "message": (["CONTENT_TYPE_TEXT"], ""),
    "profile": (["CONTENT_TYPE_TEXT", "CONTENT_TYPE_IMAGE"], ""),
    "video_session": (["CONTENT_TYPE_VIDEO"], ""),
    "video_story": (["CONTENT_TYPE_VIDEO"], ""),
    "user": (["CONTENT_TYPE_OTHER"], "User account"),
    "file": (["CONTENT_TYPE_OTHER"], "Shared file"),
}

# --- personal data never leaves -----------------------------------------------------------------
_SCRUBBERS = [
    (re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+"), "[email]"),
    (re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE), "[link]"),
    (re.compile(r"(?<!\w)@[\w.]+"), "[user]"),
    (re.compile(r"\+?\d[\d\s().-]{6,}\d"), "[number]"),
]


def scrub(text: str, *, names: Iterable[str] = ()) -> str:
    """Remove what could identify a person: emails, links, @handles, phone-like numbers, and the
    usernames of the people involved."""
    for pattern, replacement in _SCRUBBERS:
        text = pattern.sub(replacement, text)
    for name in sorted({n for n in names if n and len(n) >= 3}, key=len, reverse=True):
        text = re.sub(rf"(?<!\w){re.escape(name)}(?!\w)", "[user]", text, flags=re.IGNORECASE)
    return text


def _day(moment: datetime | date | None) -> str | None:
    if moment is None:
        return None
    if isinstance(moment, datetime) and timezone.is_aware(moment):
        moment = moment.astimezone(UTC)
    return moment.strftime(DATE_FORMAT)


def puid_for(decision_id: uuid.UUID) -> str:
    """Stable, unique, and meaningless outside this system: no account or content id in it."""
    return f"rd-{decision_id}"


#: The sources that are a notice (DSA Art. 16); any other decision was taken on own initiative.
NOTICE_SOURCES = frozenset({"SOURCE_ARTICLE_16", "SOURCE_TRUSTED_FLAGGER", "SOURCE_TYPE_OTHER_NOTIFICATION"})


def decision_source(sanctions: Iterable[Sanction]) -> tuple[str, bool]:
    """What a decision followed, as the Transparency Database names it, and whether the content was
    detected by automated means. The statement of reasons the person receives says the same
    (notices.statement_of_reasons): a notice, or the platform's own initiative (DSA Art. 17(3)(b))."""
    reports = [report for sanction in sanctions for report in sanction.reports.all()]
    if any(getattr(report, "from_trusted_flagger", False) for report in reports):
        return "SOURCE_TRUSTED_FLAGGER", False
    if any(report.channel == ReportChannel.AUTOMATED for report in reports):
        return "SOURCE_VOLUNTARY", True
    if reports:
        return "SOURCE_ARTICLE_16", False
    return "SOURCE_VOLUNTARY", False


def statement_for_decision(sanctions: list[Sanction]) -> dict[str, Any] | None:
    """The statement for one decision, or None when it restricts nothing (warning, referral)."""
    restricting = [s for s in sanctions if ACTION_RULES[s.kind].dsa and s.status != SanctionStatus.PENDING_APPROVAL]
    if not restricting:
        return None
    primary = sanctions[0]
    target = primary.target
    reports = sorted({r.pk: r for s in sanctions for r in s.reports.all()}.values(), key=lambda r: r.created_at)
    category = reports[0].category if reports else None
    names = {primary.account.get_username()} if primary.account_id else set()
    names |= {r.reporter.get_username() for r in reports if r.reporter_id}
    names |= {r.reporter_name for r in reports if r.reporter_name}

    statement: dict[str, Any] = {}
    for sanction in restricting:
        for field, value in ACTION_RULES[sanction.kind].dsa:
            if field == "decision_visibility":
                statement.setdefault(field, [])
                if value not in statement[field]:
                    statement[field].append(value)
            else:
                statement[field] = value
            end_field = END_DATE_FIELDS[field]
            if sanction.ends_at and not statement.get(end_field):
                statement[end_field] = _day(sanction.ends_at)
    if any(field in statement for field in ("decision_account", "decision_provision", "decision_monetary")):
        statement["account_type"] = "ACCOUNT_TYPE_PRIVATE"

    facts = scrub(primary.facts, names=names)[:5000]
    ground = scrub(primary.ground, names=names)[:500]
    if primary.ground_type == GroundType.LAW:
        statement.update(
            decision_ground="DECISION_GROUND_ILLEGAL_CONTENT",
            illegal_content_legal_ground=ground,
            illegal_content_explanation=facts[:2000],
        )
    else:
        statement.update(
            decision_ground="DECISION_GROUND_INCOMPATIBLE_CONTENT",
            incompatible_content_ground=ground,
            incompatible_content_explanation=facts[:2000],
            incompatible_content_illegal="No",
        )

    content_types, content_type_other = (
        CONTENT_TYPE_BY_KIND[target.kind] if target else (["CONTENT_TYPE_OTHER"], "User account")
    )
    if target and target.kind == "file" and target.snapshot_is_image:
        content_types, content_type_other = ["CONTENT_TYPE_IMAGE"], ""
    statement["content_type"] = content_types
    if content_type_other:
        statement["content_type_other"] = content_type_other

    rule = category_rule(category) if category else None
    statement["category"] = rule.dsa_category if rule else "STATEMENT_CATEGORY_OTHER_VIOLATION_TC"
    if rule and rule.dsa_keyword:
        statement["category_specification"] = [rule.dsa_keyword]
    statement["territorial_scope"] = list(settings.DSA_TERRITORIAL_SCOPE)
    posted = (target.metadata or {}).get("posted_at") if target else None
    content_date = _parse_day(posted) or (target.created_at if target else primary.decided_at)
    statement["content_date"] = _day(content_date)
    statement["application_date"] = _day(primary.starts_at)
    statement["decision_facts"] = facts
    source_type, detected_automatically = decision_source(sanctions)
    statement["source_type"] = source_type
    statement["automated_detection"] = "Yes" if detected_automatically else "No"
    statement["automated_decision"] = (
        "AUTOMATED_DECISION_PARTIALLY" if any(s.automated for s in sanctions) else "AUTOMATED_DECISION_NOT_AUTOMATED"
    )
    statement["puid"] = puid_for(primary.decision_id)
    return statement


def _parse_day(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def decisions_between(*, since: date, until: date | None) -> QuerySet[Sanction]:
    sanctions = Sanction.objects.filter(decided_at__date__gte=since)
    if until:
        sanctions = sanctions.filter(decided_at__date__lte=until)
    return (
        sanctions.select_related("account", "target")
        .prefetch_related("reports__reporter")
        .order_by("decided_at", "decision_id")
    )


def statements(*, since: date, until: date | None = None) -> Iterator[dict[str, Any]]:
    """Every decision's statement in the period: sanctions (one per decision), then video stories
    refused publication (one per story)."""
    grouped: dict[uuid.UUID, list[Sanction]] = defaultdict(list)
    for sanction in decisions_between(since=since, until=until).iterator(chunk_size=500):
        grouped[sanction.decision_id].append(sanction)
    for decision in grouped.values():
        statement = statement_for_decision(decision)
        if statement is not None:
            yield statement
    for story in story_rejections_between(since=since, until=until).iterator(chunk_size=500):
        yield statement_for_story(story)


# --- video stories refused publication (moderation/stories) ----------------------------------------

#: A story refused before publication was never visible: the database's "other" visibility
#: restriction, said in words (its CONTENT_REMOVED would claim it had been up).
STORY_VISIBILITY_OTHER = "Not published: refused in review before publication"


def story_rejections_between(*, since: date, until: date | None) -> QuerySet[StoryReview]:
    stories = StoryReview.objects.filter(status=StoryStatus.REJECTED, decided_at__date__gte=since)
    if until:
        stories = stories.filter(decided_at__date__lte=until)
    return stories.select_related("target__owner").order_by("decided_at", "id")


def story_puid(story: StoryReview) -> str:
    return f"rd-story-{story.id}"


def statement_for_story(story: StoryReview) -> dict[str, Any]:
    """A rejected story's statement: a decision on content (its visibility), taken on the platform's
    own initiative (every story is reviewed; no notice), on the terms of service. Detected and
    decided by automation when a hash bank match or a detector rejected it (automated_detection Yes,
    AUTOMATED_DECISION_FULLY); a moderator's rejection is neither."""
    target = story.target
    names = {target.owner.get_username()} if target.owner_id else set()
    rule = category_rule(story.category)
    facts = scrub(story.explanation, names=names)[:2000] or "Refused publication in pre-publication review."
    statement: dict[str, Any] = {
        "decision_visibility": ["DECISION_VISIBILITY_OTHER"],
        "decision_visibility_other": STORY_VISIBILITY_OTHER,
        "decision_ground": "DECISION_GROUND_INCOMPATIBLE_CONTENT",
        "incompatible_content_ground": f"Terms of service: {rule_label(story.category)}",
        "incompatible_content_explanation": facts,
        "incompatible_content_illegal": "No",
        "content_type": list(CONTENT_TYPE_BY_KIND["video_story"][0]),
        "category": rule.dsa_category,
        "territorial_scope": list(settings.DSA_TERRITORIAL_SCOPE),
        # The platform's own submission time, unless it is one the database would refuse.
        "content_date": _day(story.submitted_at if story.submitted_at.year >= 2000 else story.received_at),
        "application_date": _day(story.decided_at),
        "decision_facts": facts,
        "source_type": "SOURCE_VOLUNTARY",
        "automated_detection": "Yes" if story.automated else "No",
        "automated_decision": "AUTOMATED_DECISION_FULLY" if story.automated else "AUTOMATED_DECISION_NOT_AUTOMATED",
        "puid": story_puid(story),
    }
    if rule.dsa_keyword:
        statement["category_specification"] = [rule.dsa_keyword]
    return statement


def rule_label(category: str) -> str:
    return str(Category(category).label)


# --- the database's validation rules --------------------------------------------------------------


def _check_day(value: Any, *, lower: str | None, upper: str = "2038-01-01") -> bool:
    try:
        parsed = datetime.strptime(value, DATE_FORMAT).date()
    except (TypeError, ValueError):
        return False
    if lower and parsed < date.fromisoformat(lower):
        return False
    return parsed <= date.fromisoformat(upper)


def validate_statement(statement: dict[str, Any]) -> list[str]:
    """Every rule of the Transparency Database's StatementStoreRequest; an empty list means valid."""
    errors: list[str] = []
    s = statement

    def bad(field: str, message: str) -> None:
        errors.append(f"{field}: {message}")

    restrictions = ("decision_visibility", "decision_monetary", "decision_provision", "decision_account")
    if not any(s.get(field) for field in restrictions):
        bad("decision_*", "one of decision_visibility, decision_monetary, decision_provision, decision_account")
    if "decision_visibility" in s and s["decision_visibility"] is not None:
        if not isinstance(s["decision_visibility"], list) or not set(s["decision_visibility"]) <= DECISION_VISIBILITIES:
            bad("decision_visibility", "must be a list of DECISION_VISIBILITY_* keys")
        if "DECISION_VISIBILITY_OTHER" in s["decision_visibility"] and not s.get("decision_visibility_other"):
            bad("decision_visibility_other", "required with DECISION_VISIBILITY_OTHER")
    for field, allowed in (
        ("decision_monetary", DECISION_MONETARIES),
        ("decision_provision", DECISION_PROVISIONS),
        ("decision_account", DECISION_ACCOUNTS),
        ("account_type", ACCOUNT_TYPES),
    ):
        if s.get(field) is not None and s[field] not in allowed:
            bad(field, "not an allowed value")
    if s.get("decision_monetary") == "DECISION_MONETARY_OTHER" and not s.get("decision_monetary_other"):
        bad("decision_monetary_other", "required with DECISION_MONETARY_OTHER")
    if s.get("decision_ground") not in DECISION_GROUNDS:
        bad("decision_ground", "required, one of DECISION_GROUNDS")
    if s.get("decision_ground") == "DECISION_GROUND_ILLEGAL_CONTENT":
        for field, limit in (("illegal_content_legal_ground", 500), ("illegal_content_explanation", 2000)):
            if not s.get(field) or len(s[field]) > limit:
                bad(field, f"required with illegal content, at most {limit} characters")
        for field in (
            "incompatible_content_ground",
            "incompatible_content_explanation",
            "incompatible_content_illegal",
        ):
            if field in s:
                bad(field, "excluded unless the ground is incompatible content")
    if s.get("decision_ground") == "DECISION_GROUND_INCOMPATIBLE_CONTENT":
        for field, limit in (("incompatible_content_ground", 500), ("incompatible_content_explanation", 2000)):
            if not s.get(field) or len(s[field]) > limit:
                bad(field, f"required with incompatible content, at most {limit} characters")
        if s.get("incompatible_content_illegal") not in (None, *YES_NO):
            bad("incompatible_content_illegal", "Yes or No")
        for field in ("illegal_content_legal_ground", "illegal_content_explanation"):
            if field in s:
                bad(field, "excluded unless the ground is illegal content")
    content_type = s.get("content_type")
    if not isinstance(content_type, list) or not content_type or not set(content_type) <= CONTENT_TYPES:
        bad("content_type", "required list of CONTENT_TYPE_* keys")
    elif "CONTENT_TYPE_OTHER" in content_type:
        if not s.get("content_type_other") or len(s["content_type_other"]) > 500:
            bad("content_type_other", "required with CONTENT_TYPE_OTHER, at most 500 characters")
    elif "content_type_other" in s:
        bad("content_type_other", "excluded unless CONTENT_TYPE_OTHER")
    if s.get("category") not in STATEMENT_CATEGORIES:
        bad("category", "required, one of STATEMENT_CATEGORIES")
    if not isinstance(s.get("category_specification", []), list):
        bad("category_specification", "must be a list")
    scope = s.get("territorial_scope")
    if scope is not None and (not isinstance(scope, list) or not set(scope) <= set(EEA_COUNTRY_CODES)):
        bad("territorial_scope", "a list of EEA country codes")
    if not _check_day(s.get("content_date"), lower="2000-01-01"):
        bad("content_date", "required, YYYY-MM-DD between 2000-01-01 and 2038-01-01")
    if not _check_day(s.get("application_date"), lower="2020-01-01"):
        bad("application_date", "required, YYYY-MM-DD between 2020-01-01 and 2038-01-01")
    for field in END_DATE_FIELDS.values():
        if s.get(field) is not None and not _check_day(s[field], lower=None):
            bad(field, "YYYY-MM-DD, no later than 2038-01-01")
    facts = s.get("decision_facts")
    if not facts or len(facts) > 5000:
        bad("decision_facts", "required, at most 5000 characters")
    if s.get("source_type") not in SOURCE_TYPES:
        bad("source_type", "required, one of SOURCE_TYPES")
    if s.get("source_identity") and (s.get("source_type") == "SOURCE_VOLUNTARY" or len(s["source_identity"]) > 500):
        bad("source_identity", "not with SOURCE_VOLUNTARY, at most 500 characters")
    if s.get("automated_detection") not in YES_NO:
        bad("automated_detection", "required, Yes or No")
    if s.get("automated_decision") not in AUTOMATED_DECISIONS:
        bad("automated_decision", "required, one of AUTOMATED_DECISIONS")
    puid = s.get("puid")
    if not puid or len(puid) > 500 or not PUID_PATTERN.match(puid):
        bad("puid", "required, at most 500 characters of letters, digits, '-' and '_'")
    return errors
