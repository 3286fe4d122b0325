from django.urls import path

from messaging.api import contacts, messages, status, templates

urlpatterns = [
    path("messages/", messages.MessageListApi.as_view(), name="messages"),
    path("messages/<int:message_id>/", messages.MessageDetailApi.as_view(), name="message"),
    path(
        "messages/<int:message_id>/resend/",
        messages.MessageResendApi.as_view(),
        name="message-resend",
    ),
    path("templates/", templates.TemplateListApi.as_view(), name="templates"),
    path("templates/<int:template_id>/", templates.TemplateDetailApi.as_view(), name="template"),
    path("templates/preview/", templates.TemplatePreviewApi.as_view(), name="template-preview"),
    path(
        "contacts/needing-attention/",
        contacts.ContactsNeedingAttentionApi.as_view(),
        name="contacts-needing-attention",
    ),
    # What is connected and working: Xero organisations (connections) and channels (messaging).
    path("connections/", status.ConnectionsStatusApi.as_view(), name="connections"),
]
