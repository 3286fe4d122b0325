from django.urls import path

from connections.api import status

urlpatterns = [
    path("connections/", status.ConnectionsStatusApi.as_view(), name="connections"),
]
