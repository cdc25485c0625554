"""Issue 17, item 6: who else has a report open (a heartbeat through the shared cache), and acting on a
report someone else is mid-way on asks once ("mia is working on this report — submit again to go
ahead"). The review form's refusal of a report that moved meanwhile (expected_status) still holds."""

from __future__ import annotations

import json
import secrets
import time

import pytest
from django.db import connection
from django.urls import reverse

from moderation import presence
from moderation.enforcement.models import Sanction
from reports.models import Report, ReportStatus
from tests.factories import PASSWORD, ReportFactory, UserFactory
from tests.harness import AppServer, Http, app_environment, database_url, free_port
from tests.html import attr, one, text

pytestmark = pytest.mark.django_db


def page_url(report) -> str:
    return reverse("moderation:report", args=[report.pk])


def beat_url(report) -> str:
    return reverse("moderation:presence", args=[report.pk])


@pytest.fixture
def mia(db):
    return UserFactory(username="mia", role="moderator")


def test_the_report_page_shows_who_else_has_it_open(client, moderator, mia):
    report = ReportFactory()
    client.force_login(mia)
    client.get(page_url(report))  # loading the page is a heartbeat
    client.force_login(moderator)
    html = client.get(page_url(report)).content.decode()
    line = one(html, "p", class_="presence-line")
    assert text(line) == "Also here: mia has it open."
    assert attr(line, "role") == "status"
    box = one(html, "div", data_presence=True)
    assert attr(box, "data-url") == beat_url(report) and attr(box, "data-interval") == "15"
    # Nobody else on another report.
    assert text(one(client.get(page_url(ReportFactory())).content.decode(), "p", class_="presence-line")) == ""


def test_the_heartbeat_answers_who_else_is_here_and_leaving_is_at_once(client, moderator, mia):
    report = ReportFactory()
    client.force_login(mia)
    assert client.post(beat_url(report), {"doing": "reviewing"}).json() == {"line": "", "others": []}
    client.force_login(moderator)
    answer = client.post(beat_url(report), {"doing": "viewing"})
    assert answer.status_code == 200 and answer["Content-Type"] == "application/json"
    assert answer.json() == {
        "line": "Also here: mia is writing a review.",
        "others": [{"name": "mia", "doing": "reviewing"}],
    }
    client.force_login(mia)
    assert client.post(beat_url(report), {"doing": "leaving"}).status_code == 204
    client.force_login(moderator)
    assert client.post(beat_url(report), {"doing": "viewing"}).json()["others"] == []


def test_a_beat_expires_on_its_own(client, moderator, mia, settings):
    settings.PRESENCE_HEARTBEAT_SECONDS = 1  # a beat lives three of them
    report = ReportFactory()
    client.force_login(mia)
    client.post(beat_url(report), {"doing": "viewing"})
    client.force_login(moderator)
    assert client.post(beat_url(report)).json()["others"] == [{"name": "mia", "doing": "viewing"}]
    time.sleep(3.2)
    assert client.post(beat_url(report)).json()["others"] == []


def test_the_heartbeat_is_for_staff_and_posts_only(client, user, moderator):
    report = ReportFactory()
    assert client.post(beat_url(report))["Location"].startswith(reverse("login"))
    client.force_login(user)
    assert client.post(beat_url(report)).status_code == 403
    client.force_login(moderator)
    assert client.get(beat_url(report)).status_code == 405


def test_saving_a_review_while_someone_else_is_deciding_asks_once(client, moderator, mia):
    report = ReportFactory()
    client.force_login(mia)
    assert client.get(reverse("enforcement:decide", args=[report.pk])).status_code == 200  # mia is deciding

    client.force_login(moderator)
    form = {"status": "dismissed", "admin_notes": "Looks fine to me.", "expected_status": "pending"}
    asked = client.post(reverse("moderation:review", args=[report.pk]), form)
    assert asked.status_code == 409
    assert Report.objects.get(pk=report.pk).status == ReportStatus.PENDING  # nothing done
    html = asked.content.decode()
    summary = one(html, "div", data_error_summary=True)
    assert "mia is working on this report — submit again to go ahead." in text(summary)
    assert text(one(html, "textarea", name="admin_notes")) == "Looks fine to me."  # every typed word kept
    go_ahead = attr(one(html, "input", name="go_ahead"), "value")
    assert go_ahead == str(mia.pk)

    done = client.post(reverse("moderation:review", args=[report.pk]), {**form, "go_ahead": go_ahead})
    assert done.status_code == 302
    assert Report.objects.get(pk=report.pk).status == ReportStatus.DISMISSED


def test_someone_who_only_looks_does_not_stop_a_review(client, moderator, mia):
    report = ReportFactory()
    client.force_login(mia)
    client.get(page_url(report))  # viewing, not working on it
    client.force_login(moderator)
    form = {"status": "reviewed", "admin_notes": "", "expected_status": "pending"}
    assert client.post(reverse("moderation:review", args=[report.pk]), form).status_code == 302


def test_the_review_form_still_refuses_a_report_that_moved_meanwhile(client, moderator, mia):
    report = ReportFactory()
    client.force_login(mia)
    client.post(reverse("moderation:review", args=[report.pk]), {"status": "resolved", "expected_status": "pending"})
    client.force_login(moderator)
    refused = client.post(
        reverse("moderation:review", args=[report.pk]), {"status": "dismissed", "expected_status": "pending"}
    )
    assert refused.status_code == 409
    assert Report.objects.get(pk=report.pk).status == ReportStatus.RESOLVED


def test_applying_a_decision_while_someone_else_reviews_asks_once(client, moderator, mia):
    report = ReportFactory()
    client.force_login(mia)
    client.post(beat_url(report), {"doing": "reviewing"})
    client.force_login(moderator)
    form = {
        "actions": ["warning"],
        "ground_type": "terms",
        "ground": "Terms §4.2",
        "facts": "Insults in the lobby.",
        "duration": "24",
    }
    url = reverse("enforcement:decide", args=[report.pk])
    asked = client.post(url, form)
    assert asked.status_code == 409 and not Sanction.objects.exists()
    html = asked.content.decode()
    assert "mia is working on this report — submit again to go ahead." in text(
        one(html, "div", data_error_summary=True)
    )
    assert attr(one(html, "input", name="ground"), "value") == "Terms §4.2"
    done = client.post(url, {**form, "go_ahead": attr(one(html, "input", name="go_ahead"), "value")})
    assert done.status_code == 302 and Sanction.objects.get().kind == "warning"


def test_the_heartbeat_reads_little_and_writes_nothing_to_the_database(client, moderator, django_assert_num_queries):
    """The heartbeat checks the report exists (404 otherwise); the rest is the cache."""
    report = ReportFactory()
    client.force_login(moderator)
    client.post(beat_url(report))
    with django_assert_num_queries(4):  # the session, the account, its rights, the report exists: no write
        client.post(beat_url(report))
    assert (
        client.post(reverse("moderation:presence", args=["0" * 8 + "-0000-0000-0000-" + "0" * 12])).status_code == 404
    )


# --- across app servers, through Redis ----------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_app_servers_see_each_others_beats_through_redis(tmp_path, settings):
    """Mia on server A and Bob on server B (no shared memory, one Redis): each sees the other."""
    env = app_environment(
        database_url=database_url(connection.settings_dict),
        var_dir=tmp_path / "var",
        REDIS_URL="redis://127.0.0.1:6379/13",
        CACHE_KEY_PREFIX=f"presence-{secrets.token_hex(6)}",
    )
    fast = settings.PASSWORD_HASHERS
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]  # what the servers check
    UserFactory(username="mia", role="moderator")
    UserFactory(username="bob", role="moderator")
    settings.PASSWORD_HASHERS = fast
    report = ReportFactory()
    first = AppServer(port=free_port(range(8200, 8250)), env=env, workers=1, log_path=tmp_path / "a.log")
    second = AppServer(port=free_port(range(8250, 8300)), env=env, workers=1, log_path=tmp_path / "b.log")
    with first, second:
        mia, bob = Http(first.url), Http(second.url)
        mia.sign_in("mia", PASSWORD)
        bob.sign_in("bob", PASSWORD)
        assert json.loads(mia.post(beat_url(report), form={"doing": "reviewing"}).text) == {"line": "", "others": []}
        page = bob.get(page_url(report))
        assert text(one(page.text, "p", class_="presence-line")) == "Also here: mia is writing a review."
        answer = json.loads(mia.post(beat_url(report), form={"doing": "reviewing"}).text)
        assert answer["others"] == [{"name": "bob", "doing": "viewing"}]
        assert mia.post(beat_url(report), form={"doing": "leaving"}).status == 204
        assert json.loads(bob.post(beat_url(report), form={"doing": "viewing"}).text)["others"] == []
    assert presence.DOING_LABELS  # the labels the servers used are this module's
