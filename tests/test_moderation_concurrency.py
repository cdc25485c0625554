"""Races with real threads on PostgreSQL (each thread has its own connection): two moderators
reviewing one report at once, many pulling "next report" at once, several hosts sweeping at once.

SQLite serialises writers, so these races cannot happen there; the tests run on PostgreSQL only.
"""

from __future__ import annotations

import functools
import threading
from collections import Counter
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import seal_pending
from audit.verify import verify
from moderation import services
from moderation.enforcement.services import ActionRequest, decision_apply
from reports.models import OutboxMail, Report
from reports.outbox import deliver_due
from tests.factories import OutboxMailFactory, ReportFactory, TargetFactory, UserFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks and SKIP LOCKED need PostgreSQL"),
]


def race(workers: list[Callable[[], object]]) -> list[object]:
    """Start every worker at the same moment; return each one's result or exception."""
    barrier = threading.Barrier(len(workers))
    results: list[object] = [None] * len(workers)

    def run(index: int, work: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = work()
        except Exception as error:  # the refusals are what the test looks at
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, w)) for i, w in enumerate(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return results


def test_two_moderators_reviewing_at_once_exactly_one_wins():
    for attempt in range(5):
        alice = UserFactory(username=f"alice_mod{attempt}", role="moderator")
        bob = UserFactory(username=f"bob_mod{attempt}", role="moderator")
        report = ReportFactory()
        results = race(
            [
                lambda who=who, status=status, report_id=report.pk: services.report_review(
                    actor=who,
                    report_id=report_id,
                    status=status,
                    admin_notes=f"{who} decided",
                    expected_status="pending",
                )
                for who, status in ((alice, "resolved"), (bob, "dismissed"))
            ]
        )
        winners = [r for r in results if isinstance(r, Report)]
        refused = [r for r in results if isinstance(r, services.TransitionRefused)]
        assert len(winners) == 1 and len(refused) == 1, results
        report.refresh_from_db()
        winner = report.reviewed_by
        assert winner in (alice, bob) and report.admin_notes == f"{winner} decided"
        assert winner.username in str(refused[0])  # the loser is told who handled it
        assert AuditEvent.objects.for_object("report", report.pk).filter(event_type="report.reviewed").count() == 1
    seal_pending()
    chain = verify()
    assert chain.intact and chain.unsealed == 0 and chain.checked == AuditEvent.objects.count()


def test_a_review_of_a_whole_target_and_a_decision_on_it_at_once_queue_never_deadlock():
    """Both act on every open report of one target, starting from different reports: they lock the
    target first (services.lock_target_of), so one waits for the other, which then refuses it."""
    for attempt in range(5):
        moderator = UserFactory(username=f"whole_target_mod{attempt}", role="moderator")
        officer = UserFactory(username=f"whole_target_officer{attempt}", role="compliance")
        target = TargetFactory()
        first, second, *_ = [ReportFactory(target=target) for _ in range(4)]
        review = functools.partial(
            services.report_review_on_target,
            actor=moderator,
            report_id=first.pk,
            status="dismissed",
            expected_status="pending",
        )
        decide = functools.partial(
            decision_apply,
            actor=officer,
            report_id=second.pk,
            actions=[ActionRequest(kind="warning")],
            ground_type="terms",
            ground="Terms §4",
            facts="Spam links.",
            apply_to_all_open=True,
        )
        results = race([review, decide])
        refused = [r for r in results if isinstance(r, Exception)]
        assert len(refused) == 1 and isinstance(refused[0], services.TransitionRefused), results
        assert len(set(Report.objects.filter(target=target).values_list("status", flat=True))) == 1


def test_next_report_never_hands_one_report_to_two_moderators():
    reports = [ReportFactory(due_at=timezone.now() + timedelta(hours=n + 1)) for n in range(12)]
    moderators = [UserFactory(username=f"puller{n}", role="moderator") for n in range(8)]

    def pull(who) -> list:
        taken = []
        for _ in range(3):
            report = services.report_claim_next(actor=who)
            if report is not None:
                taken.append(report.pk)
        return taken

    results = race([lambda who=who: pull(who) for who in moderators])
    assert not any(isinstance(r, Exception) for r in results), results
    handed_out = [pk for taken in results for pk in taken]
    assert len(handed_out) == len(set(handed_out)) == len(reports)
    assigned = dict(Report.objects.values_list("pk", "assignee__username"))
    for who, taken in zip(moderators, results, strict=True):
        assert all(assigned[pk] == who.username for pk in taken)
    via_next = AuditEvent.objects.filter(event_type="report.assigned", data__via="next")
    assert Counter(via_next.values_list("object_id", flat=True)) == Counter(str(pk) for pk in handed_out)
    seal_pending()
    chain = verify()
    assert chain.intact and chain.unsealed == 0 and chain.checked == AuditEvent.objects.count()


def test_sweeps_on_several_hosts_at_once_escalate_and_mail_each_report_once(settings):
    settings.MODERATION_ALERT_EMAILS = ["oncall@example.test"]
    overdue = [ReportFactory(due_at=timezone.now() - timedelta(minutes=n + 1)) for n in range(10)]
    results = race([services.sla_sweep for _ in range(4)])
    assert not any(isinstance(r, Exception) for r in results), results
    escalated = [pk for result in results for pk in result.escalated]
    assert sorted(map(str, escalated)) == sorted(str(r.pk) for r in overdue)
    assert AuditEvent.objects.filter(event_type="report.sla_breached").count() == 10
    assert len(mail.outbox) == 10
    assert Report.objects.filter(escalated=True, sla_alerted_at__isnull=False).count() == 10


def test_mail_delivery_on_several_workers_at_once_sends_each_mail_once():
    waiting = [OutboxMailFactory(recipients=[f"reporter{n}@example.test"]) for n in range(20)]
    results = race([deliver_due for _ in range(4)])
    assert not any(isinstance(r, Exception) for r in results), results
    assert sum(r.sent for r in results) == 20
    sent_to = Counter(address for message in mail.outbox for address in message.to)
    assert sent_to == Counter(row.recipients[0] for row in waiting)  # every one, and none twice
    assert not OutboxMail.objects.filter(sent_at__isnull=True).exists()
