"""The permission matrix of every page and action of the queue and the report page:
anonymous -> sign-in; a plain user -> 403 on the queue, 404 on a report or file (exactly like a
missing one, even their own report); moderator, compliance and admin according to the role table."""

from __future__ import annotations

import uuid

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from reports.models import Report, ReportStatus
from tests.conftest import png_bytes
from tests.factories import EvidenceFactory, ReportFactory, TargetFactory

pytestmark = pytest.mark.django_db

ROLES = ["user", "moderator", "compliance", "admin"]


@pytest.fixture
def people(user, moderator, compliance, admin_user):
    return {"user": user, "moderator": moderator, "compliance": compliance, "admin": admin_user}


@pytest.fixture
def case(user):
    """A report filed by the plain user (so "their own" is covered), with an image and a snapshot."""
    report = ReportFactory(reporter=user, escalated=True, escalation_reason="check")
    evidence = EvidenceFactory(report=report)
    evidence.file.save("e.png", ContentFile(png_bytes()), save=True)
    target = report.target
    target.snapshot_file.save("s", ContentFile(png_bytes()), save=False)
    target.snapshot_content_type = "image/png"
    target.save()
    return {"report": report, "evidence": evidence, "target": target}


def get_pages(case) -> dict[str, str]:
    return {
        "queue": reverse("moderation:queue"),
        "report": reverse("moderation:report", args=[case["report"].pk]),
        "evidence": reverse("moderation:evidence", args=[case["evidence"].pk]),
        "snapshot": reverse("moderation:snapshot", args=[case["target"].public_id]),
    }


# page -> expected status per role
GET_MATRIX = {
    "queue": {"user": 403, "moderator": 200, "compliance": 200, "admin": 200},
    "report": {"user": 404, "moderator": 200, "compliance": 200, "admin": 200},
    "evidence": {"user": 404, "moderator": 200, "compliance": 200, "admin": 200},
    "snapshot": {"user": 404, "moderator": 200, "compliance": 200, "admin": 200},
}


@pytest.mark.parametrize("page", list(GET_MATRIX))
@pytest.mark.parametrize("role", ROLES)
def test_get_matrix(client, people, case, page, role):
    client.force_login(people[role])
    assert client.get(get_pages(case)[page]).status_code == GET_MATRIX[page][role]


@pytest.mark.parametrize("page", list(GET_MATRIX))
def test_anonymous_is_sent_to_sign_in(client, case, page):
    response = client.get(get_pages(case)[page])
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("role", ROLES)
def test_an_unknown_report_or_file_is_404_for_everyone(client, people, role):
    client.force_login(people[role])
    for name in ("report", "evidence"):
        assert client.get(reverse(f"moderation:{name}", args=[uuid.uuid4()])).status_code == 404
    assert client.get(reverse("moderation:snapshot", args=[uuid.uuid4()])).status_code == 404


# action -> (POST data, expected status per role); 302 means it was done.
def post_matrix(moderator_pk: int) -> dict[str, tuple[dict, dict[str, int]]]:
    staff = {"moderator": 302, "compliance": 302, "admin": 302}
    return {
        "review": ({"status": "reviewed", "expected_status": "pending"}, {"user": 404, **staff}),
        "assign": ({"assignee": moderator_pk, "expected_assignee": ""}, {"user": 404, **staff}),
        "escalate": ({"reason": "again"}, {"user": 404, **staff}),
        "note": ({"body": "A note"}, {"user": 404, **staff}),
        "ask": ({"question": "When?"}, {"user": 404, **staff}),
        "deescalate": ({"reason": "ok"}, {"user": 404, "moderator": 403, "compliance": 302, "admin": 302}),
        "reopen": ({"reason": "why"}, {"user": 404, "moderator": 403, "compliance": 403, "admin": 302}),
    }


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", ["review", "assign", "escalate", "note", "ask", "deescalate", "reopen"])
def test_post_matrix(client, people, case, role, name):
    report: Report = case["report"]
    if name == "reopen":
        Report.objects.filter(pk=report.pk).update(status=ReportStatus.RESOLVED)
    data, expected = post_matrix(people["moderator"].pk)[name]
    client.force_login(people[role])
    response = client.post(reverse(f"moderation:{name}", args=[report.pk]), data)
    assert response.status_code == expected[role], response.content[:500]


@pytest.mark.parametrize("name", ["review", "note", "reopen"])
def test_actions_refuse_get(client, moderator, case, name):
    client.force_login(moderator)
    assert client.get(reverse(f"moderation:{name}", args=[case["report"].pk])).status_code == 405


@pytest.mark.parametrize("role", ROLES)
def test_queue_actions(client, people, role):
    target = TargetFactory()
    report = ReportFactory(target=target)
    client.force_login(people[role])
    expected = 403 if role == "user" else 302
    assert client.post(reverse("moderation:next"), {"query": ""}).status_code == expected
    response = client.post(reverse("moderation:bulk"), {"ids": [report.pk], "action": "reviewed", "query": ""})
    assert response.status_code == expected
    report.refresh_from_db()
    assert (report.status == "reviewed") == (role != "user")


def test_the_reporter_uses_their_own_page_not_the_moderators(client, user, case):
    client.force_login(user)
    assert client.get(reverse("reports:detail", args=[case["report"].pk])).status_code == 200
    html = client.get(reverse("reports:detail", args=[case["report"].pk])).content.decode()
    assert reverse("moderation:evidence", args=[case["evidence"].pk]) not in html


def test_a_malformed_report_id_is_404_not_an_error(client, moderator):
    client.force_login(moderator)
    assert client.get("/moderation/reports/not-a-report/").status_code == 404
    assert client.get("/moderation/reports/12345678/").status_code == 404
