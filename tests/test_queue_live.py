"""The live queue (issue 17): the queue asks a cheap endpoint how many reports arrived in its view since
the page was rendered, for its "3 new — show" notice; and item 9's queue part: only a short status
sentence is live, never the results table."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from reports.categories import Category
from reports.models import Report, ReportStatus
from tests.factories import ReportFactory, UserFactory
from tests.html import attr, elements, one

pytestmark = pytest.mark.django_db

QUEUE = reverse("moderation:queue")
NEW = reverse("moderation:new_reports")


@pytest.fixture
def mod_client(client, moderator):
    client.force_login(moderator)
    return client


def _arrived(client, since, **view) -> dict:
    response = client.get(NEW, {**view, "since": since.isoformat()})
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    return response.json()


def test_it_counts_the_reports_that_arrived_in_the_view_since_the_page(mod_client):
    page = mod_client.get(QUEUE, {"category": "copyright"})
    since = one(page.content.decode(), "div", class_="queue-results")
    since = timezone.datetime.fromisoformat(attr(since, "data-since"))
    before = ReportFactory(category=Category.COPYRIGHT)
    Report.objects.filter(pk=before.pk).update(created_at=since - timedelta(minutes=1))  # on the page already
    arrived = [ReportFactory(category=Category.COPYRIGHT) for _ in range(2)]
    ReportFactory(category=Category.HARASSMENT)  # new, but outside the view
    ReportFactory(category=Category.COPYRIGHT, status=ReportStatus.DISMISSED)  # not open
    Report.objects.filter(pk__in=[r.pk for r in arrived]).update(created_at=since + timedelta(seconds=5))
    assert _arrived(mod_client, since, category="copyright") == {
        "new": 2,
        "more": False,
        "label": "2",
        "sentence": "2 new reports in this view",
    }
    assert _arrived(mod_client, since, category="copyright", status="all")["new"] == 3
    assert _arrived(mod_client, since, category="fraud")["new"] == 0
    assert _arrived(mod_client, since)["new"] == 3  # the whole open queue
    assert _arrived(mod_client, since + timedelta(minutes=1), category="copyright")["new"] == 0


def test_past_the_cap_it_says_99_plus(mod_client):
    since = timezone.now() - timedelta(seconds=1)
    ReportFactory.create_batch(100, category=Category.SPAM)
    assert _arrived(mod_client, since) == {
        "new": 99,
        "more": True,
        "label": "99+",
        "sentence": "99+ new reports in this view",
    }


def test_bad_input_and_who_may_ask(client, user, moderator):
    since = {"since": timezone.now().isoformat()}
    assert client.get(NEW, since)["Location"].startswith(reverse("login"))
    client.force_login(user)
    assert client.get(NEW, since).status_code == 403
    client.force_login(moderator)
    bad = client.get(NEW, {"since": "yesterday"})
    assert bad.status_code == 400 and "ISO 8601" in bad.json()["detail"]
    # An unknown or hand-made filter falls back like the queue page does; it never errors.
    assert client.get(NEW, {**since, "status": "sideways", "category": "nope"}).status_code == 200


def test_a_poll_costs_a_fixed_handful_of_queries(client, moderator, django_assert_num_queries):
    """The session, the account, its rights and one capped count, however many reports arrived."""
    client.force_login(moderator)
    since = timezone.now() - timedelta(seconds=1)
    client.get(NEW, {"since": since.isoformat()})
    with django_assert_num_queries(4):
        client.get(NEW, {"since": since.isoformat(), "category": "spam"})
    ReportFactory.create_batch(30, category=Category.SPAM, assignee=UserFactory(role="moderator"))
    client.get(NEW, {"since": since.isoformat()})  # the staff list (cached a minute) changed: read again
    with django_assert_num_queries(4):
        assert client.get(NEW, {"since": since.isoformat(), "category": "spam"}).json()["new"] == 30


def test_only_a_short_sentence_is_live_never_the_results(mod_client):
    ReportFactory.create_batch(2)
    html = mod_client.get(QUEUE).content.decode()
    assert "{#" not in html and "#}" not in html  # template comments stay in the template
    results = one(html, "div", id="queue-results")
    assert attr(results, "aria-live") is None
    assert not elements(html, aria_live=True)  # no other live region either, only the status below
    status = one(html, "p", data_queue_status=True)
    assert attr(status, "role") == "status"
    partial = one(html, "div", class_="queue-results")
    assert attr(partial, "data-status-message") == "Showing 2 of 2 open reports."
    notice = one(html, "p", data_queue_live_notice=True)
    assert "hidden" in dict(notice.attributes)  # without JavaScript there is no notice at all
    bar = one(html, "div", data_queue_live=True)
    assert attr(bar, "data-url") == NEW and attr(bar, "data-interval") == "30"


def test_the_status_sentence_names_the_tab(mod_client):
    ReportFactory(status=ReportStatus.DISMISSED)
    html = mod_client.get(QUEUE, {"status": "dismissed"}).content.decode()
    assert attr(one(html, "div", class_="queue-results"), "data-status-message") == "Showing 1 of 1 dismissed report."
    html = mod_client.get(QUEUE, {"status": "pending"}).content.decode()
    assert attr(one(html, "div", class_="queue-results"), "data-status-message") == "No pending reports match."
    html = mod_client.get(QUEUE, {"status": "all", "group": "1"}).content.decode()
    assert attr(one(html, "div", class_="queue-results"), "data-status-message") == "Showing 1 of 1 target."
