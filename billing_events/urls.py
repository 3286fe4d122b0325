from django.urls import path

from billing_events import views

urlpatterns = [
    path("webhooks/xero/", views.xero_webhook, name="xero-webhook"),
    path("pay/<slug:token>/", views.invoice_pay, name="invoice-pay"),
]
