from django.urls import path

from billing_events import views

urlpatterns = [
    path("webhooks/xero/", views.xero_webhook, name="xero-webhook"),
    # Customers' texts: a public URL (docs/architecture.md "Public URLs"), here because answering
    # "PAID INV-0142" needs the invoice.
    path("webhooks/twilio/inbound/", views.twilio_inbound, name="twilio-inbound"),
    path("pay/<slug:token>/", views.invoice_pay, name="invoice-pay"),
    # Beside the template editor it serves; here because it needs the reminder schedule too.
    path("messaging/templates/why/", views.template_why, name="template-why"),
    path("reminders/", views.reminders, name="reminders"),
    path("reminders/pauses/", views.reminder_pause_new, name="reminder-pause-new"),
    path(
        "reminders/pauses/<int:pause_id>/delete/",
        views.reminder_pause_delete,
        name="reminder-pause-delete",
    ),
]
