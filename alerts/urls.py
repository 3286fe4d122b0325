from django.urls import path

from alerts import views

urlpatterns = [
    path("settings/alerts/", views.alert_settings, name="alert-settings"),
]
