"""Who may open which page: anonymous -> sign-in, someone else's report -> 404 (exactly like a
missing one), staff pages -> 403 for a plain user."""

from __future__ import annotations

import re
import uuid

import pytest

from tests.factories import ReportFactory, TargetFactory

pytestmark = pytest.mark.django_db

# The paths are the published contract (docs/architecture.md, "URLs"), so they are written out, not reversed.
LOGIN = "/accounts/login/"


@pytest.fixture
def report(user, other_user):
    return ReportFactory(reporter=user, target=TargetFactory(owner=other_user))


def reporter_pages(report) -> list[str]:
    return [
        f"/report/new/?target={report.target.public_id}",
        "/report/mine/",
        f"/report/{report.id}/",
        "/demo/",
    ]


STAFF_PAGES = ["/moderation/", "/audit/", "/audit/export.csv", "/moderation/dashboard/"]


def test_anonymous_visitors_are_sent_to_sign_in_from_every_reporter_page(client, report):
    for url in reporter_pages(report):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.url == f"{LOGIN}?next={url.replace('?', '%3F').replace('=', '%3D')}", url


def test_anonymous_visitors_cannot_file_by_posting_either(client, report):
    url = f"/report/new/?target={report.target.public_id}"
    response = client.post(url, {"category": "spam", "reason": "x", "good_faith": "on"})
    assert response.status_code == 302 and response.url.startswith(LOGIN)


@pytest.mark.parametrize("url", STAFF_PAGES)
def test_anonymous_visitors_are_sent_to_sign_in_from_staff_pages(client, url):
    response = client.get(url)
    assert response.status_code == 302 and response.url.startswith(f"{LOGIN}?next=")


def test_the_complaint_form_and_the_welcome_page_are_public(client):
    assert client.get("/complaint/").status_code == 200
    assert client.get("/").status_code == 200


def test_the_reporter_opens_every_reporter_page(client, user, report):
    client.force_login(user)
    for url in reporter_pages(report):
        assert client.get(url).status_code == 200, url


def test_someone_elses_report_is_404_like_a_missing_one(client, other_user, report):
    client.force_login(other_user)  # the reported person, as it happens
    theirs = client.get(f"/report/{report.id}/")
    missing = client.get(f"/report/{uuid.uuid4()}/")
    assert theirs.status_code == missing.status_code == 404

    def without_csrf(response) -> str:
        return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())

    assert without_csrf(theirs) == without_csrf(missing)


def test_staff_see_reports_in_moderation_not_on_the_reporters_page(client, moderator, report):
    client.force_login(moderator)
    assert client.get(f"/report/{report.id}/").status_code == 404


@pytest.mark.parametrize("url", STAFF_PAGES)
def test_a_plain_user_gets_403_on_staff_pages(client, user, url):
    client.force_login(user)
    assert client.get(url).status_code == 403


def test_a_moderator_works_the_queue_but_cannot_read_the_audit_log(client, moderator):
    client.force_login(moderator)
    assert client.get("/moderation/").status_code == 200
    assert client.get("/audit/").status_code == 403


@pytest.mark.parametrize("role_fixture", ["compliance", "admin_user"])
def test_compliance_and_admins_read_the_audit_log(client, request, role_fixture):
    client.force_login(request.getfixturevalue(role_fixture))
    assert client.get("/audit/").status_code == 200
