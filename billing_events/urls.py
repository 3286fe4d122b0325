from django.urls import path

from billing_events import views

urlpatterns = [
    path("webhooks/xero/", views.xero_webhook, name="xero-webhook"),
    path("pay/<slug:token>/", views.invoice_pay, name="invoice-pay"),
    path("reminders/", views.reminders, name="reminders"),
    path("reminders/pauses/", views.reminder_pause_new, name="reminder-pause-new"),
    path(
        "reminders/pauses/<int:pause_id>/delete/",
        views.reminder_pause_delete,
        name="reminder-pause-delete",
    ),
]
