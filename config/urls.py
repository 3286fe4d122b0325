from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from config.health import healthz
from connections.views_login import ThrottledLoginView

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/login/", ThrottledLoginView.as_view(), name="login"),  # before auth's own
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("connections.urls")),
    path("", include("connections.urls_team")),
    path("", include("billing_events.urls")),
    path("", include("messaging.urls")),
    path("", include("dashboard.urls")),
    path("", include("alerts.urls")),
    path("", include("api_tokens.urls")),
    path("", include("config.api_urls")),
]

# The offline Xero / Twilio / SendGrid stand-ins; settings refuse them in production.
if settings.DUNWELL_SANDBOX:
    urlpatterns += [path("sandbox/", include("sandbox.urls"))]
