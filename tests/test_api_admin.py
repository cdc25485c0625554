"""The moderators' API: the report list with its filters, one report with its history, review with
the transition table, and account restrictions for the platform."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from moderation.enforcement.actions import ActionKind
from moderation.enforcement.models import SanctionStatus
from moderation.services import report_review
from reports.categories import Category, Severity
from reports.models import Report, ReportStatus, TargetKind
from tests.factories import (
    ReportFactory,
    SanctionFactory,
    TargetFactory,
    UserFactory,
    api_token_key,
    overdue,
    platform_key,
)

pytestmark = pytest.mark.django_db

LIST = "/api/admin/reports"


def token(user) -> dict[str, str]:
    return {"Authorization": f"Token {api_token_key(user)}"}


@pytest.fixture
def mod(moderator):
    return token(moderator)


def review(client, report_id, body, headers, slash=""):
    data = body if isinstance(body, str) else json.dumps(body)
    return client.post(f"{LIST}/{report_id}/review{slash}", data=data, content_type="application/json", headers=headers)


def ids(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {item["id"] for item in response.json()["results"]}


# --- the list -------------------------------------------------------------------------------------


def test_list_items_carry_the_contract_fields(client, mod, user):
    report = ReportFactory(reporter=user, category=Category.HATE_SPEECH)
    response = client.get(LIST, headers=mod)
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1 and body["previous"] is None and body["next"] is None
    item = body["results"][0]
    assert item["id"] == str(report.id)
    assert item["status"] == "pending"
    assert item["report_type"] == "message"
    assert item["reason"] == report.reason
    assert item["reporter_id"] == user.pk
    assert item["target_id"] == str(report.target.public_id)
    assert item["category"] == "hate_speech" and item["severity"] == "high"
    assert item["created_at"] and item["due_at"] and item["overdue"] is False
    assert client.get(LIST + "/", headers=mod).status_code == 200


def test_list_is_most_urgent_first_and_lists_every_status_by_default(client, mod):
    later = ReportFactory(due_at=timezone.now() + timedelta(days=5))
    sooner = ReportFactory(due_at=timezone.now() + timedelta(hours=2))
    closed = ReportFactory(status=ReportStatus.DISMISSED, due_at=timezone.now() + timedelta(days=9))
    results = client.get(LIST, headers=mod).json()["results"]
    assert [item["id"] for item in results] == [str(sooner.id), str(later.id), str(closed.id)]


@pytest.mark.parametrize(
    ("query", "matches"),
    [
        ("status=resolved", {"resolved"}),
        ("report_type=file", {"file"}),
        ("category=spam", {"spam"}),
        ("severity=critical", {"critical"}),
        ("overdue=true", {"overdue"}),
    ],
)
def test_each_filter_narrows_the_list(client, mod, query, matches):
    tagged = {
        "resolved": ReportFactory(status=ReportStatus.RESOLVED),
        "file": ReportFactory(target=TargetFactory(kind=TargetKind.FILE)),
        "spam": ReportFactory(category=Category.SPAM),
        "critical": ReportFactory(category=Category.CHILD_SAFETY),
        "overdue": overdue(),
    }
    ReportFactory(category=Category.HARASSMENT)  # matches none of them
    assert tagged["critical"].severity == Severity.CRITICAL
    assert ids(client.get(f"{LIST}?{query}", headers=mod)) == {str(tagged[name].id) for name in matches}


def test_overdue_false_and_closed_reports_past_their_deadline(client, mod):
    late = overdue()
    late_but_closed = overdue(status=ReportStatus.RESOLVED)
    on_time = ReportFactory()
    assert ids(client.get(f"{LIST}?overdue=true", headers=mod)) == {str(late.id)}
    assert ids(client.get(f"{LIST}?overdue=false", headers=mod)) == {str(late_but_closed.id), str(on_time.id)}


def test_assignee_filter_me_none_and_an_id(client, moderator, mod):
    other_mod = UserFactory(username="other_mod", role="moderator")
    mine = ReportFactory(assignee=moderator)
    theirs = ReportFactory(assignee=other_mod)
    nobodys = ReportFactory()
    assert ids(client.get(f"{LIST}?assignee=me", headers=mod)) == {str(mine.id)}
    assert ids(client.get(f"{LIST}?assignee=none", headers=mod)) == {str(nobodys.id)}
    assert ids(client.get(f"{LIST}?assignee={other_mod.pk}", headers=mod)) == {str(theirs.id)}


def test_filters_combine(client, mod):
    wanted = ReportFactory(category=Category.SPAM, status=ReportStatus.REVIEWED)
    ReportFactory(category=Category.SPAM)
    ReportFactory(status=ReportStatus.REVIEWED)
    assert ids(client.get(f"{LIST}?category=spam&status=reviewed", headers=mod)) == {str(wanted.id)}


@pytest.mark.parametrize(
    "query",
    ["status=open", "status=", "report_type=comment", "category=x", "severity=urgent", "assignee=bob", "overdue=maybe"],
)
def test_unknown_filter_values_are_a_400_naming_the_parameter(client, mod, query):
    response = client.get(f"{LIST}?{query}", headers=mod)
    assert response.status_code == 400
    assert query.split("=")[0] in response.json()["errors"]


def test_list_is_paginated(client, mod):
    ReportFactory.create_batch(5)
    page = client.get(f"{LIST}?page_size=2", headers=mod).json()
    assert page["count"] == 5 and len(page["results"]) == 2
    last = client.get(f"{LIST}?page_size=2&page=3", headers=mod).json()
    assert len(last["results"]) == 1 and last["next"] is None
    assert client.get(f"{LIST}?page_size=201", headers=mod).status_code == 400
    assert client.get(f"{LIST}?page=-1", headers=mod).status_code == 400
    assert client.get(f"{LIST}?page=4&page_size=2", headers=mod).status_code == 404


def test_list_costs_a_fixed_number_of_queries(client, mod, django_assert_max_num_queries):
    ReportFactory.create_batch(2)
    with django_assert_max_num_queries(8):
        client.get(LIST, headers=mod)
    ReportFactory.create_batch(30)
    with django_assert_max_num_queries(8):
        assert len(client.get(LIST, headers=mod).json()["results"]) == 32


# --- who may use the admin endpoints -------------------------------------------------------------


def test_anonymous_gets_401_on_every_admin_endpoint(client):
    report = ReportFactory()
    for response in (
        client.get(LIST),
        client.get(f"{LIST}/{report.id}"),
        review(client, report.id, {"status": "reviewed"}, {}),
    ):
        assert response.status_code == 401
        assert response.json()["detail"]


def test_an_ordinary_user_gets_403_even_for_their_own_report(client, user):
    report = ReportFactory(reporter=user)
    headers = token(user)
    assert client.get(LIST, headers=headers).status_code == 403
    assert client.get(f"{LIST}/{report.id}", headers=headers).status_code == 403
    assert client.get(f"{LIST}/{uuid.uuid4()}", headers=headers).status_code == 403
    assert review(client, report.id, {"status": "dismissed"}, headers).status_code == 403
    report.refresh_from_db()
    assert report.status == ReportStatus.PENDING


def test_a_platform_key_gets_403_on_the_report_endpoints(client):
    headers = {"Authorization": f"Platform {platform_key()}"}
    assert client.get(LIST, headers=headers).status_code == 403
    assert client.get(f"{LIST}/{ReportFactory().id}", headers=headers).status_code == 403


@pytest.mark.parametrize("role", ["moderator", "compliance", "admin"])
def test_moderators_and_up_see_the_list(client, role):
    ReportFactory()
    assert client.get(LIST, headers=token(UserFactory(username=f"st_{role}", role=role))).json()["count"] == 1


def test_a_moderator_using_the_session_reads_the_list(client, moderator):
    client.force_login(moderator)
    ReportFactory()
    assert client.get(LIST).json()["count"] == 1


# --- one report ------------------------------------------------------------------------------------


def test_detail_has_the_report_target_and_history(client, mod, moderator):
    from moderation.services import report_review

    report = ReportFactory(category=Category.FRAUD)
    report_review(actor=moderator, report_id=report.id, status="reviewed", admin_notes="Looking at the logs.")
    response = client.get(f"{LIST}/{report.id}", headers=mod)
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == str(report.id) and body["status"] == "reviewed"
    assert body["reviewed_by_id"] == moderator.pk and body["reviewed_at"]
    assert body["admin_notes"] == "Looking at the logs."
    assert body["target"]["target_id"] == str(report.target.public_id)
    assert body["target"]["owner_id"] == report.target.owner_id
    history = body["history"]
    assert [event["event_type"] for event in history] == ["report.reviewed"]
    assert history[0]["actor_id"] == moderator.pk and history[0]["actor"] == moderator.username
    assert history[0]["before"]["status"] == "pending" and history[0]["after"]["status"] == "reviewed"
    assert client.get(f"{LIST}/{report.id}/", headers=mod).status_code == 200


def test_detail_of_an_unknown_or_malformed_id_is_404(client, mod):
    for missing in (uuid.uuid4(), "12345", "not-a-uuid"):
        response = client.get(f"{LIST}/{missing}", headers=mod)
        assert response.status_code == 404
        assert response.json() == {"detail": "No such report."}


# --- review -----------------------------------------------------------------------------------------


def test_review_records_reviewer_time_notes_and_audit_event(client, mod, moderator):
    report = ReportFactory()
    before = timezone.now()
    response = review(client, report.id, {"status": "resolved", "admin_notes": "Removed; warned."}, mod)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "resolved" and body["reviewed_by_id"] == moderator.pk
    report.refresh_from_db()
    assert report.status == ReportStatus.RESOLVED
    assert report.reviewed_by == moderator
    assert report.reviewed_at >= before and report.closed_at == report.reviewed_at
    assert report.admin_notes == "Removed; warned."
    event = AuditEvent.objects.get(event_type="report.reviewed", object_id=str(report.id))
    assert event.actor == moderator
    assert event.before["status"] == "pending" and event.after["status"] == "resolved"
    assert event.data == {"admin_notes": "Removed; warned."}
    assert body["history"][-1]["event_type"] == "report.reviewed"


def test_review_without_notes_and_with_a_trailing_slash(client, mod):
    report = ReportFactory()
    assert review(client, report.id, {"status": "reviewed"}, mod, slash="/").status_code == 200
    report.refresh_from_db()
    assert report.status == ReportStatus.REVIEWED and report.admin_notes == ""


@pytest.mark.parametrize("length", [0, 1, 5000])
def test_notes_up_to_5000_characters_are_accepted(client, mod, length):
    report = ReportFactory()
    assert review(client, report.id, {"status": "dismissed", "admin_notes": "n" * length}, mod).status_code == 200
    report.refresh_from_db()
    assert len(report.admin_notes) == length


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"status": "dismissed", "admin_notes": "n" * 5001}, "admin_notes"),
        ({"status": "dismissed", "admin_notes": 5}, "admin_notes"),
        ({"status": "dismissed", "admin_notes": None}, "admin_notes"),
        ({"status": "pending"}, "status"),
        ({"status": "closed"}, "status"),
        ({"status": True}, "status"),
        ({}, "status"),
        ({"status": "dismissed", "notes": "the field is admin_notes"}, "notes"),
        ([], "non_field_errors"),
        ("[1, 2]", "non_field_errors"),
        ('{"status": "resolved"', "non_field_errors"),
    ],
)
def test_bad_review_bodies_are_a_400_and_change_nothing(client, mod, body, field):
    report = ReportFactory()
    events = AuditEvent.objects.count()
    response = review(client, report.id, body, mod)
    assert response.status_code == 400, response.content
    assert response.json()["errors"][field]
    report.refresh_from_db()
    assert report.status == ReportStatus.PENDING and report.reviewed_by is None and report.admin_notes == ""
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize(
    ("start", "move"),
    [("resolved", "reviewed"), ("dismissed", "resolved"), ("resolved", "dismissed"), ("reviewed", "reviewed")],
)
def test_moves_the_transition_table_refuses_are_409(client, mod, start, move):
    report = ReportFactory(status=start)
    events = AuditEvent.objects.count()
    response = review(client, report.id, {"status": move}, mod)
    assert response.status_code == 409
    assert "cannot be marked" in response.json()["detail"]
    report.refresh_from_db()
    assert report.status == start
    assert AuditEvent.objects.count() == events


def test_a_review_with_the_status_seen_never_overwrites_a_colleagues_move(client, mod):
    report = ReportFactory()
    colleague = UserFactory(username="kai_mod", role="moderator")
    report_review(actor=colleague, report_id=report.pk, status="reviewed")  # while we were reading it
    events = AuditEvent.objects.count()
    response = review(client, report.id, {"status": "dismissed", "expected_status": "pending"}, mod)
    assert response.status_code == 409 and "kai_mod" in response.json()["detail"]
    report.refresh_from_db()
    assert report.status == ReportStatus.REVIEWED and AuditEvent.objects.count() == events
    # With the status as it is now, the review goes through.
    assert review(client, report.id, {"status": "dismissed", "expected_status": "reviewed"}, mod).status_code == 200
    bad = review(client, ReportFactory().id, {"status": "dismissed", "expected_status": "open"}, mod)
    assert bad.status_code == 400 and bad.json()["errors"]["expected_status"]


def test_review_of_an_unknown_report_is_404(client, mod):
    assert review(client, uuid.uuid4(), {"status": "reviewed"}, mod).status_code == 404
    assert review(client, "nope", {"status": "reviewed"}, mod).status_code == 404


def test_the_api_and_the_page_share_the_transition_table(client, mod):
    from moderation import workflow

    for start in ReportStatus.values:
        for move in ("reviewed", "resolved", "dismissed"):
            report = ReportFactory(status=start)
            status = review(client, report.id, {"status": move}, mod).status_code
            assert status == (200 if workflow.can_move(start, move) else 409), (start, move)


# --- account restrictions (for the platform) --------------------------------------------------------


def test_restrictions_for_the_platform_list_what_is_in_force(client, other_user):
    now = timezone.now()
    suspension = SanctionFactory(
        account=other_user, kind=ActionKind.SUSPENSION, status=SanctionStatus.ACTIVE, ends_at=now + timedelta(days=3)
    )
    SanctionFactory(account=other_user, kind=ActionKind.TIMEOUT, status=SanctionStatus.EXPIRED, ends_at=now)
    SanctionFactory(account=other_user, kind=ActionKind.WARNING)  # one-off: nothing in force
    headers = {"Authorization": f"Platform {platform_key()}"}
    response = client.get(f"/api/accounts/{other_user.pk}/restrictions", headers=headers)
    assert response.status_code == 200
    body = response.json()
    assert body["account_id"] == other_user.pk and body["sign_in_blocked"] is True
    assert [item["sanction_id"] for item in body["restrictions"]] == [str(suspension.id)]
    assert body["restrictions"][0]["kind"] == "suspension" and body["restrictions"][0]["blocks_sign_in"] is True
    # Never who reported them.
    assert "report" not in json.dumps(body)
    assert client.get(f"/api/accounts/{other_user.pk}/restrictions/", headers=headers).status_code == 200


def test_restrictions_access(client, user, other_user, mod):
    url = f"/api/accounts/{other_user.pk}/restrictions"
    clean = client.get(url, headers=mod).json()
    assert clean == {"account_id": other_user.pk, "sign_in_blocked": False, "restrictions": []}
    assert client.get(url).status_code == 401
    assert client.get(url, headers=token(user)).status_code == 403
    platform = {"Authorization": f"Platform {platform_key()}"}
    for missing in ("999999", "abc", "99999999999999999999999"):
        assert client.get(f"/api/accounts/{missing}/restrictions", headers=platform).status_code == 404


def test_report_reviewed_through_the_api_shows_on_the_reporters_side(client, mod, user):
    report = ReportFactory(reporter=user)
    review(client, report.id, {"status": "dismissed", "admin_notes": "internal words"}, mod)
    mine = client.get(f"/api/reports/{report.id}", headers=token(user)).json()
    assert mine["status"] == "dismissed"
    assert "internal words" not in json.dumps(mine)
    assert Report.objects.get(pk=report.id).status == ReportStatus.DISMISSED
