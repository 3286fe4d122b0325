"""The REST API, mounted at /api/v1/ by config/urls.py; each app serves its part from app/api/.

The schema (/api/schema/) and its docs page (/api/docs/) are public: they describe the API and
hold no tenant data.
"""

from django.urls import include, path, re_path
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView
from rest_framework.exceptions import NotFound

from api_tokens.api import TenantAPIView
from config.api_docs import api_docs


@extend_schema(exclude=True)
class UnknownApi(TenantAPIView):
    """Any other /api/v1/ path: a 404 in the API's error shape, not an HTML page."""

    def http_method_not_allowed(self, request, *args, **kwargs):
        raise NotFound("There is no such API endpoint. See /api/docs/.")


v1 = [
    path("", include("messaging.api.urls")),
    path("", include("billing_events.api.urls")),
    re_path(r"^.*$", UnknownApi.as_view()),
]

urlpatterns = [
    path("api/v1/", include((v1, "api"))),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", api_docs, name="api-docs"),
]
