from django.contrib import admin, messages

from billing_events.models import (
    OrganisationSync,
    ReminderPause,
    ReminderSent,
    ReminderSettings,
    ReminderStage,
    SweepRun,
    XeroDelivery,
    XeroEvent,
)
from billing_events.services import events_replay
from connections.admin_records import RecordAdmin, RecordInline


class XeroEventInline(RecordInline):
    model = XeroEvent
    fields = ["event_category", "event_type", "resource_id", "xero_tenant_id", "status"]
    show_change_link = True


@admin.register(XeroDelivery)
class XeroDeliveryAdmin(RecordAdmin):
    list_display = ["id", "received_at", "first_event_sequence", "last_event_sequence"]
    readonly_fields = ["received_at", "first_event_sequence", "last_event_sequence", "body"]
    exclude = ["raw_body"]
    inlines = [XeroEventInline]
    show_full_result_count = False

    @admin.display(description="Body as received")
    def body(self, delivery):
        return bytes(delivery.raw_body).decode("utf-8", errors="replace")


@admin.register(XeroEvent)
class XeroEventAdmin(RecordAdmin):
    list_display = [
        "id",
        "received_at",
        "tenant",
        "event_category",
        "event_type",
        "resource_id",
        "status",
        "attempts",
        "next_attempt_at",
        "last_error",
    ]
    list_filter = ["status", "event_category", "tenant"]
    search_fields = ["resource_id", "xero_tenant_id"]
    list_select_related = ["tenant"]
    actions = ["replay"]
    show_full_result_count = False

    @admin.action(description="Replay selected events")
    def replay(self, request, queryset):
        count = events_replay(events=queryset)
        self.message_user(
            request,
            f"{count} event(s) put back in the inbox. Messages already sent are not sent again.",
            messages.SUCCESS,
        )


@admin.register(OrganisationSync)
class OrganisationSyncAdmin(admin.ModelAdmin):
    list_display = [
        "xero_tenant_id",
        "tenant",
        "poll_interval_minutes",
        "imported_at",
        "last_polled_at",
        "next_poll_at",
        "attempts",
        "last_error",
        "segments_synced_at",
    ]
    list_filter = ["tenant"]
    list_select_related = ["tenant"]


# --- reminders -------------------------------------------------------------------------------


@admin.register(ReminderSettings)
class ReminderSettingsAdmin(admin.ModelAdmin):
    list_display = ["tenant", "send_time", "skip_missed", "reply_pause_days"]
    list_filter = ["tenant", "skip_missed"]


@admin.register(ReminderStage)
class ReminderStageAdmin(admin.ModelAdmin):
    list_display = ["tenant", "label", "key", "offset_days", "segment", "alert_team", "is_active"]
    list_filter = ["tenant", "is_active", "alert_team"]

    @admin.display(description="Applies to")
    def segment(self, stage):
        return stage.segment.label


@admin.register(ReminderPause)
class ReminderPauseAdmin(admin.ModelAdmin):
    list_display = ["tenant", "label", "contact_id", "invoice_id", "resume_on", "reason"]
    list_filter = ["tenant", "reason"]
    search_fields = ["label", "contact_id", "invoice_id"]


@admin.register(ReminderSent)
class ReminderSentAdmin(admin.ModelAdmin):
    list_display = ["tenant", "invoice_id", "occurrence", "scheduled_on", "sent_on"]
    list_filter = ["tenant", "stage_key", "sent_on"]
    search_fields = ["invoice_id"]
    readonly_fields = [f.name for f in ReminderSent._meta.fields]
    show_full_result_count = False


@admin.register(SweepRun)
class SweepRunAdmin(admin.ModelAdmin):
    list_display = ["tenant", "xero_tenant_id", "local_date", "status", "attempts",
                    "reminders_sent", "last_error"]  # fmt: skip
    list_filter = ["tenant", "status"]
    readonly_fields = [f.name for f in SweepRun._meta.fields]
    show_full_result_count = False
