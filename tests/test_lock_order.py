"""The one lock order (moderation/services.py: target, its reports, their automated cases, its story
review), raced on PostgreSQL with real threads, each on its own connection.

Each race is made deterministic instead of hoped for: a third connection holds the target's row
lock; the signals' batch starts first and waits for it; the person's action starts second and waits
too (after taking whatever it locks before the target); then the target is let go. The batch gets
the target first and goes on to the report (or story). Had the person's action locked the report
(or story) before the target, the two would now wait on each other and PostgreSQL would end one
with "deadlock detected". Locking the target first, it only queues behind the batch.

SQLite serialises writers, so the race cannot happen there; these tests run on PostgreSQL only.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from audit.services import seal_pending
from audit.verify import verify
from moderation import services as moderation_services
from moderation.signals.models import Signal
from moderation.signals.services import ItemResult, ItemStatus
from moderation.stories import services as stories
from moderation.stories.models import StoryReview, StoryStatus
from reports.models import Report, ReportStatus, Target, TargetState
from tests.test_signals_services import detector, file_target, ingest, signal  # noqa: F401 (the fixture)

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks and deadlocks need PostgreSQL"),
]


def _waiting_on_locks() -> int:
    """Backends of this test database waiting for a lock now (autocommit: a fresh snapshot each time)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


def _until(condition: Callable[[], bool], *, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the workers never reached their locks"
        time.sleep(0.02)


def behind_a_held_target(target: Target, first: Callable[[], object], second: Callable[[], object]) -> list[object]:
    """Hold `target`'s lock in another connection, start `first` and wait until it waits for a lock,
    start `second` and wait until it waits too, then let the target go. Each worker's result or
    exception, in order."""
    held, release = threading.Event(), threading.Event()
    results: list[object] = [None, None]

    def hold() -> None:
        try:
            with transaction.atomic():
                Target.objects.select_for_update().get(pk=target.pk)
                held.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    def run(index: int, work: Callable[[], object]) -> None:
        try:
            results[index] = work()
        except Exception as error:  # a deadlock is what the test looks for
            results[index] = error
        finally:
            connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    assert held.wait(timeout=10)
    workers = []
    for index, work in enumerate((first, second)):
        worker = threading.Thread(target=run, args=(index, work))
        worker.start()
        workers.append(worker)
        _until(lambda index=index: _waiting_on_locks() >= index + 1)
    release.set()
    for thread in (holder, *workers):
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in (holder, *workers))
    return results


def _quarantined_by_automation(target: Target) -> Report:
    [result] = ingest(signal(target, key="act", score="0.97"))
    assert result.quarantined
    return Report.objects.get(pk=result.report_id)


def _dismiss_one(actor, report: Report):
    return moderation_services.report_review(actor=actor, report_id=report.pk, status="dismissed")


def _dismiss_in_bulk(actor, report: Report):
    # The queue page was read after the last change of the report.
    seen_at = timezone.now() + timedelta(minutes=1)
    result = moderation_services.reports_bulk(actor=actor, report_ids=[report.pk], action="dismissed", seen_at=seen_at)
    assert result.done == [report.pk], result.skipped
    return result


def _dismiss_from_the_form(actor, report: Report):
    return moderation_services.report_review_on_target(
        actor=actor, report_id=report.pk, status="dismissed", apply_to_target=False
    )


@pytest.mark.parametrize("dismiss", [_dismiss_one, _dismiss_in_bulk, _dismiss_from_the_form])
def test_a_dismissal_releasing_a_quarantine_and_a_batch_on_its_target_queue_never_deadlock(
    detector,  # noqa: F811
    compliance,
    dismiss,
):
    target = file_target()
    report = _quarantined_by_automation(target)
    batch = lambda: ingest(signal(target, key="after", score="0.6"))  # noqa: E731 (a plain item: merged)
    results = behind_a_held_target(target, batch, lambda: dismiss(compliance, report))
    assert not any(isinstance(result, Exception) for result in results), results
    [merged] = results[0]
    assert isinstance(merged, ItemResult) and merged.status == ItemStatus.MERGED and merged.report_id == report.pk
    report.refresh_from_db()
    target.refresh_from_db()
    # The batch went first (it was first in line for the target), then the dismissal released the content.
    assert report.status == ReportStatus.DISMISSED and target.state == TargetState.VISIBLE
    assert Signal.objects.filter(report=report).count() == 2
    seal_pending()
    assert verify().intact


def test_a_person_rejecting_a_story_and_a_detector_rejecting_it_queue_never_deadlock(
    detector,  # noqa: F811
    moderator,
):
    from tests.test_stories import submit

    story = submit("lock-order-story").story
    batch = lambda: ingest(signal(story.target, key="story-act", score="0.97"))  # noqa: E731 (above the action threshold)
    person = lambda: stories.story_reject(  # noqa: E731
        actor=moderator, story_id=story.pk, category="spam", explanation="Spam."
    )
    results = behind_a_held_target(story.target, batch, person)
    assert not any(
        isinstance(result, Exception) and not isinstance(result, stories.StoryAlreadyDecided) for result in results
    ), results
    # The detector was first in line: its automatic rejection stands, the person is told who decided.
    assert isinstance(results[1], stories.StoryAlreadyDecided)
    story = StoryReview.objects.get(pk=story.pk)
    assert story.status == StoryStatus.REJECTED and story.automated


def test_two_filings_whose_evidence_the_hash_bank_matches_queue_never_deadlock(moderator):
    """A guard, not a fix: a filing's new report refers to the target, but Django's foreign keys are
    checked at commit (DEFERRABLE INITIALLY DEFERRED), so the insert takes no lock on the target
    before the bank match locks it for the automated report; two such filings queue on the target.
    (Were the key checked at the insert, each would hold a key-share lock the other's match waits
    for.) It passed before the lock-order change too."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from reports import services as report_services
    from reports.models import ReportChannel
    from tests.factories import UserFactory
    from tests.hashbank_media import picture_bytes
    from tests.test_signals_services import banked

    banked(picture_bytes(7), moderator)
    target = file_target()

    def filing(n: int) -> Callable[[], object]:
        reporter = UserFactory(username=f"lock_order_reporter{n}")
        return lambda: report_services.report_file(
            actor=reporter,
            target=target,
            category="harassment",
            reason="Look at what he posted.",
            evidence=[SimpleUploadedFile("shot.png", picture_bytes(7), content_type="image/png")],
        )

    results = behind_a_held_target(target, filing(1), filing(2))
    assert all(isinstance(result, Report) for result in results), results
    # The second match joined the automated report the first one filed.
    automated = Report.objects.get(target=target, channel=ReportChannel.AUTOMATED)
    assert automated.escalated and Report.objects.filter(target=target).count() == 3
