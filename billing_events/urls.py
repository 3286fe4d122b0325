from django.urls import path

from billing_events import views, views_inbox

urlpatterns = [
    path("webhooks/xero/", views.xero_webhook, name="xero-webhook"),
    # Customers' texts: a public URL (docs/architecture.md "Public URLs"), here because answering
    # "PAID INV-0142" needs the invoice.
    path("webhooks/twilio/inbound/", views.twilio_inbound, name="twilio-inbound"),
    path("pay/<slug:token>/", views.invoice_pay, name="invoice-pay"),
    # Beside the template editor it serves; here because it needs the reminder schedule too.
    path("messaging/templates/why/", views.template_why, name="template-why"),
    path("reminders/", views.reminders, name="reminders"),
    path("reminders/steps/new/", views.reminder_step_new, name="reminder-step-new"),
    path("reminders/steps/<int:step_id>/", views.reminder_step, name="reminder-step"),
    path(
        "reminders/steps/<int:step_id>/delete/",
        views.reminder_step_remove,
        name="reminder-step-delete",
    ),
    path(
        "reminders/steps/<int:step_id>/test/",
        views.reminder_step_send_test,
        name="reminder-step-test",
    ),
    path("reminders/my-mobile/", views.member_mobile, name="member-mobile"),
    path("reminders/pauses/", views.reminder_pause_new, name="reminder-pause-new"),
    path(
        "reminders/pauses/<int:pause_id>/delete/",
        views.reminder_pause_delete,
        name="reminder-pause-delete",
    ),
    # One customer's text, beside the inbox it is listed in; here because acting on it needs
    # the customer's invoices and their promises to pay.
    path("messaging/inbox/<int:inbound_id>/", views_inbox.inbound_detail, name="inbound-detail"),
    path(
        "messaging/inbox/<int:inbound_id>/answer/",
        views_inbox.inbound_answer,
        name="inbound-answer",
    ),
    path(
        "messaging/inbox/<int:inbound_id>/promise/",
        views_inbox.inbound_promise,
        name="inbound-promise",
    ),
    path(
        "messaging/inbox/<int:inbound_id>/assign/",
        views_inbox.inbound_assign,
        name="inbound-assign",
    ),
    path(
        "messaging/inbox/<int:inbound_id>/handle/",
        views_inbox.inbound_handle,
        name="inbound-handle",
    ),
]
