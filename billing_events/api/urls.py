from django.urls import path

from billing_events.api import preview

urlpatterns = [
    path("templates/preview/", preview.TemplatePreviewApi.as_view(), name="template-preview"),
]
