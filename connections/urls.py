from django.urls import path

from connections import views

urlpatterns = [
    path("", views.home, name="home"),
    path("tenants/<slug:slug>/switch/", views.switch_tenant, name="switch-tenant"),
]
