from django.urls import path

from connections import views

urlpatterns = [
    path("", views.home, name="home"),
    path("tenants/<slug:slug>/switch/", views.switch_tenant, name="switch-tenant"),
    path("connections/", views.xero_connections, name="xero-connections"),
    path("connections/xero/connect/", views.xero_connect, name="xero-connect"),
    path("connections/xero/callback/", views.xero_callback, name="xero-callback"),
    path("connections/xero/choose/", views.xero_choose, name="xero-choose"),
    path(
        "connections/<int:xero_connection_id>/names/",
        views.xero_names,
        name="xero-names",
    ),
    path(
        "connections/<int:xero_connection_id>/disconnect/",
        views.xero_disconnect,
        name="xero-disconnect",
    ),
]
