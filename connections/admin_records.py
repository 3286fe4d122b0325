"""Admin for records Dunwell keeps as evidence (the send log, its history, Xero's events, what
Dunwell last saw in Xero): operators read them and act through admin actions, which go through
the services; the change form shows every field read-only, and nothing is added or deleted."""

from django.contrib import admin


class RecordAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class RecordInline(admin.TabularInline):
    extra = 0

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
