"""The one table of report categories: severity, deadline, zero tolerance and the EU DSA category.

Everything that needs to know how serious a category is, or how long moderators have to act on
it, reads it from here (deadline hours per severity come from settings.REPORT_DEADLINE_HOURS).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Severity(models.TextChoices):
    CRITICAL = "critical", _("Critical")
    HIGH = "high", _("High")
    NORMAL = "normal", _("Normal")
    LOW = "low", _("Low")


# Lower rank = more urgent; used to order the queue after the deadline.
SEVERITY_RANK = {Severity.CRITICAL: 0, Severity.HIGH: 1, Severity.NORMAL: 2, Severity.LOW: 3}


class Category(models.TextChoices):
    ILLEGAL_CONTENT = "illegal_content", _("Illegal content")
    CHILD_SAFETY = "child_safety", _("Child safety (sexual abuse, exploitation, grooming)")
    UNDERAGE_USER = "underage_user", _("Suspected underage user")
    NON_CONSENSUAL = "non_consensual", _("Non-consensual intimate content")
    IMPERSONATION = "impersonation", _("Impersonation")
    COPYRIGHT = "copyright", _("Copyright infringement")
    HARASSMENT = "harassment", _("Harassment or bullying")
    HATE_SPEECH = "hate_speech", _("Hate speech")
    VIOLENCE = "violence", _("Violence or threats")
    HUMAN_TRAFFICKING = "human_trafficking", _("Human trafficking")
    SEX_TRAFFICKING = "sex_trafficking", _("Sex trafficking")
    FRAUD = "fraud", _("Fraud or scam")
    SPAM = "spam", _("Spam or bot")
    OTHER_TOS = "other_tos", _("Other terms-of-service violation")


@dataclass(frozen=True)
class CategoryRule:
    severity: Severity
    # Zero tolerance: the decision form proposes removal + termination + referral, and the report
    # goes straight to compliance.
    zero_tolerance: bool
    # Key strings of the EU DSA Transparency Database (v2 taxonomy): the statement category and,
    # where one fits exactly, its category_specification keyword.
    dsa_category: str
    # One kind sentence shown next to the choice on the filing form (translated when shown).
    hint: str
    dsa_keyword: str = ""


CATEGORY_RULES: dict[str, CategoryRule] = {
    Category.ILLEGAL_CONTENT: CategoryRule(
        severity=Severity.CRITICAL,
        zero_tolerance=False,
        dsa_category="STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
        hint=_("Content that breaks the law where you are, such as threats or illegal sales."),
    ),
    Category.CHILD_SAFETY: CategoryRule(
        severity=Severity.CRITICAL,
        zero_tolerance=True,
        dsa_category="STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
        dsa_keyword="KEYWORD_GROOMING_SEXUAL_ENTICEMENT_MINORS",
        hint=_("Sexual content involving minors, or an adult trying to groom a child."),
    ),
    Category.UNDERAGE_USER: CategoryRule(
        severity=Severity.CRITICAL,
        zero_tolerance=True,
        dsa_category="STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
        dsa_keyword="KEYWORD_AGE_SPECIFIC_RESTRICTIONS_MINORS",
        hint=_("Someone who appears to be under the minimum age to use the service."),
    ),
    Category.NON_CONSENSUAL: CategoryRule(
        severity=Severity.CRITICAL,
        zero_tolerance=False,
        dsa_category="STATEMENT_CATEGORY_CYBER_VIOLENCE",
        dsa_keyword="KEYWORD_NON_CONSENSUAL_IMAGE_SHARING",
        hint=_("Intimate images or video shared or streamed without the person's consent."),
    ),
    Category.IMPERSONATION: CategoryRule(
        severity=Severity.NORMAL,
        zero_tolerance=False,
        dsa_category="STATEMENT_CATEGORY_SCAMS_AND_FRAUD",
        dsa_keyword="KEYWORD_IMPERSONATION_ACCOUNT_HIJACKING",
        hint=_("An account pretending to be you or someone else."),
    ),
    Category.COPYRIGHT: CategoryRule(
        severity=Severity.LOW,
        zero_tolerance=False,
        dsa_category="STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS",
        dsa_keyword="KEYWORD_COPYRIGHT_INFRINGEMENT",
        hint=_("Your work used without permission; tell us what you own."),
    ),
    Category.HARASSMENT: CategoryRule(
        severity=Severity.HIGH,
        zero_tolerance=False,
        dsa_category="STATEMENT_CATEGORY_CYBER_VIOLENCE",
        dsa_keyword="KEYWORD_CYBER_HARASSMENT",
        hint=_("Repeated unwanted contact, insults or intimidation aimed at a person."),
    ),
    Category.HATE_SPEECH: CategoryRule(
        severity=Severity.HIGH,
        zero_tolerance=False,
        dsa_category="STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
        dsa_keyword="KEYWORD_HATE_SPEECH",
        hint=_("Attacks on people for who they are: origin, religion, gender, sexuality, disability."),
    ),
    Category.VIOLENCE: CategoryRule(
        severity=Severity.CRITICAL,
        zero_tolerance=False,
        dsa_category="STATEMENT_CATEGORY_VIOLENCE",
        dsa_keyword="KEYWORD_INCITEMENT_VIOLENCE_HATRED",
        hint=_("Threats to hurt someone, or content that glorifies or incites violence."),
    ),
    Category.HUMAN_TRAFFICKING: CategoryRule(
        severity=Severity.CRITICAL,
        zero_tolerance=True,
        dsa_category="STATEMENT_CATEGORY_VIOLENCE",
        dsa_keyword="KEYWORD_HUMAN_TRAFFICKING",
        hint=_("Recruiting, moving or exploiting people by force, fraud or coercion."),
    ),
    Category.SEX_TRAFFICKING: CategoryRule(
        severity=Severity.CRITICAL,
        zero_tolerance=True,
        dsa_category="STATEMENT_CATEGORY_VIOLENCE",
        dsa_keyword="KEYWORD_HUMAN_TRAFFICKING",
        hint=_("Selling or coercing someone into sex."),
    ),
    Category.FRAUD: CategoryRule(
        severity=Severity.HIGH,
        zero_tolerance=False,
        dsa_category="STATEMENT_CATEGORY_SCAMS_AND_FRAUD",
        hint=_("Attempts to trick people out of money, accounts or personal data."),
    ),
    Category.SPAM: CategoryRule(
        severity=Severity.LOW,
        zero_tolerance=False,
        dsa_category="STATEMENT_CATEGORY_OTHER_VIOLATION_TC",
        dsa_keyword="KEYWORD_INAUTHENTIC_ACCOUNTS",
        hint=_("Automated, repetitive or unsolicited messages and fake accounts."),
    ),
    Category.OTHER_TOS: CategoryRule(
        severity=Severity.NORMAL,
        zero_tolerance=False,
        dsa_category="STATEMENT_CATEGORY_OTHER_VIOLATION_TC",
        hint=_("Anything else that breaks the community rules; tell us which rule."),
    ),
}


def rule_for(category: str) -> CategoryRule:
    return CATEGORY_RULES[category]


def severity_for(category: str) -> Severity:
    return CATEGORY_RULES[category].severity


def deadline_for(*, category: str, received_at: datetime, trusted_flagger: bool = False) -> datetime:
    """When action is due. Trusted flaggers' notices get priority (DSA Art. 22) as a shorter deadline,
    which is what puts them first within their severity in a queue ordered by deadline."""
    hours = settings.REPORT_DEADLINE_HOURS[severity_for(category)]
    if trusted_flagger:
        hours *= settings.TRUSTED_FLAGGER_DEADLINE_FACTOR
    return received_at + timedelta(hours=hours)


def critical_categories() -> list[str]:
    return [c for c, rule in CATEGORY_RULES.items() if rule.severity == Severity.CRITICAL]


def zero_tolerance_categories() -> list[str]:
    return [c for c, rule in CATEGORY_RULES.items() if rule.zero_tolerance]
