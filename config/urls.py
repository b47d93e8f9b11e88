"""URL configuration: the citizen app, the admin, the versioned API, its schema and docs,
health checks."""

from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from common import errors, health
from config import metrics

api_v1 = [
    path("", include("wallet.api.urls")),
    path("", include("wallet.payments.api.urls")),
    path("", include("scoring.api.urls")),
    path("", include("merchants.api.urls")),
    path("", include("merchants.perks.api.urls")),
    path("", include("merchants.bills.api.urls")),
    path("", include("merchants.privacy.api.urls")),
    path("", include("merchants.console.api_urls")),
    # The monitoring attributes a citizen volunteers for the fairness audit.
    path("", include("governance.api.urls")),
]

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="client:shell"), name="home"),
    path("app/", include("client.urls")),
    path("sandbox/", include("wallet.payments.urls")),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics.metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("merchant/", include("merchants.console.urls")),
    # Public, no login: the scorecard, the facts, perks' rules, the fairness audit.
    path("transparency", include("governance.urls")),
    path(
        "transparency/",
        RedirectView.as_view(pattern_name="governance:transparency", permanent=True),
    ),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include((api_v1, "api"), namespace="v1")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view loads its start-up script from a URL: no inline script, so the
    # docs run under the Content Security Policy (common.middleware).
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(
            url_name="schema", template_name="common/swagger_ui.html"
        ),
        name="swagger-ui",
    ),
    # Last: any other path under /api/ is a problem-details 404, with DEBUG=1 too.
    re_path(r"^api/", errors.api_not_found),
]

handler404 = "common.errors.page_not_found"
handler500 = "common.errors.server_error"
