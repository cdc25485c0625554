"""The queue's FilterSet, called directly: defaults, every filter, search, ordering, the
compliance default view and hand-edited links."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.http import QueryDict
from django.test import RequestFactory
from django.utils import timezone

from moderation.filters import ReportQueueFilterSet
from reports.categories import Category
from reports.models import Report, ReportStatus, TargetKind
from tests.factories import ReportFactory, TargetFactory, UserFactory

pytestmark = pytest.mark.django_db


def run(user, query: str = "", staff=None) -> list[Report]:
    request = RequestFactory().get("/moderation/", QueryDict(query))
    request.user = user
    filterset = ReportQueueFilterSet(request.GET, queryset=Report.objects.all(), request=request, staff=staff or [])
    return list(filterset.qs)


def ids(reports) -> set:
    return {report.pk for report in reports}


def test_default_is_open_reports_only(moderator):
    pending = ReportFactory(status=ReportStatus.PENDING)
    reviewed = ReportFactory(status=ReportStatus.REVIEWED)
    ReportFactory(status=ReportStatus.RESOLVED)
    ReportFactory(status=ReportStatus.DISMISSED)
    assert ids(run(moderator)) == {pending.pk, reviewed.pk}
    assert ids(run(moderator, "status=")) == {pending.pk, reviewed.pk}


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("pending", {"pending"}),
        ("reviewed", {"reviewed"}),
        ("resolved", {"resolved"}),
        ("dismissed", {"dismissed"}),
        ("open", {"pending", "reviewed"}),
        ("closed", {"resolved", "dismissed"}),
        ("all", {"pending", "reviewed", "resolved", "dismissed"}),
        ("bogus", {"pending", "reviewed"}),  # a hand-edited link falls back to the default, never to "all"
    ],
)
def test_status_filter(moderator, status, expected):
    for value in ReportStatus.values:
        ReportFactory(status=value)
    assert {report.status for report in run(moderator, f"status={status}")} == expected


def test_type_category_and_severity(moderator):
    message = ReportFactory(target=TargetFactory(kind=TargetKind.MESSAGE), category=Category.SPAM)
    profile = ReportFactory(target=TargetFactory(kind=TargetKind.PROFILE), category=Category.IMPERSONATION)
    threat = ReportFactory(category=Category.VIOLENCE)
    assert ids(run(moderator, "report_type=profile")) == {profile.pk}
    assert ids(run(moderator, "category=spam")) == {message.pk}
    assert ids(run(moderator, "severity=critical")) == {threat.pk}
    assert ids(run(moderator, "severity=low&report_type=message")) == {message.pk}
    assert ids(run(moderator, "severity=low&report_type=profile")) == set()


def test_assignee_me_unassigned_anyone_and_a_person(moderator):
    colleague = UserFactory(role="moderator")
    mine = ReportFactory(assignee=moderator)
    theirs = ReportFactory(assignee=colleague)
    nobodys = ReportFactory()
    staff = [moderator, colleague]
    assert ids(run(moderator, "assignee=me", staff)) == {mine.pk}
    assert ids(run(moderator, "assignee=none", staff)) == {nobodys.pk}
    assert ids(run(moderator, "assignee=", staff)) == {mine.pk, theirs.pk, nobodys.pk}
    assert ids(run(moderator, f"assignee={colleague.pk}", staff)) == {theirs.pk}


def test_overdue_and_escalated(moderator):
    late = ReportFactory(due_at=timezone.now() - timedelta(minutes=1))
    late_but_closed = ReportFactory(due_at=timezone.now() - timedelta(hours=1), status=ReportStatus.RESOLVED)
    escalated = ReportFactory(escalated=True)
    calm = ReportFactory()
    assert ids(run(moderator, "overdue=on")) == {late.pk}
    assert ids(run(moderator, "overdue=on&status=all")) == {late.pk}  # a closed report is never overdue
    assert late_but_closed.pk not in ids(run(moderator, "overdue=on&status=all"))
    assert ids(run(moderator, "escalated=yes")) == {escalated.pk}
    assert ids(run(moderator, "escalated=no")) == {late.pk, calm.pk}


def test_created_between_whole_days(moderator):
    def filed(days_ago: int) -> Report:
        report = ReportFactory()
        Report.objects.filter(pk=report.pk).update(created_at=timezone.now() - timedelta(days=days_ago))
        return report

    old, middle, recent = filed(10), filed(5), filed(0)
    today = timezone.localdate()
    since = (today - timedelta(days=6)).isoformat()
    until = (today - timedelta(days=1)).isoformat()
    assert ids(run(moderator, f"created_from={since}")) == {middle.pk, recent.pk}
    assert ids(run(moderator, f"created_to={until}")) == {old.pk, middle.pk}
    assert ids(run(moderator, f"created_from={since}&created_to={until}")) == {middle.pk}
    # The last day is included whole.
    assert ids(run(moderator, f"created_from={today.isoformat()}&created_to={today.isoformat()}")) == {recent.pk}


def test_search_reason_ids_and_usernames(moderator):
    owner = UserFactory(username="spammy_owner")
    reporter = UserFactory(username="careful_reporter")
    by_reason = ReportFactory(reason="He sells counterfeit watches in the lobby")
    by_target = ReportFactory()
    by_owner = ReportFactory(target=TargetFactory(owner=owner))
    by_reporter = ReportFactory(reporter=reporter)
    assert ids(run(moderator, "q=COUNTERFEIT")) == {by_reason.pk}
    assert ids(run(moderator, f"q={by_target.target.public_id}")) == {by_target.pk}
    assert ids(run(moderator, f"q={by_target.pk}")) == {by_target.pk}
    assert ids(run(moderator, f"q={str(by_target.pk)[:8]}")) == {by_target.pk}
    assert ids(run(moderator, f"q={by_target.target.external_id}")) == {by_target.pk}
    assert ids(run(moderator, "q=@spammy")) == {by_owner.pk}
    assert ids(run(moderator, "q=careful_reporter")) == {by_reporter.pk}
    assert ids(run(moderator, f"q={uuid.uuid4()}")) == set()


def test_orders_deadline_then_severity_newest_and_oldest(moderator):
    due = timezone.now() + timedelta(hours=5)
    low = ReportFactory(category=Category.SPAM, due_at=due)
    critical = ReportFactory(category=Category.VIOLENCE, due_at=due)
    sooner = ReportFactory(category=Category.COPYRIGHT, due_at=due - timedelta(hours=1))
    for report, minutes in ((low, 20), (critical, 10), (sooner, 30)):
        Report.objects.filter(pk=report.pk).update(created_at=timezone.now() - timedelta(minutes=minutes))
    assert [r.pk for r in run(moderator)] == [sooner.pk, critical.pk, low.pk]
    assert [r.pk for r in run(moderator, "sort=deadline")] == [sooner.pk, critical.pk, low.pk]
    assert [r.pk for r in run(moderator, "sort=newest")] == [critical.pk, low.pk, sooner.pk]
    assert [r.pk for r in run(moderator, "sort=oldest")] == [sooner.pk, low.pk, critical.pk]


def test_compliance_starts_on_escalated_reports_until_a_filter_is_chosen(compliance, moderator):
    escalated = ReportFactory(escalated=True)
    plain = ReportFactory()
    assert ids(run(compliance)) == {escalated.pk}
    assert ids(run(compliance, "page=2")) == {escalated.pk}  # paging is not a filter
    assert ids(run(compliance, "status=open")) == {escalated.pk, plain.pk}
    assert ids(run(compliance, "escalated=")) == {escalated.pk, plain.pk}
    assert ids(run(moderator)) == {escalated.pk, plain.pk}  # moderators start on everything open


def test_filterset_flags_the_default_view(compliance, moderator):
    request = RequestFactory().get("/moderation/")
    request.user = compliance
    default = ReportQueueFilterSet(request.GET, queryset=Report.objects.all(), request=request)
    assert default.is_default_view and default.escalated_by_default
    request.user = moderator
    plain = ReportQueueFilterSet(request.GET, queryset=Report.objects.all(), request=request)
    assert plain.is_default_view and not plain.escalated_by_default
    assert plain.current_status == "open" and plain.current_sort == "deadline"
