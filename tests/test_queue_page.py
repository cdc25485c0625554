"""The queue page: rows, counts per status, the results partial, pagination that keeps the filters,
grouping by target, bulk actions, "next report", and a fixed number of queries per page."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertInHTML

from audit.models import AuditEvent
from moderation import selectors
from reports.categories import Category
from reports.models import Report, ReportStatus
from tests.factories import ReportFactory, TargetFactory, UserFactory
from tests.html import attr, elements, one, text

pytestmark = pytest.mark.django_db
QUEUE = reverse("moderation:queue")


@pytest.fixture
def mod_client(client, moderator):
    client.force_login(moderator)
    return client


def row_ids(response) -> list[str]:
    return re.findall(r'name="ids" value="([0-9a-f-]{36})"', response.content.decode())


def test_a_row_shows_everything_a_moderator_needs(mod_client, moderator):
    report = ReportFactory(
        category=Category.HARASSMENT,
        reason="They keep insulting me in the lobby every single evening since Monday.",
        escalated=True,
        assignee=moderator,
        due_at=timezone.now() - timedelta(hours=2),
    )
    html = mod_client.get(QUEUE).content.decode()
    row = one(html, "tr", class_="queue-row")
    # The report's link carries the queue view it was opened from (its "← Queue" comes back to it).
    link = reverse("moderation:report", args=[report.pk]) + "?status=open&sort=deadline"
    # What static/js/queue.js reads: the row, where Enter goes, the box x ticks.
    assert attr(row, "data-row") == "" and attr(row, "data-href") == link and "row-overdue" in attr(row, "class")
    assert attr(one(row, "input", name="ids"), "value") == str(report.pk)
    assertInHTML('<span class="badge badge-pending" data-status="pending">Pending</span>', str(row))
    assertInHTML(f'<a class="row-link" href="{link.replace("&", "&amp;")}">Harassment or bullying</a>', str(row))
    assertInHTML('<span class="badge badge-high">High</span>', str(row))
    assertInHTML(
        f'<div class="row-meta">Chat message · <span class="mono">{report.short_id}</span></div>',
        str(one(row, "td", data_label="Report")),
    )
    assert text(one(row, "div", class_="excerpt")) == report.reason  # 72 characters: not cut
    assert text(one(row, "td", data_label="Reporter")).strip() == f"@{report.reporter.username}"
    assert f"by @{report.target.owner.username}" in text(one(row, "td", data_label="Target"))
    deadline = one(row, "span", class_="deadline")
    assert "deadline-overdue" in attr(deadline, "class") and attr(deadline, "data-live") is not None
    assert text(one(deadline, "span", class_="deadline-label")) == "Overdue by 2h" and "⚠" in text(deadline)
    assert text(one(row, "span", class_="badge-escalated")) == "▲ Escalated"
    assertInHTML("<strong>You</strong>", str(one(row, "td", data_label="Assignee")))


def test_a_row_reads_like_the_template_filters(mod_client):
    """The dates as Django's |date writes them (in the current time zone), the reason and the target's
    title cut like |truncatechars, a complainant without an account, nobody assigned."""
    from django.template.defaultfilters import date as date_filter
    from django.template.defaultfilters import truncatechars

    report = ReportFactory(
        reporter=None,
        reporter_name="A complainant",
        reason="word " * 40,
        target=TargetFactory(title="A very long title of the reported content, longer than shown"),
    )
    row = one(mod_client.get(QUEUE).content.decode(), "tr", class_="queue-row")
    created = timezone.localtime(report.created_at)
    time = one(row, "time")
    assert attr(time, "datetime") == date_filter(created, "c")
    assert attr(time, "title") == date_filter(created, "j M Y, H:i") and text(time) == date_filter(created, "j M, H:i")
    assert text(one(row, "div", class_="excerpt")) == truncatechars(report.reason, 110).strip()
    assert text(one(row, "span", class_="target-title")) == truncatechars(report.target.title, 48)
    assertInHTML(
        '<td data-label="Reporter" class="col-reporter">A complainant <span class="row-meta">(no account)</span></td>',
        str(row),
    )
    assertInHTML('<span class="muted">—</span>', str(one(row, "td", data_label="Assignee")))


def test_deadline_colours(mod_client):
    now = timezone.now()
    soon = ReportFactory(category=Category.VIOLENCE, due_at=now + timedelta(hours=5, minutes=30))
    Report.objects.filter(pk=soon.pk).update(created_at=now - timedelta(hours=18, minutes=30))  # under 1/4 left
    calm = ReportFactory(category=Category.SPAM, due_at=now + timedelta(days=6, hours=1))
    Report.objects.filter(pk=calm.pk).update(created_at=now - timedelta(hours=23))
    html = mod_client.get(QUEUE).content.decode()
    labels = {
        state: text(one(deadline, "span", class_="deadline-label"))
        for deadline in elements(html, "span", class_="deadline")
        for state in attr(deadline, "class").split()
        if state.startswith("deadline-")
    }
    assert labels["deadline-soon"] == "5h 29m left" and labels["deadline-ok"] in ("6d left", "6d 0h left")


def test_user_text_is_escaped(mod_client):
    """Every text a row shows that users or staff wrote: reason, target title, owner and reporter
    names, a complainant's name, the escalation reason, the assignee's name."""
    ReportFactory(
        reason="<script>alert(1)</script>",
        target=TargetFactory(title="<img src=x onerror=alert(2)>", owner=UserFactory(username="o<b>wner")),
        reporter=UserFactory(username="r<i>eporter"),
        escalated=True,
        escalation_reason='"><svg onload=alert(3)>',
        assignee=UserFactory(username="a<u>ssignee", role="moderator"),
    )
    ReportFactory(reporter=None, reporter_name="<marquee>complainant", reporter_email="c@example.com")
    html = mod_client.get(QUEUE).content.decode()
    # Nothing the users wrote became an element: no inline script, image, SVG or formatting.
    assert not [el for el in elements(html, "script") if not attr(el, "src")]
    assert not elements(html, "img") and not elements(html, "svg")
    assert not any(elements(html, tag) for tag in ("b", "i", "u", "marquee"))
    # It is all there as text, and the escalation reason as an attribute's value.
    shown = text(one(html, "tbody"))
    for written in ("<script>alert(1)</script>", "<img src=x onerror=alert(2)>", "o<b>wner", "r<i>eporter"):
        assert written in shown
    assert "a<u>ssignee" in shown and "<marquee>complainant" in shown
    assert attr(one(html, "span", class_="badge-escalated"), "title") == '"><svg onload=alert(3)>'


def test_counts_per_status_follow_the_other_filters(mod_client):
    for status in ["pending", "pending", "reviewed", "resolved", "dismissed"]:
        ReportFactory(status=status, category=Category.SPAM)
    ReportFactory(status="pending", category=Category.FRAUD)
    response = mod_client.get(QUEUE, {"category": "spam"})
    assert {status: tally.count for status, tally in response.context["counts"].items()} == {
        "pending": 2,
        "reviewed": 1,
        "resolved": 1,
        "dismissed": 1,
        "open": 3,
        "closed": 2,
        "all": 5,
    }
    assert len(row_ids(response)) == 3


def test_a_text_search_counts_the_open_tabs_and_the_tab_shown(mod_client):
    for status in ["pending", "reviewed", "resolved", "dismissed", "dismissed"]:
        ReportFactory(status=status, reason="sells crypto coins")
    ReportFactory(status="resolved", reason="unrelated")
    response = mod_client.get(QUEUE, {"q": "crypto"})
    counts = {status: tally.count for status, tally in response.context["counts"].items()}
    assert counts == {"pending": 1, "reviewed": 1, "open": 2}
    html = response.content.decode()
    assert text(one(one(html, "a", class_="status-tab-pending"), "span", class_="count")) == "1"
    dismissed_tab = one(html, "a", class_="status-tab-dismissed")
    assert "Dismissed" in text(dismissed_tab) and not elements(dismissed_tab, class_="count")
    assert attr(dismissed_tab, "title") == "Not counted while searching the text; open it to count"
    # Opened, a closed tab counts what it shows.
    response = mod_client.get(QUEUE, {"q": "crypto", "status": "dismissed"})
    assert response.context["counts"]["dismissed"].count == 2 and len(row_ids(response)) == 2


def test_status_counts_stop_at_their_cap_and_say_so(mod_client, monkeypatch):
    """Counting stops at the cap (a capped subquery), so a million closed reports cost what a
    thousand do; the tab then reads "3+" rather than a wrong exact number."""
    monkeypatch.setattr(selectors, "TAB_COUNT_CAP", 3)
    for _ in range(5):
        ReportFactory(status=ReportStatus.PENDING)
    ReportFactory(status=ReportStatus.DISMISSED)
    response = mod_client.get(QUEUE)
    counts = response.context["counts"]
    assert (counts["pending"].count, counts["pending"].more) == (3, True)
    assert (counts["dismissed"].count, counts["dismissed"].more) == (1, False)
    assert str(counts["closed"]) == "1" and str(counts["all"]) == "4+"
    assert str(counts["open"]) == "5"  # the tab shown counts what the page counts, to its own cap
    html = response.content.decode()
    assert text(one(one(html, "a", class_="status-tab-pending"), "span", class_="count")) == "3+"
    assert text(one(one(html, "a", class_="status-tab-dismissed"), "span", class_="count")) == "1"


def test_pages_come_in_queue_order_however_deep_and_the_count_stops_at_its_cap(mod_client, monkeypatch):
    """Two-step pages (the page's ids, then their rows) keep the queue's order on every page, and
    past PAGE_COUNT_CAP the summary says "N+", with a Next link and no Last link; a deeper page
    counts as deep as itself."""
    made = [ReportFactory(due_at=timezone.now() + timedelta(hours=n + 1)) for n in range(60)]
    expected = [str(report.pk) for report in made]  # earliest deadline first
    pages = [row_ids(mod_client.get(QUEUE, {"per_page": "25", "page": n})) for n in (1, 2, 3)]
    assert pages[0] + pages[1] + pages[2] == expected

    monkeypatch.setattr(selectors, "PAGE_COUNT_CAP", 25)
    response = mod_client.get(QUEUE, {"per_page": "25"})
    paginator = response.context["page"].paginator
    assert paginator.count == 25 and paginator.more and paginator.num_pages == 1
    html = response.content.decode()
    assertInHTML("<strong>25+</strong>", str(one(html, "p", class_="queue-summary")))
    assert text(one(html, "p", class_="queue-summary")).endswith("reports")
    pagination = one(html, "nav", class_="pagination")
    assert "Page 1 of 1+" in text(pagination) and "Last »" not in text(pagination)
    assert attr(one(pagination, "a", rel="next"), "href") == "?status=open&sort=deadline&per_page=25&page=2"

    response = mod_client.get(QUEUE, {"per_page": "25", "page": "2"})
    assert response.context["page"].paginator.count == 50
    assertInHTML("<strong>50+</strong>", str(one(response.content.decode(), "p", class_="queue-summary")))
    assert row_ids(response) == expected[25:50]
    response = mod_client.get(QUEUE, {"per_page": "25", "page": "3"})
    paginator = response.context["page"].paginator
    assert (paginator.count, paginator.more, row_ids(response)) == (60, False, expected[50:])
    assert not elements(response.content.decode(), "a", rel="next")


def test_search_finds_reports_through_accounts_and_targets_looked_up_first(mod_client):
    owner = UserFactory(username="crypto_king")
    on_owned = ReportFactory(target=TargetFactory(owner=owner), reason="nothing to see")
    by_reporter = ReportFactory(reporter=UserFactory(username="Crypto_fan"), reason="plain words")
    by_word = ReportFactory(reason="Sells CRYPTO coins in the lobby")
    ReportFactory(reason="unrelated")
    assert set(row_ids(mod_client.get(QUEUE, {"q": "crypto"}))) == {
        str(on_owned.pk),
        str(by_reporter.pk),
        str(by_word.pk),
    }
    assert row_ids(mod_client.get(QUEUE, {"q": "@crypto_k"})) == [str(on_owned.pk)]


def test_partial_renders_only_the_results(mod_client):
    ReportFactory()
    full = mod_client.get(QUEUE)
    partial = mod_client.get(QUEUE, HTTP_X_QUEUE_PARTIAL="1")
    assert b'id="queue-filters"' in full.content and b"<html" in full.content
    assert b"<html" not in partial.content and b'id="queue-filters"' not in partial.content
    assert row_ids(partial) == row_ids(full)
    assert "X-Queue-Partial" in partial["Vary"] and "X-Queue-Partial" in full["Vary"]


def test_pages_keep_filters_and_page_size(mod_client):
    for _ in range(30):
        ReportFactory(category=Category.SPAM)
    ReportFactory(category=Category.FRAUD)
    first = mod_client.get(QUEUE, {"category": "spam", "per_page": "25"})
    assert len(row_ids(first)) == 25
    html = first.content.decode()
    next_link = attr(one(html, "a", rel="next"), "href").removeprefix("?")
    params = parse_qs(next_link)
    assert params["category"] == ["spam"] and params["per_page"] == ["25"] and params["page"] == ["2"]
    second = mod_client.get(QUEUE + "?" + next_link)
    assert len(row_ids(second)) == 5 and not set(row_ids(first)) & set(row_ids(second))
    # The status tabs and page sizes keep the category too.
    assert all("category=spam" in link for _, _, _, link in first.context["status_tabs"])
    # The filter selects keep the choice.
    assert attr(one(one(html, "select", name="category"), "option", selected=True), "value") == "spam"
    assert all("category=spam" in link for _, link in first.context["page_size_links"])
    assert len(row_ids(mod_client.get(QUEUE, {"category": "spam", "per_page": "50"}))) == 30
    assert len(row_ids(mod_client.get(QUEUE, {"per_page": "7"}))) == 25  # only 25/50/100


def test_the_filter_form_is_the_filtersets_form(mod_client):
    """Every filter of ReportQueueFilterSet under its label, each keeping the value the link chose; a
    bad value is named in the alert that the control points to (aria-describedby)."""
    html = mod_client.get(QUEUE, {"category": "spam", "created_to": "nonsense", "q": '"><b>x', "per_page": "50"})
    html = html.content.decode()
    form = one(html, "form", id="queue-filters")
    labels = {attr(label, "for"): text(label) for label in elements(form, "label") if attr(label, "for")}
    assert labels == {
        "id_q": "Search",
        "id_status": "Status",
        "id_report_type": "Type",
        "id_category": "Category",
        "id_severity": "Severity",
        "id_assignee": "Assignee",
        "id_escalated": "Escalation",
        "id_created_from": "Received from",
        "id_created_to": "Received until",
        "id_sort": "Order",
        "id_per_page": "Rows per page",
    }
    chosen = {
        attr(select, "name"): attr(one(select, "option", selected=True), "value")
        for select in elements(form, "select")
        if elements(select, "option", selected=True)
    }
    # The link's choices; the others on their "any" option, as Django's Select marks an empty value.
    assert chosen == {
        "status": "open",
        "report_type": "",
        "category": "spam",
        "severity": "",
        "assignee": "",
        "escalated": "",
        "sort": "deadline",
        "per_page": "50",
    }
    assert attr(one(form, "input", name="q"), "value") == '"><b>x' and not elements(form, "b")
    bad = one(form, "input", name="created_to")
    assert attr(bad, "aria-invalid") == "true"
    assert text(one(form, "p", id=attr(bad, "aria-describedby"))) == "Received until: Enter a valid date."


def test_group_by_target_shows_each_target_once_with_counts(mod_client):
    target = TargetFactory()
    reporter = UserFactory()
    lead = ReportFactory(target=target, category=Category.VIOLENCE)  # critical: the most urgent
    ReportFactory(target=target, reporter=reporter)
    ReportFactory(target=target, reporter=None, reporter_name="A", reporter_email="a@example.test")
    ReportFactory(target=target, status=ReportStatus.RESOLVED)  # closed: not in the open group
    alone = ReportFactory()
    response = mod_client.get(QUEUE, {"group": "1"})
    rows = {report.pk: report for report in response.context["page"].object_list}
    assert set(rows) == {lead.pk, alone.pk}
    assert rows[lead.pk].group_size == 3 and rows[lead.pk].group_reporters == 3
    assert rows[alone.pk].group_size == 1
    assert text(one(response.content.decode(), "div", class_="group-size")) == "3 reports · 3 reporters"
    assert response.context["page"].paginator.count == 2


def test_bulk_on_a_grouped_row_acts_on_every_report_of_the_group(mod_client, moderator):
    target = TargetFactory()
    group = [ReportFactory(target=target) for _ in range(3)]
    other_category = ReportFactory(target=target, category=Category.SPAM)
    untouched = ReportFactory()
    response = mod_client.post(
        reverse("moderation:bulk"),
        {
            "ids": [group[0].pk],
            "action": "resolved",
            "note": "Removed by the platform.",
            "query": "status=open&category=harassment&group=1",
        },
    )
    assert response.status_code == 302 and "category=harassment" in response["Location"]
    assert set(Report.objects.filter(status="resolved").values_list("pk", flat=True)) == {r.pk for r in group}
    assert Report.objects.get(pk=other_category.pk).status == "pending"  # not in the filtered group
    assert Report.objects.get(pk=untouched.pk).status == "pending"
    events = AuditEvent.objects.filter(event_type="report.reviewed")
    assert events.count() == 3 and len({e.correlation_id for e in events}) == 1


def test_bulk_assign_and_reporting_skips(mod_client, moderator):
    colleague = UserFactory(role="moderator")
    open_one, closed = ReportFactory(), ReportFactory(status=ReportStatus.DISMISSED)
    response = mod_client.post(
        reverse("moderation:bulk"),
        {"ids": [open_one.pk, closed.pk], "action": "reviewed", "query": "status=all"},
        follow=True,
    )
    text = response.content.decode()
    assert "Marked reviewed: 1 report" in text and "Skipped 1 report" in text
    mod_client.post(
        reverse("moderation:bulk"),
        {"ids": [open_one.pk], "action": "assign", "assignee": colleague.pk, "query": ""},
    )
    assert Report.objects.get(pk=open_one.pk).assignee == colleague
    # "Assign to…" without a person is refused before anything changes.
    response = mod_client.post(reverse("moderation:bulk"), {"ids": [open_one.pk], "action": "assign"}, follow=True)
    assert "Choose who to assign" in response.content.decode()


def test_bulk_skips_a_report_a_colleague_changed_after_the_queue_was_loaded(mod_client, moderator):
    import re

    from moderation.services import report_review

    changed, unchanged = ReportFactory(), ReportFactory()
    page = mod_client.get(QUEUE).content.decode()
    [seen_at] = re.findall(r'name="seen_at" value="([^"]+)"', page)
    colleague = UserFactory(username="kai_mod", role="moderator")
    report_review(actor=colleague, report_id=changed.pk, status="resolved")  # while we were choosing
    response = mod_client.post(
        reverse("moderation:bulk"),
        {"ids": [changed.pk, unchanged.pk], "action": "dismissed", "query": "", "seen_at": seen_at},
        follow=True,
    )
    text = response.content.decode()
    assert "Dismissed: 1 report" in text and f"Report {changed.short_id} changed after you loaded the queue" in text
    assert Report.objects.get(pk=changed.pk).status == "resolved"  # kai's decision stands
    assert Report.objects.get(pk=unchanged.pk).status == "dismissed"
    # Reloaded, the page carries a later time, and the colleague's report can be acted on again.
    page = mod_client.get(QUEUE + "?status=all").content.decode()
    [seen_again] = re.findall(r'name="seen_at" value="([^"]+)"', page)
    assert seen_again > seen_at


def _next(client, query: str, **kwargs):
    """POST "Next report" as its forms do: the view in the action's query string."""
    return client.post(reverse("moderation:next") + (f"?{query}" if query else ""), **kwargs)


def test_next_report_assigns_the_most_urgent_in_my_view(mod_client, moderator):
    urgent_spam = ReportFactory(category=Category.SPAM, due_at=timezone.now() + timedelta(hours=1))
    urgent_threat = ReportFactory(category=Category.VIOLENCE, due_at=timezone.now() + timedelta(hours=2))
    # Within a filtered view, "next" stays within it, and the report it opens carries the view.
    response = _next(mod_client, "category=violence&assignee=me")
    assert response["Location"] == reverse("moderation:report", args=[urgent_threat.pk]) + (
        "?category=violence&assignee=me"
    )
    response = _next(mod_client, "")
    assert response["Location"] == reverse("moderation:report", args=[urgent_spam.pk])
    assert set(Report.objects.values_list("assignee", flat=True)) == {moderator.pk}
    response = _next(mod_client, "category=fraud", follow=True)
    assert "No unassigned open report in this view (Category: Fraud or scam)" in response.content.decode()
    assert mod_client.get(reverse("moderation:next")).status_code == 405


def test_next_report_within_a_search_and_a_safe_way_back(mod_client, moderator):
    wanted = ReportFactory(target=TargetFactory(owner=UserFactory(username="serial_spammer")))
    ReportFactory(due_at=timezone.now() - timedelta(hours=1))  # more urgent, but not in the search
    response = _next(mod_client, "q=@serial_spammer")
    assert response["Location"] == reverse("moderation:report", args=[wanted.pk]) + "?q=%40serial_spammer"
    response = _next(mod_client, "q=nothing-matches%0D%0AX-Evil:%201&evil=%0D%0A")
    assert response.status_code == 302 and "\n" not in response["Location"]
    assert response["Location"] == QUEUE + "?q=nothing-matches%0D%0AX-Evil%3A+1"


def test_compliance_default_view_is_escalated_with_a_way_out(client, compliance):
    client.force_login(compliance)
    escalated, plain = ReportFactory(escalated=True), ReportFactory()
    response = client.get(QUEUE)
    assert row_ids(response) == [str(escalated.pk)]
    assert "Your default view" in response.content.decode() and 'href="?status=open"' in response.content.decode()
    assert set(row_ids(client.get(QUEUE, {"status": "open"}))) == {str(escalated.pk), str(plain.pk)}


def test_a_plain_user_gets_403_and_anonymous_the_login(client, user):
    assert client.get(QUEUE)["Location"].startswith(reverse("login"))
    client.force_login(user)
    assert client.get(QUEUE).status_code == 403
    assert client.post(reverse("moderation:next")).status_code == 403
    assert client.post(reverse("moderation:bulk"), {"ids": [], "action": "resolved"}).status_code == 403


def _fill(count: int) -> None:
    """Worst case for queries: every row with its own reporter, owner, target and assignee."""
    staff = [UserFactory(role="moderator") for _ in range(3)]
    for n in range(count):
        ReportFactory(assignee=staff[n % 3] if n % 2 else None, escalated=n % 5 == 0)


@pytest.mark.parametrize("grouped", [False, True])
def test_queue_costs_the_same_queries_at_25_and_100_rows(client, moderator, grouped, django_assert_max_num_queries):
    _fill(100)
    client.force_login(moderator)
    counts = {}
    for size in (25, 100):
        params = {"per_page": str(size), "q": "insulting", **({"group": "1"} if grouped else {})}
        client.get(QUEUE, params)  # warm the session
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            response = client.get(QUEUE, params)
        assert len(response.context["page"].object_list) == size
        counts[size] = len(queries)
    assert counts[25] == counts[100]
    with django_assert_max_num_queries(10):
        client.get(QUEUE, {"per_page": "100", **({"group": "1"} if grouped else {})})


def test_query_string_survives_as_a_shareable_link(mod_client):
    ReportFactory(category=Category.FRAUD)
    response = mod_client.get(QUEUE, {"category": "fraud", "sort": "newest", "per_page": "50"})
    query = parse_qs(response.context["query"])
    assert query == {"status": ["open"], "category": ["fraud"], "sort": ["newest"], "per_page": ["50"]}
    assert urlsplit(reverse("moderation:queue") + "?" + response.context["query"]).path == QUEUE


def test_the_staff_list_is_cached_and_forgotten_when_roles_change(django_assert_num_queries):
    """Every queue and report page shows the staff (filters, assign form): one query a minute, and
    a new moderator, a renamed or a removed one shows at once (on this server)."""
    from django.contrib.auth.models import Group

    staff_members = selectors.staff_members
    first = UserFactory(username="mod_a", role="moderator")
    assert [member.username for member in staff_members()] == ["mod_a"]
    with django_assert_num_queries(0):
        assert [member.pk for member in staff_members()] == [first.pk]
    second = UserFactory(username="mod_b", role="moderator")
    assert [member.username for member in staff_members()] == ["mod_a", "mod_b"]
    first.groups.clear()
    assert [member.username for member in staff_members()] == ["mod_b"]
    second.username = "mod_c"
    second.save()
    assert [member.username for member in staff_members()] == ["mod_c"]
    Group.objects.get(name="moderator").user_set.add(first)
    assert [member.username for member in staff_members()] == ["mod_a", "mod_c"]
