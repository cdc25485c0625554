"""An automated report's source and score in the queue and on the report page, at a fixed number of
queries however many signals joined; hash bank matches shown as metadata, never as images."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit import services as audit
from moderation.hashbank import services as bank
from moderation.signals import services
from moderation.signals.models import Detector, SignalPolicy
from moderation.signals.services import SignalItem
from reports.models import Report, ReportChannel
from reports.uploads import clean_upload
from tests.factories import ReportFactory, SanctionFactory, TargetFactory
from tests.hashbank_media import edited_bytes, picture_bytes

pytestmark = pytest.mark.django_db
QUEUE = reverse("moderation:queue")
PLATFORM = audit.SystemActor("platform key chat-backend")


@pytest.fixture
def detector():
    detector = Detector.objects.create(name="hate-speech-model")
    SignalPolicy.objects.create(detector=detector, category="", floor=Decimal("0.1"), review_threshold=Decimal("0.5"))
    return detector


def signals_on(target, count: int, *, start: int = 0, top: str = "0.9"):
    items = [
        SignalItem(
            idempotency_key=f"{target.pk}-{start + n}",
            source_name="hate-speech-model",
            source_version=f"1.{n}",
            category="hate_speech",
            score=Decimal(top) if n == count - 1 else Decimal("0.6"),
            target_id=target.public_id,
            labels=["slur"],
        )
        for n in range(count)
    ]
    return services.signals_ingest(actor=PLATFORM, items=items)


def test_the_queue_shows_source_and_score(client, moderator, detector):
    target = TargetFactory(title="Message in #general")
    signals_on(target, 3, top="0.93")
    ReportFactory()  # a person's report beside it
    client.force_login(moderator)
    html = client.get(QUEUE).content.decode()
    assert "hate-speech-model 1.2" in html
    assert "score 0.93" in html
    assert "data-automated" in html


def test_the_queue_costs_the_same_queries_with_more_automated_reports(client, moderator, detector):
    client.force_login(moderator)
    counts = []
    for batch in (2, 20):
        for n in range(batch):
            signals_on(TargetFactory(), 2, start=n * 10)
        client.get(QUEUE, {"per_page": "100"})
        with CaptureQueriesContext(connection) as queries:
            response = client.get(QUEUE, {"per_page": "100"})
        assert (
            response.content.decode().count("data-automated")
            == Report.objects.filter(channel=ReportChannel.AUTOMATED).count()
        )
        counts.append(len(queries))
    assert counts[0] == counts[1]


def page(client, report):
    return client.get(reverse("moderation:report", args=[report.pk]))


def test_the_report_page_lists_signals_with_source_and_score(client, moderator, detector):
    target = TargetFactory()
    signals_on(target, 3, top="0.97")
    report = Report.objects.get(target=target)
    client.force_login(moderator)
    html = page(client, report).content.decode()
    assert html.count("data-signal>") == 3
    assert "hate-speech-model" in html and "0.97" in html and "slur" in html
    assert "Automated detection (no reporter)" in html
    assert "data-top-source>hate-speech-model 1.2<" in html


def test_the_report_page_costs_the_same_queries_however_many_signals(
    client, moderator, detector, django_assert_max_num_queries
):
    quiet, busy = TargetFactory(), TargetFactory()
    signals_on(quiet, 2)
    signals_on(busy, 15)
    client.force_login(moderator)
    counts = []
    for target in (quiet, busy):
        report = Report.objects.get(target=target)
        page(client, report)
        with CaptureQueriesContext(connection) as queries:
            assert page(client, report).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]
    with django_assert_max_num_queries(22):
        page(client, Report.objects.get(target=busy))


def test_a_persons_report_page_asks_nothing_of_signals(client, moderator, detector):
    report = ReportFactory()
    client.force_login(moderator)
    with CaptureQueriesContext(connection) as queries:
        page(client, report)
    assert not any("signals_signal" in query["sql"] for query in queries.captured_queries)


def test_bank_matches_are_shown_as_metadata_never_as_images(client, moderator, compliance, detector):
    entry, _ = bank.entry_add_from_media(
        actor=moderator, content=picture_bytes(11), category="child_safety", report=ReportFactory()
    )
    frame = clean_upload(SimpleUploadedFile("f.png", edited_bytes(11)))
    target = TargetFactory(kind="file")
    services.signals_ingest(
        actor=PLATFORM,
        items=[
            SignalItem(
                idempotency_key="bank-1",
                source_name="hate-speech-model",
                source_version="1",
                category="hate_speech",
                score=Decimal("0.2"),
                target_id=target.public_id,
                frame=frame,
                frame_hashes=services.frame_hashes(edited_bytes(11)),
            )
        ],
    )
    report = Report.objects.get(target=target, channel=ReportChannel.AUTOMATED)
    client.force_login(compliance)
    html = page(client, report).content.decode()
    assert f"Entry {entry.pk} (" in html and "Report Desk moderation decision" in html
    assert "data-bank-hits" in html
    # The matches are words and numbers: no image, no link to any file of the bank's (it holds none).
    matches = html.split("data-bank-hits", 1)[1].split("</ul>", 1)[0]
    assert "<img" not in matches and "href" not in matches


def test_a_bank_match_links_the_decision_that_banked_it_and_the_sanction_lists_its_entries(
    client, moderator, compliance, detector
):
    sanction = SanctionFactory(kind="remove_content")
    entry, _ = bank.entry_add_from_media(
        actor=moderator, content=picture_bytes(12), category="child_safety", sanction=sanction
    )
    target = TargetFactory(kind="file")
    services.signals_ingest(
        actor=PLATFORM,
        items=[
            SignalItem(
                idempotency_key="bank-2",
                source_name="hate-speech-model",
                source_version="1",
                category="hate_speech",
                score=Decimal("0.2"),
                target_id=target.public_id,
                frame=clean_upload(SimpleUploadedFile("f.png", edited_bytes(12))),
                frame_hashes=services.frame_hashes(edited_bytes(12)),
            )
        ],
    )
    client.force_login(compliance)
    html = page(client, Report.objects.get(target=target, channel=ReportChannel.AUTOMATED)).content.decode()
    matches = html.split("data-bank-hits", 1)[1].split("</ul>", 1)[0]
    # The one link is to the decision's page; still no image.
    sanction_url = reverse("enforcement:sanction", args=[sanction.pk])
    assert re.findall(r'href="([^"]+)"', matches) == [sanction_url] and "<img" not in matches
    listed = client.get(sanction_url).content.decode().split("data-bank-entries", 1)[1].split("</dd>", 1)[0]
    assert f"Entry {entry.pk} (" in listed and "<img" not in listed
