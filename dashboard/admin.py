from django.contrib import admin

from dashboard.models import XeroInvoiceReminders


@admin.register(XeroInvoiceReminders)
class XeroInvoiceRemindersAdmin(admin.ModelAdmin):
    list_display = ["connection", "enabled", "checked_at", "next_check_at", "last_error"]
    list_filter = ["enabled", "connection__tenant"]
    search_fields = ["connection__name", "connection__tenant__name"]
    readonly_fields = ["connection", "enabled", "checked_at", "next_check_at", "last_error"]
