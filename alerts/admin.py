from django.contrib import admin

from alerts.models import Alert, AlertSettings, WeeklySummary


class OpenFilter(admin.SimpleListFilter):
    """Open alerts by default: what operators come here for."""

    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("open", "Open"), ("resolved", "Resolved"), ("all", "All")]

    def choices(self, changelist):
        # Without Django's own "All" entry: ours is explicit, since no choice means "open".
        for value, label in self.lookup_choices:
            yield {
                "selected": (self.value() or "open") == value,
                "query_string": changelist.get_query_string({self.parameter_name: value}),
                "display": label,
            }

    def queryset(self, request, queryset):
        state = self.value() or "open"
        if state == "open":
            return queryset.filter(resolved_at__isnull=True)
        if state == "resolved":
            return queryset.filter(resolved_at__isnull=False)
        return queryset


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ["title", "kind", "tenant", "opened_at", "last_seen_at", "resolved_at",
                    "notified_at"]  # fmt: skip
    list_filter = [OpenFilter, "kind", "tenant"]
    search_fields = ["title", "subject", "tenant__name"]
    list_select_related = ["tenant"]
    date_hierarchy = "opened_at"
    readonly_fields = [field.name for field in Alert._meta.fields]

    def has_add_permission(self, request):
        return False  # alerts are raised by alerts_check, from the state of things


@admin.register(AlertSettings)
class AlertSettingsAdmin(admin.ModelAdmin):
    list_display = ["tenant", "webhook_silence_hours", "failure_percent", "sender_error_count",
                    "api_budget_percent", "weekly_summary", "updated_at"]  # fmt: skip
    search_fields = ["tenant__name"]
    list_select_related = ["tenant"]


@admin.register(WeeklySummary)
class WeeklySummaryAdmin(admin.ModelAdmin):
    list_display = ["tenant", "week_start", "sent_at", "last_error"]
    list_filter = ["week_start"]
    search_fields = ["tenant__name"]
    list_select_related = ["tenant"]
    readonly_fields = ["tenant", "week_start", "sent_at", "last_error", "created_at"]
