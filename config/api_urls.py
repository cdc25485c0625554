"""JSON API routes (the published contract: README.md, "JSON API"). Every path also accepts a trailing slash.

Each route is registered twice, as the contract spells it and with a trailing slash; the schema
lists the contract's spelling only (see `without_slash_duplicates`).
"""

from __future__ import annotations

from django.urls import URLPattern, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from moderation import api as moderation_api
from moderation.enforcement import api as enforcement_api
from moderation.hashbank import api as hashbank_api
from moderation.signals import api as signals_api
from moderation.stories import api as stories_api
from reports import api as reports_api


def both(route: str, view, name: str) -> list[URLPattern]:
    """The route without and with a trailing slash (no redirect: a POST must not be bounced)."""
    return [path(route, view, name=name), path(f"{route}/", view)]


def without_slash_duplicates(endpoints: list[tuple], **kwargs) -> list[tuple]:
    """drf-spectacular preprocessing hook: document "/api/reports", not also "/api/reports/"."""
    paths = {endpoint[0] for endpoint in endpoints}
    return [endpoint for endpoint in endpoints if not (endpoint[0].endswith("/") and endpoint[0][:-1] in paths)]


class DocsView(SpectacularSwaggerSplitView):
    """Swagger UI from drf-spectacular-sidecar's files (served by us, no CDN); its start-up script
    is a separate URL and the page has no inline style, so the Content-Security-Policy holds."""

    template_name = "api/swagger_ui.html"
    title = "Report Desk API"


app_name = "api"

urlpatterns = [
    *both("reports", reports_api.ReportFileView.as_view(), "reports"),
    *both("reports/mine", reports_api.MyReportsView.as_view(), "reports-mine"),
    *both("reports/<str:reportId>", reports_api.MyReportView.as_view(), "report"),
    *both("targets", reports_api.TargetRegisterView.as_view(), "targets"),
    *both("hashes/check", hashbank_api.HashCheckView.as_view(), "hashes-check"),
    *both("stories", stories_api.StorySubmitView.as_view(), "stories"),
    *both("stories/<str:storyId>", stories_api.StoryStatusView.as_view(), "story"),
    *both("signals", signals_api.SignalBatchView.as_view(), "signals"),
    *both("admin/reports", moderation_api.AdminReportListView.as_view(), "admin-reports"),
    *both("admin/reports/<str:reportId>", moderation_api.AdminReportDetailView.as_view(), "admin-report"),
    *both(
        "admin/reports/<str:reportId>/review",
        moderation_api.AdminReportReviewView.as_view(),
        "admin-report-review",
    ),
    *both(
        "accounts/<str:accountId>/restrictions",
        enforcement_api.AccountRestrictionsView.as_view(),
        "account-restrictions",
    ),
    *both("schema", SpectacularAPIView.as_view(), "schema"),
    *both("docs", DocsView.as_view(url_name="api:schema"), "docs"),
]
