from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from config.i18n import set_language
from moderation.dashboard import dashboard
from moderation.enforcement.signin import SanctionAwareAuthenticationForm
from reports import views as report_views

urlpatterns = [
    path("", report_views.home, name="home"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(
            redirect_authenticated_user=True, authentication_form=SanctionAwareAuthenticationForm
        ),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # The language switcher on every page (Django's set_language, and the account's language).
    path("i18n/setlang/", set_language, name="set_language"),
    path("", include("reports.urls")),
    path("moderation/dashboard/", dashboard, name="dashboard"),
    path("", include("moderation.enforcement.urls")),
    path("moderation/stories/", include("moderation.stories.urls")),
    path("moderation/", include("moderation.urls")),
    path("audit/", include("audit.urls")),
    path("api/", include("config.api_urls")),
    path("django-admin/", admin.site.urls),
]

# A database outage met in a middleware (session, sanction check) is a 503 too, not a 500.
handler500 = "config.middleware.server_error"
if settings.BENCHMARKS:
    # The filing benchmark's baseline view (bench_filing starts its server with BENCHMARKS=1).
    urlpatterns.append(path("bench/", include("benchmarks.urls")))
