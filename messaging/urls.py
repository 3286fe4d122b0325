"""Mounted at the root by config/urls.py: the send log under /messaging/, the callback under
/webhooks/ (a public URL, docs/architecture.md "Public URLs")."""

from django.urls import include, path

from messaging import views

app_urls = (
    [
        path("", views.message_list, name="message-list"),
        path("<int:message_id>/", views.message_detail, name="message-detail"),
        path("<int:message_id>/resend/", views.message_resend, name="message-resend"),
        path(
            "<int:message_id>/send-missed/",
            views.message_send_missed,
            name="message-send-missed",
        ),
        path("resend/", views.messages_resend_bulk, name="message-resend-bulk"),
        path("templates/", views.template_list, name="template-list"),
        path("templates/new/", views.template_create, name="template-create"),
        path("templates/<int:template_id>/", views.template_edit, name="template-edit"),
        path("templates/preview/", views.template_preview, name="template-preview"),
        path(
            "contacts-needing-phone/", views.contacts_needing_phone, name="contacts-needing-phone"
        ),
        path(
            "contacts-needing-phone.csv",
            views.contacts_needing_phone_csv,
            name="contacts-needing-phone-csv",
        ),
        path("settings/", views.messaging_settings, name="settings"),
        path("settings/test/", views.messaging_test, name="settings-test"),
        path("settings/channels/", views.channel_defaults, name="settings-channels"),
        path("contacts/", views.contact_list, name="contact-list"),
        path("inbox/", views.inbox, name="inbox"),
    ],
    "messaging",
)

urlpatterns = [
    path("messaging/", include(app_urls)),
    path("webhooks/twilio/status/<slug:token>/", views.twilio_status, name="twilio-status"),
]
