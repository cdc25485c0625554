"""Complaints without an account (issue 17, item 11): until a moderator links one to the content the
platform registered, enforcement refuses what would reach the platform without an id; linked, the
removal reaches it by the content's real kind and id, and linking to an account makes account
actions possible. The link is audited and keeps what the complainant wrote."""

from __future__ import annotations

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from moderation.enforcement.actions import ActionKind
from moderation.enforcement.models import OutboxEvent
from reports.models import Report, ReportChannel, TargetKind
from reports.services import complaint_file
from tests.factories import TargetFactory, UserFactory
from tests.html import elements, text
from tests.test_enforcement import decide

pytestmark = pytest.mark.django_db


@pytest.fixture
def complaint():
    return complaint_file(
        name="Dana Smith",
        email="dana@example.org",
        content_kind=TargetKind.VIDEO_STORY,
        location="The story 'beach day' by @coastline, posted yesterday",
        description="It is my video, uploaded without my permission.",
        category="copyright",
        good_faith=True,
        client_address="203.0.113.9",
    )


def _link(client, report, **fields):
    return client.post(reverse("moderation:complaint_link", args=[report.pk]), fields)


def test_an_unlinked_complaint_cannot_be_removed_nor_reach_the_platform_without_an_id(moderator, complaint):
    with pytest.raises(Exception, match="link the complaint to the registered content"):
        decide(moderator, complaint, ActionKind.REMOVE_CONTENT)
    with pytest.raises(Exception, match="needs an account"):
        decide(moderator, complaint, ActionKind.WARNING)
    assert not OutboxEvent.objects.exists()


def test_linked_to_the_registered_content_a_removal_reaches_the_platform_by_its_id(client, moderator, complaint):
    owner = UserFactory(username="coastline")
    story = TargetFactory(kind=TargetKind.VIDEO_STORY, external_id="story-7781", owner=owner, title="beach day")
    client.force_login(moderator)
    page = client.get(reverse("moderation:report", args=[complaint.pk])).content.decode()
    assert [text(h) for h in elements(page, "h3", id="h-link")] == ["Link this complaint to the platform's content"]

    response = _link(client, complaint, kind="video_story", external_id="story-7781")
    assert response.status_code == 302
    complaint.refresh_from_db()
    assert complaint.target == story and complaint.report_type == TargetKind.VIDEO_STORY
    event = AuditEvent.objects.get(event_type="report.target_linked", object_id=str(complaint.pk))
    assert event.actor == moderator and event.after["target"] == str(story.public_id)
    assert event.data["complaint_location"].startswith("The story 'beach day'")

    decide(moderator, complaint, ActionKind.REMOVE_CONTENT, ActionKind.WARNING)
    payloads = [event.payload for event in OutboxEvent.objects.all()]
    assert {p["kind"] for p in payloads} == {"remove_content", "warning"}
    for payload in payloads:
        assert payload["target"]["kind"] == "video_story" and payload["target"]["external_id"] == "story-7781"
        assert payload["account_id"] == owner.pk


def test_linked_to_an_account_account_actions_work_and_removals_still_wait(client, moderator, complaint):
    account = UserFactory(username="coastline")
    client.force_login(moderator)
    _link(client, complaint, username="coastline")
    complaint.refresh_from_db()
    assert complaint.target.owner == account and complaint.target.external_id == ""
    [warning] = decide(moderator, complaint, ActionKind.WARNING)
    assert warning.account == account
    assert OutboxEvent.objects.get().payload["account_id"] == account.pk


def test_an_unknown_id_or_account_is_said_and_nothing_changes(client, moderator, complaint):
    client.force_login(moderator)
    before = complaint.target_id
    for fields, said in (
        ({"kind": "video_story", "external_id": "no-such"}, "The platform registered no video story with that id."),
        ({"username": "nobody-here"}, "No account is called “nobody-here”."),
        ({}, "Give the kind and the platform's id of the content, or the account's username (one of them)."),
    ):
        response = client.post(reverse("moderation:complaint_link", args=[complaint.pk]), fields, follow=True)
        assert said in [str(m) for m in response.context["messages"]]
    complaint.refresh_from_db()
    assert complaint.target_id == before
    assert not AuditEvent.objects.filter(event_type="report.target_linked").exists()


def test_only_staff_who_review_may_link_and_only_complaints(client, user, moderator, complaint):
    client.force_login(user)
    assert _link(client, complaint, username="x").status_code == 404  # a reporter cannot see it at all
    ordinary = Report.objects.create(
        report_type=TargetKind.MESSAGE,
        target=TargetFactory(),
        reporter=user,
        channel=ReportChannel.WEB,
        category="harassment",
        severity="high",
        reason="x",
        due_at=complaint.due_at,
    )
    client.force_login(moderator)
    UserFactory(username="coastline")
    response = client.post(
        reverse("moderation:complaint_link", args=[ordinary.pk]), {"username": "coastline"}, follow=True
    )
    assert "Only a complaint sent without an account" in " ".join(str(m) for m in response.context["messages"])
