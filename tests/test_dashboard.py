"""Dashboard figures against hand-computed fixtures (counts exact, percentiles within the rollups'
stated bound), on SQLite and PostgreSQL; the SVG charts well-formed; permissions and a fixed query
count. The rollups against the old exact computation on a seeded database: test_dashboard_rollups.py."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from moderation import metrics, rollups
from moderation.enforcement.models import Sanction
from reports.categories import Category
from reports.models import Report
from tests.factories import ReportFactory
from tests.html import attr, elements, one, text
from tests.test_enforcement import decide

pytestmark = pytest.mark.django_db
BOUND = rollups.PERCENTILE_RELATIVE_ERROR


@pytest.fixture
def fixture_reports(moderator):
    """Four critical reports received yesterday, decided after 2, 4, 10 and 30 hours (deadline 24 h);
    one high report dismissed after 48 h; one critical still open and overdue."""
    now = timezone.now()
    received = now - timedelta(days=2)
    made = []
    for hours in (2, 4, 10, 30):
        made.append(
            ReportFactory(
                category=Category.VIOLENCE,
                status="resolved",
                reviewed_by=moderator,
                first_reviewed_at=received + timedelta(hours=hours / 2),
                closed_at=received + timedelta(hours=hours),
                due_at=received + timedelta(hours=24),
            )
        )
    made.append(
        ReportFactory(
            category=Category.HARASSMENT,
            status="dismissed",
            reviewed_by=moderator,
            first_reviewed_at=received + timedelta(hours=48),
            closed_at=received + timedelta(hours=48),
            due_at=received + timedelta(days=7),
        )
    )
    made.append(ReportFactory(category=Category.VIOLENCE, due_at=now - timedelta(hours=1)))
    Report.objects.filter(pk__in=[r.pk for r in made]).update(created_at=received)
    return made


def test_time_to_decision_median_p90_and_share_in_time(fixture_reports):
    summary = metrics.received_figures(metrics.Period.last(7)).summary
    row = metrics.timing_table(summary, end_field="closed_at")["critical"]
    assert row["count"] == 4
    assert row["median_hours"] == pytest.approx(7.0, rel=BOUND)  # between 4 and 10
    assert row["p90_hours"] == pytest.approx(10 + (30 - 10) * 0.7, rel=BOUND)  # percentile_cont, rank 2.7
    assert row["within_deadline"] == 3 and row["share_within_deadline"] == pytest.approx(0.75)
    first = metrics.timing_table(summary, end_field="first_reviewed_at")["critical"]
    assert first["median_hours"] == pytest.approx(3.5, rel=BOUND)


def test_totals_backlog_and_throughput(fixture_reports, moderator):
    figures = metrics.received_figures(metrics.Period.last(7))
    totals = metrics.decision_totals(figures.summary)
    assert totals == {"received": 6, "resolved": 4, "dismissed": 1, "open": 1, "dismissal_rate": pytest.approx(0.2)}
    backlog = metrics.open_backlog()
    assert backlog["critical"]["overdue"] == 1 and backlog["critical"]["age_1_3d"] == 1
    assert figures.throughput == [{"moderator": moderator.username, "closed": 5, "resolved": 4, "dismissed": 1}]


def test_per_day_by_category_and_actions(fixture_reports, moderator):
    per_day = metrics.received_figures(metrics.Period.last(7)).per_day
    day = (timezone.now() - timedelta(days=2)).date()
    assert per_day[day] == {Category.VIOLENCE: 5, Category.HARASSMENT: 1}
    decide(moderator, ReportFactory(), "remove_content")
    assert metrics.actions_by_kind(metrics.Period.last(7)) == {"remove_content": 1}
    assert Sanction.objects.count() == 1


def test_page_draws_well_formed_svg_with_numbers_beneath(
    client, moderator, fixture_reports, django_assert_max_num_queries
):
    client.force_login(moderator)
    # Fixed whatever the reports and the period (tests/test_dashboard_rollups.py checks it with 120).
    with django_assert_max_num_queries(22):
        response = client.get(reverse("dashboard"), {"period": "7"})
    page = response.content.decode()
    for svg in re.findall(r"<svg class=\"chart\".*?</svg>", page, flags=re.S):
        assert ET.fromstring(svg).tag.endswith("svg")  # raises if not well-formed XML
    received, actions = elements(page, "svg", class_="chart")
    assert attr(received, "aria-label") == "Reports received per day by category"
    day = f"{(timezone.now() - timedelta(days=2)).date():%d %b}"
    # One bar segment per category on that day, each naming its day, category and count.
    assert sorted(text(one(rect, "title")) for rect in elements(received, "rect")) == [
        f"{day}: Harassment or bullying 1",
        f"{day}: Violence or threats 5",
    ]
    assert attr(actions, "aria-label") == "Actions taken by kind" and elements(actions, "rect")
    assert "Violence or threats" in page
    # The critical row's decision median / p90 (exactly 7 and 24 hours), shown to one decimal.
    cells = re.findall(r"<td>(\d+\.\d) / (\d+\.\d)</td>", page)
    median, p90 = (float(value) for value in cells[1])
    assert abs(median - 7.0) <= 7.0 * BOUND + 0.05 and abs(p90 - 24.0) <= 24.0 * BOUND + 0.05
    assert "within 2% of the exact value" in page  # the bound, stated where the figures are


def test_chart_templates_draw_the_geometry_and_show_labels_as_text():
    """The SVG comes from templates (the Jinja2 macro stacked_bars, moderation/_chart_*.html);
    charts.py gives only numbers and the values each shape stands for."""
    from datetime import date

    from django.template import engines
    from django.template.loader import render_to_string

    from moderation import charts

    hostile = '<script>alert("x")</script>'
    stacked = charts.stacked_bars(days=[date(2026, 3, 1), date(2026, 3, 2)], series=[(hostile, [3, 1])], title=hostile)
    macros = engines["jinja2"].env.get_template("moderation/_dashboard.html").module
    svg = one(str(macros.stacked_bars(stacked)), "svg")
    assert (
        attr(svg, "aria-label") == hostile
        and text(elements(svg, "title")[0]) == hostile
        and not elements(svg, "script")
    )
    bars = elements(svg, "rect")
    assert [text(one(bar, "title")) for bar in bars] == [f"01 Mar: {hostile} 3", f"02 Mar: {hostile} 1"]
    # The grid reaches the nice maximum (4 for 3), the taller bar is three times the shorter.
    assert [text(label) for label in elements(svg, "text")][:5] == ["0", "1", "2", "3", "4"]
    assert float(attr(bars[0], "height")) == pytest.approx(3 * float(attr(bars[1], "height")), abs=0.2)

    horizontal = charts.horizontal_bars(items=[(hostile, 2), ("Warning", 4)], title="Actions")
    svg = one(render_to_string("moderation/_chart_horizontal_bars.html", {"chart": horizontal}), "svg")
    assert [text(label) for label in elements(svg, "text")] == [hostile, "2", "Warning", "4"]
    widths = [float(attr(bar, "width")) for bar in elements(svg, "rect")]
    assert widths[1] == pytest.approx(2 * widths[0])


def test_custom_dates_and_bad_dates(client, compliance):
    client.force_login(compliance)
    ok = client.get(reverse("dashboard"), {"period": "custom", "start": "2026-01-01", "end": "2026-01-31"})
    assert ok.status_code == 200 and ok.context["period"].start.isoformat() == "2026-01-01"
    bad = client.get(reverse("dashboard"), {"period": "custom", "start": "2026-02-01", "end": "2026-01-01"})
    assert "The start must be before the end." in bad.content.decode()


def test_permissions(client, user):
    assert client.get(reverse("dashboard")).status_code == 302
    client.force_login(user)
    assert client.get(reverse("dashboard")).status_code == 403
