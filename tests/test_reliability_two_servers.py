"""Two moderators on two gunicorn servers against one database, pulling "next report" and reviewing
in parallel for a bounded time: no report is handled twice, no audit event is lost, and the counts
reconcile exactly (clients, report rows, audit events and the API's own lists).

The servers are real subprocesses on the live test database (a transactional test). Alice works on
server A through the web pages (POST /moderation/next/, then the review form); Bob pulls on server
B and reviews through the API, sent to server A (stateless servers: any one will do).
"""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import seal_pending
from audit.verify import verify
from reports.models import Report, ReportStatus
from tests.factories import PASSWORD, ReportFactory, UserFactory, api_token_key
from tests.harness import (
    AppServer,
    Http,
    app_environment,
    database_url,
    free_port,
)

# Both databases: PostgreSQL claims with SELECT ... FOR UPDATE SKIP LOCKED; SQLite takes its write
# lock at BEGIN (IMMEDIATE transactions), which must give the same guarantee across processes.
pytestmark = pytest.mark.django_db(transaction=True)

REPORTS = 60
TIME_LIMIT = 60  # seconds for the whole run; every loop is also bounded by count
REPORT_URL = re.compile(r"^/moderation/reports/([0-9a-f-]{36})/$")


@pytest.fixture
def servers(tmp_path, settings):
    env = app_environment(database_url=database_url(connection.settings_dict), var_dir=tmp_path / "var")
    env["MEDIA_ROOT"] = str(settings.MEDIA_ROOT)
    first = AppServer(port=free_port(range(8100, 8150)), env=env, log_path=tmp_path / "a.log")
    second = AppServer(port=free_port(range(8150, 8190)), env=env, log_path=tmp_path / "b.log")
    try:
        first.start()
        second.start()
        yield first, second
    finally:
        first.stop()
        second.stop()


def signed_in_moderator(username: str, server: AppServer, settings):
    # The servers check passwords with Django's default hashers, not the tests' fast MD5 one.
    fast = settings.PASSWORD_HASHERS
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    person = UserFactory(username=username, role="moderator")
    settings.PASSWORD_HASHERS = fast
    client = Http(server.url)
    client.sign_in(username, PASSWORD)
    return person, client


class Worker:
    """One moderator's loop: pull the next report, review it, until the queue is empty or time is up."""

    def __init__(self, name: str, pull: Http, review, deadline: float) -> None:
        self.name, self.pull, self.review, self.deadline = name, pull, review, deadline
        self.claimed: list[str] = []
        self.reviewed: list[str] = []
        self.problems: list[str] = []
        self.empty = False

    def run(self) -> None:
        for _ in range(REPORTS + 5):
            if time.monotonic() > self.deadline:
                return
            try:
                answer = self.pull.post("/moderation/next/", form={"query": ""})
                location = answer.headers.get("location", "")
                match = REPORT_URL.match(location)
                if answer.status != 302:
                    self.problems.append(f"next: {answer.status} {answer.text[:200]}")
                    return
                if match is None:  # back to the queue: nothing left
                    self.empty = location.startswith("/moderation/")
                    return
                report_id = match.group(1)
                self.claimed.append(report_id)
                problem = self.review(report_id)
                if problem:
                    self.problems.append(problem)
                else:
                    self.reviewed.append(report_id)
            except Exception as error:  # reported by the test, with the server logs
                self.problems.append(f"{type(error).__name__}: {error}")
                return


def test_two_moderators_on_two_servers_never_handle_one_report_twice(servers, settings):
    server_a, server_b = servers
    alice, alice_web = signed_in_moderator("alice_mod", server_a, settings)
    bob, bob_web = signed_in_moderator("bob_mod", server_b, settings)
    bob_token = api_token_key(bob, name="review script")
    now = timezone.now()
    reports = [ReportFactory(due_at=now + timedelta(minutes=n)) for n in range(REPORTS)]
    events_before = AuditEvent.objects.count()

    bob_api = Http(server_a.url)

    def alice_reviews(report_id: str) -> str:
        answer = alice_web.post(
            f"/moderation/reports/{report_id}/review/",
            form={"status": "resolved", "expected_status": "pending", "admin_notes": f"alice on {report_id}"},
        )
        ok = answer.status == 302 and answer.headers["location"] == f"/moderation/reports/{report_id}/"
        return "" if ok else f"alice review {report_id}: {answer.status} {answer.text[:300]}"

    def bob_reviews(report_id: str) -> str:
        answer = bob_api.post(
            f"/api/admin/reports/{report_id}/review",
            json_body={"status": "dismissed", "admin_notes": f"bob on {report_id}"},
            headers={"Authorization": f"Token {bob_token}"},
        )
        ok = answer.status == 200 and answer.json()["status"] == "dismissed"
        return "" if ok else f"bob review {report_id}: {answer.status} {answer.text[:300]}"

    deadline = time.monotonic() + TIME_LIMIT
    workers = [Worker("alice", alice_web, alice_reviews, deadline), Worker("bob", bob_web, bob_reviews, deadline)]
    threads = [threading.Thread(target=worker.run) for worker in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=TIME_LIMIT + 30)
    assert not any(thread.is_alive() for thread in threads)
    alice_w, bob_w = workers
    logs = f"\n--- server A\n{server_a.log_tail()}\n--- server B\n{server_b.log_tail()}"
    assert alice_w.problems == [] and bob_w.problems == [], f"{alice_w.problems} {bob_w.problems}{logs}"

    # Nobody got a report twice, nothing was left behind, and both really worked in parallel.
    handed_out = alice_w.claimed + bob_w.claimed
    assert len(handed_out) == len(set(handed_out)), Counter(handed_out).most_common(3)
    assert set(handed_out) == {str(r.pk) for r in reports}, "the queue was not worked through in time"
    assert alice_w.empty and bob_w.empty
    assert alice_w.claimed and bob_w.claimed, "one moderator never got a report: no parallelism was tested"

    # Each report shows exactly the one moderator who claimed it, with that moderator's decision.
    rows = {str(r.pk): r for r in Report.objects.select_related("assignee", "reviewed_by")}
    for who, worker, status in ((alice, alice_w, ReportStatus.RESOLVED), (bob, bob_w, ReportStatus.DISMISSED)):
        for report_id in worker.claimed:
            row = rows[report_id]
            assert (row.assignee, row.reviewed_by, row.status) == (who, who, status), report_id
            assert row.admin_notes == f"{worker.name} on {report_id}"

    # Exactly two audit events per report, by its moderator: claimed via "next", then reviewed.
    new_events = AuditEvent.objects.order_by("id")[events_before:]
    assert len(new_events) == 2 * REPORTS
    per_report: dict[str, list[tuple[str, str]]] = {}
    for event in new_events:
        per_report.setdefault(event.object_id, []).append((event.event_type, event.actor_label))
    for who, worker in (("alice_mod", alice_w), ("bob_mod", bob_w)):
        for report_id in worker.claimed:
            assert per_report[report_id] == [("report.assigned", who), ("report.reviewed", who)], report_id
    assert all(e.data.get("via") == "next" for e in new_events if e.event_type == "report.assigned")
    seal_pending()
    chain = verify()
    assert chain.intact and chain.unsealed == 0 and chain.checked == AuditEvent.objects.count()

    # The counts reconcile: the clients' tallies, the rows, and what the API lists.
    counts = Counter(Report.objects.values_list("status", flat=True))
    assert counts == {ReportStatus.RESOLVED: len(alice_w.reviewed), ReportStatus.DISMISSED: len(bob_w.reviewed)}
    assert len(alice_w.reviewed) + len(bob_w.reviewed) == REPORTS
    for status, expected in (("resolved", len(alice_w.reviewed)), ("dismissed", len(bob_w.reviewed)), ("pending", 0)):
        listed = bob_api.get(f"/api/admin/reports?status={status}", headers={"Authorization": f"Token {bob_token}"})
        assert listed.status == 200 and listed.json()["count"] == expected, (status, listed.text[:200])
