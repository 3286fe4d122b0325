from django.conf import settings
from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.utils.functional import lazy
from django.views.generic import RedirectView

from config.health import healthz
from connections.views_login import ThrottledLoginView

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    # Browsers ask for /favicon.ico whatever the page links to. Lazy and not permanent: in
    # production the static file's name carries a hash of its content, read from the manifest.
    path("favicon.ico", RedirectView.as_view(url=lazy(static, str)("favicon.ico")), name="favicon"),
    path("admin/", admin.site.urls),
    path("accounts/login/", ThrottledLoginView.as_view(), name="login"),  # before auth's own
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("connections.urls")),
    path("", include("connections.urls_team")),
    path("", include("billing_events.urls")),
    path("", include("workspace.urls")),  # before messaging: it answers an old messaging URL
    path("", include("messaging.urls")),
    path("", include("dashboard.urls")),
    path("", include("alerts.urls")),
    path("", include("api_tokens.urls")),
    path("", include("config.api_urls")),
]

# The offline Xero / Twilio / SendGrid stand-ins; settings refuse them in production.
if settings.DUNWELL_SANDBOX:
    urlpatterns += [path("sandbox/", include("sandbox.urls"))]
