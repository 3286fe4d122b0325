from django.contrib import admin
from django.urls import include, path

from config.health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("connections.urls")),
    path("", include("connections.urls_team")),
    path("", include("billing_events.urls")),
    path("", include("messaging.urls")),
    path("", include("dashboard.urls")),
]
