from django.contrib import admin, messages

from connections.admin_records import RecordAdmin, RecordInline
from messaging import services
from messaging.models import (
    ContactPreference,
    InboundMessage,
    Message,
    MessageStatusChange,
    MessageTemplate,
    OptOut,
)


@admin.register(MessageTemplate)
class MessageTemplateAdmin(admin.ModelAdmin):
    list_display = [
        "tenant",
        "kind",
        "channel",
        "segment",
        "reminder_stage",
        "language",
        "fallback_to_email",
        "is_active",
    ]
    list_filter = ["tenant", "kind", "channel", "language", "fallback_to_email", "is_active"]
    search_fields = ["tenant__name", "contact_group_name", "tracking_label", "country", "body"]

    @admin.display(description="Applies to")
    def segment(self, template):
        return template.segment.label


class MessageStatusChangeInline(RecordInline):
    model = MessageStatusChange
    fields = ["created_at", "from_status", "to_status", "provider_status", "error_code", "note"]


@admin.register(Message)
class MessageAdmin(RecordAdmin):
    list_display = ["created_at", "tenant", "kind", "channel", "contact_name", "status",
                    "error_code", "attempts"]  # fmt: skip
    list_filter = ["tenant", "status", "channel", "kind", "is_ambiguous"]
    search_fields = ["dedup_key", "contact_name", "recipient", "provider_id"]
    list_select_related = ["tenant"]
    inlines = [MessageStatusChangeInline]
    actions = ["resend"]
    show_full_result_count = False  # never count the whole send log

    @admin.action(description="Resend the selected failed or undelivered messages")
    def resend(self, request, queryset):
        report = services.messages_resend_bulk(messages=queryset, by_user=request.user)
        if report.queued:
            self.message_user(request, report.queued_said(listed=50), messages.SUCCESS)
        if report.skipped:
            self.message_user(request, report.skipped_said(listed=50), messages.WARNING)


@admin.register(MessageStatusChange)
class MessageStatusChangeAdmin(RecordAdmin):
    list_display = ["created_at", "message", "from_status", "to_status", "provider_status"]
    list_filter = ["message__tenant", "to_status"]
    raw_id_fields = ["message"]


@admin.register(OptOut)
class OptOutAdmin(admin.ModelAdmin):
    list_display = ["phone", "tenant", "source", "created_at"]
    list_filter = ["tenant", "source"]
    search_fields = ["phone"]


@admin.register(InboundMessage)
class InboundMessageAdmin(RecordAdmin):
    list_display = ["received_at", "tenant", "channel", "intent", "contact_names", "body"]
    list_filter = ["tenant", "intent", "channel"]
    search_fields = ["message_sid", "contact_names", "body", "invoice_number"]
    list_select_related = ["tenant"]
    show_full_result_count = False


@admin.register(ContactPreference)
class ContactPreferenceAdmin(admin.ModelAdmin):
    list_display = ["contact_name", "tenant", "channels", "language", "updated_by", "updated_at"]
    list_filter = ["tenant", "language"]
    search_fields = ["contact_name", "contact_id"]
    list_select_related = ["tenant", "updated_by"]
    raw_id_fields = ["updated_by"]
