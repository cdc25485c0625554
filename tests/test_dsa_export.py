"""Statements of reasons for the EU DSA Transparency Database: the format, the database's own
validation rules, and no personal data."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from moderation.enforcement.actions import ActionKind
from moderation.enforcement.dsa import scrub, statement_for_decision, statements, validate_statement
from moderation.enforcement.models import Sanction
from reports.categories import Category
from tests.factories import ReportFactory, TargetFactory, UserFactory
from tests.test_enforcement import decide

pytestmark = pytest.mark.django_db
TODAY = timezone.now().date()


def _statement(sanctions):
    return statement_for_decision(list(Sanction.objects.filter(decision_id=sanctions[0].decision_id)))


def test_content_removal_on_terms(moderator):
    statement = _statement(decide(moderator, ReportFactory(category=Category.HARASSMENT), ActionKind.REMOVE_CONTENT))
    assert validate_statement(statement) == []
    assert statement["decision_visibility"] == ["DECISION_VISIBILITY_CONTENT_REMOVED"]
    assert statement["decision_ground"] == "DECISION_GROUND_INCOMPATIBLE_CONTENT"
    assert statement["category"] == "STATEMENT_CATEGORY_CYBER_VIOLENCE"
    assert statement["category_specification"] == ["KEYWORD_CYBER_HARASSMENT"]
    assert statement["content_type"] == ["CONTENT_TYPE_TEXT"]
    assert statement["source_type"] == "SOURCE_ARTICLE_16"
    assert statement["application_date"] == TODAY.isoformat()
    assert "illegal_content_legal_ground" not in statement


def test_account_suspension_on_law_with_end_date(compliance):
    ends = timezone.now() + timedelta(days=7)
    report = ReportFactory(category=Category.HATE_SPEECH, target=TargetFactory(kind="user"))
    statement = _statement(
        decide(
            compliance,
            report,
            ActionKind.SUSPENSION,
            ActionKind.WITHHOLD_PAYMENTS,
            ends_at=ends,
            ground_type="law",
            ground="§130 StGB",
        )
    )
    assert validate_statement(statement) == []
    assert statement["decision_account"] == "DECISION_ACCOUNT_SUSPENDED"
    assert statement["decision_monetary"] == "DECISION_MONETARY_SUSPENSION"
    assert statement["end_date_account_restriction"] == ends.date().isoformat()
    assert statement["decision_ground"] == "DECISION_GROUND_ILLEGAL_CONTENT"
    assert statement["illegal_content_legal_ground"] == "§130 StGB"
    assert statement["content_type"] == ["CONTENT_TYPE_OTHER"] and statement["content_type_other"]
    assert statement["account_type"] == "ACCOUNT_TYPE_PRIVATE"


@pytest.mark.parametrize(
    "kind, target_kind, field, value",
    [
        (ActionKind.TIMEOUT, "message", "decision_provision", "DECISION_PROVISION_PARTIAL_SUSPENSION"),
        (ActionKind.KICK, "video_session", "decision_provision", "DECISION_PROVISION_PARTIAL_SUSPENSION"),
        (ActionKind.QUARANTINE_FILE, "file", "decision_visibility", ["DECISION_VISIBILITY_CONTENT_DISABLED"]),
        (ActionKind.TERMINATION, "profile", "decision_account", "DECISION_ACCOUNT_TERMINATED"),
    ],
)
def test_every_restricting_action_maps_to_a_valid_statement(compliance, kind, target_kind, field, value):
    ends = timezone.now() + timedelta(days=1) if kind == ActionKind.TIMEOUT else None
    statement = _statement(
        decide(compliance, ReportFactory(target=TargetFactory(kind=target_kind)), kind, ends_at=ends)
    )
    assert validate_statement(statement) == []
    assert statement[field] == value


def test_a_warning_alone_restricts_nothing_and_is_not_exported(moderator):
    assert _statement(decide(moderator, ReportFactory(), ActionKind.WARNING, ladder_override_reason="")) is None


def test_no_personal_data_and_stable_unique_puids(moderator):
    reporter = UserFactory(username="rita_reporter", email="rita@example.test")
    owner = UserFactory(username="bad_actor")
    report = ReportFactory(reporter=reporter, target=TargetFactory(owner=owner))
    decide(
        moderator,
        report,
        ActionKind.REMOVE_CONTENT,
        facts="bad_actor wrote to @rita_reporter (rita@example.test, +49 151 2345678) see https://x.test/p/1",
    )
    decide(moderator, ReportFactory(), ActionKind.REMOVE_CONTENT)
    first = list(statements(since=TODAY))
    second = list(statements(since=TODAY))
    assert [s["puid"] for s in first] == [s["puid"] for s in second]  # stable
    assert len({s["puid"] for s in first}) == 2  # unique
    blob = json.dumps(first)
    for personal in ("bad_actor", "rita", "example.test", "2345678", "x.test"):
        assert personal not in blob
    # The account's id appears as no value (a substring test would match a hash that ends in it).
    values = [value for statement in first for value in statement.values()]
    assert owner.pk not in values and str(owner.pk) not in values
    assert "[user] wrote to [user]" in blob


def test_scrub_keeps_plain_words():
    assert scrub("Insults in the lobby room.") == "Insults in the lobby room."
    assert scrub("mail me: a.b@c.de") == "mail me: [email]"


@pytest.mark.parametrize(
    "change, field",
    [
        ({"decision_visibility": None}, "decision_*"),
        ({"decision_ground": "DECISION_GROUND_VIBES"}, "decision_ground"),
        ({"incompatible_content_ground": ""}, "incompatible_content_ground"),
        ({"illegal_content_legal_ground": "x"}, "illegal_content_legal_ground"),
        ({"content_type": ["CONTENT_TYPE_OTHER"]}, "content_type_other"),
        ({"category": "STATEMENT_CATEGORY_NON_EXISTENT"}, "category"),
        ({"territorial_scope": ["US"]}, "territorial_scope"),
        ({"content_date": "21/11/2026"}, "content_date"),
        ({"application_date": "2019-12-31"}, "application_date"),
        ({"end_date_visibility_restriction": "2040-01-01"}, "end_date_visibility_restriction"),
        ({"decision_facts": "x" * 5001}, "decision_facts"),
        ({"automated_detection": "Maybe"}, "automated_detection"),
        ({"automated_decision": "AUTOMATED_DECISION_SOMETIMES"}, "automated_decision"),
        ({"puid": "has spaces/and slashes"}, "puid"),
        ({"source_type": "SOURCE_VOLUNTARY", "source_identity": "someone"}, "source_identity"),
    ],
)
def test_the_validator_refuses_what_the_database_refuses(moderator, change, field):
    statement = _statement(decide(moderator, ReportFactory(), ActionKind.REMOVE_CONTENT))
    statement.update(change)
    assert any(error.startswith(field) for error in validate_statement(statement))


def test_export_command_writes_every_decision_in_the_range(moderator, tmp_path, capsys):
    for _ in range(3):
        decide(moderator, ReportFactory(), ActionKind.REMOVE_CONTENT)
    output = tmp_path / "sor.json"
    call_command("export_statements", since=TODAY.isoformat(), until=TODAY.isoformat(), output=str(output))
    exported = json.loads(output.read_text())["statements"]
    assert len(exported) == 3 and all(validate_statement(s) == [] for s in exported)
    assert "3 statements of reasons" in capsys.readouterr().err
    call_command("export_statements", since=(TODAY + timedelta(days=1)).isoformat(), output=str(output))
    assert json.loads(output.read_text())["statements"] == []


def test_every_statement_from_a_mixed_demo_month_is_valid(moderator, compliance):
    kinds = [
        (ActionKind.REMOVE_CONTENT, "message"),
        (ActionKind.TIMEOUT, "user"),
        (ActionKind.KICK, "video_session"),
        (ActionKind.QUARANTINE_FILE, "file"),
        (ActionKind.TERMINATION, "profile"),
        (ActionKind.WITHHOLD_PAYMENTS, "user"),
        (ActionKind.SUSPENSION, "video_story"),
    ]
    for (kind, target_kind), category in zip(kinds, Category.values, strict=False):
        ends = timezone.now() + timedelta(days=2) if kind in (ActionKind.TIMEOUT, ActionKind.SUSPENSION) else None
        decide(compliance, ReportFactory(category=category, target=TargetFactory(kind=target_kind)), kind, ends_at=ends)
    exported = list(statements(since=date(2020, 1, 1)))
    assert len(exported) == len(kinds)
    assert all(validate_statement(s) == [] for s in exported)
