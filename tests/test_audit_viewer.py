"""The audit log viewer: who may see it, its filters, keyset pages and the streamed CSV export."""

import csv
import io

import pytest
from django.db import transaction
from django.urls import reverse

from audit import services as audit
from audit.filters import AuditEventFilterSet
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def _events(count: int, **kwargs) -> None:
    with transaction.atomic():
        for index in range(count):
            audit.record(
                actor=kwargs.get("actor", audit.SYSTEM),
                event_type=kwargs.get("event_type", "report.created"),
                object_type=kwargs.get("object_type", "report"),
                object_id=kwargs.get("object_id", f"r{index}"),
                after={"n": index},
            )


def test_permissions(client, user, moderator, compliance, admin_user):
    url = reverse("audit:log")
    assert client.get(url).status_code == 302
    for who, expected in ((user, 403), (moderator, 403), (compliance, 200), (admin_user, 200)):
        client.force_login(who)
        assert client.get(url).status_code == expected
        assert client.get(reverse("audit:export")).status_code == expected


def test_filterset_by_type_actor_object_and_date(moderator):
    _events(3)
    _events(2, actor=moderator, event_type="report.reviewed", object_id="target-1")
    qs = AuditEvent.objects.all()
    assert AuditEventFilterSet({"event_type": "report.reviewed"}, queryset=qs).qs.count() == 2
    assert AuditEventFilterSet({"actor": moderator.username}, queryset=qs).qs.count() == 2
    assert AuditEventFilterSet({"object_type": "report", "object_id": "r1"}, queryset=qs).qs.count() == 1
    today = AuditEvent.objects.first().created_at.date().isoformat()
    assert AuditEventFilterSet({"since": today, "until": today}, queryset=qs).qs.count() == 5
    assert AuditEventFilterSet({"until": "2000-01-01"}, queryset=qs).qs.count() == 0


def test_every_object_type_the_code_records_can_be_filtered_on():
    """The filter's choices are a list: an event of a type missing from it could not be found by it."""
    import re
    from pathlib import Path

    from audit.filters import OBJECT_TYPES

    root = Path(__file__).resolve().parent.parent
    recorded = set()
    for app in ("audit", "reports", "moderation", "config"):
        for path in (root / app).rglob("*.py"):
            recorded |= set(re.findall(r'object_type="([a-z_]+)"', path.read_text()))
    assert "host" in recorded and "report" in recorded
    assert recorded <= set(OBJECT_TYPES), sorted(recorded - set(OBJECT_TYPES))


def test_keyset_pages_cost_the_same_queries(client, compliance, django_assert_max_num_queries):
    _events(120)
    client.force_login(compliance)
    first = client.get(reverse("audit:log"))
    assert len(first.context["events"]) == 50 and first.context["has_older"]
    cursor = first.context["older_cursor"]
    with django_assert_max_num_queries(8):
        second = client.get(reverse("audit:log"), {"before": cursor})
    assert all(event.id < cursor for event in second.context["events"])
    third = client.get(reverse("audit:log"), {"before": second.context["older_cursor"]})
    assert len(third.context["events"]) == 20 and not third.context["has_older"]


def test_csv_export_streams_the_filtered_events_and_defuses_formulas(client, compliance):
    _events(3)
    with transaction.atomic():
        audit.record(
            actor=audit.SYSTEM,
            event_type="report.note_added",
            object_type="report",
            object_id="=1+1",
            data={"body": '=HYPERLINK("http://evil")'},
        )
    client.force_login(compliance)
    response = client.get(reverse("audit:export"), {"event_type": "report.note_added"})
    assert response.streaming and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:3] == ["id", "created_at", "event_type"]
    assert len(rows) == 2 and rows[1][2] == "report.note_added"
    assert rows[1][6] == "'=1+1"  # a spreadsheet shows it as text instead of running it
    # Not yet sealed (this test's transaction never commits): no chain position or hashes.
    assert rows[0][-4:] == ["seq", "prev_hash", "hash", "key_id"] and rows[1][-4:] == ["", "", "", ""]
    audit.seal_pending()
    rows = list(csv.reader(io.StringIO(b"".join(client.get(reverse("audit:export")).streaming_content).decode())))
    for row in rows[1:]:
        event = AuditEvent.objects.get(pk=row[0])
        assert row[-4:] == [str(event.seq), event.prev_hash, event.hash, event.key_id] and event.key_id


def test_user_text_in_events_is_escaped(client, compliance):
    with transaction.atomic():
        audit.record(
            actor=audit.SYSTEM,
            event_type="report.note_added",
            object_type="report",
            object_id="x",
            data={"body": "<script>alert(1)</script>"},
        )
    client.force_login(compliance)
    page = client.get(reverse("audit:log")).content.decode()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
