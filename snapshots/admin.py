from django.contrib import admin

from connections.admin_records import RecordAdmin
from snapshots.models import (
    ContactSnapshot,
    CreditNoteSnapshot,
    InvoiceSnapshot,
    XeroContactGroup,
    XeroTrackingOption,
)


class SnapshotAdmin(RecordAdmin):
    list_filter = ["tenant"]
    list_select_related = ["tenant"]
    show_full_result_count = False


@admin.register(InvoiceSnapshot)
class InvoiceSnapshotAdmin(SnapshotAdmin):
    list_display = [
        "number",
        "tenant",
        "type",
        "status",
        "currency",
        "total",
        "amount_due",
        "due_date",
        "updated_date_utc",
    ]
    list_filter = ["tenant", "type", "status"]
    search_fields = ["number", "reference", "invoice_id", "contact_id"]


@admin.register(CreditNoteSnapshot)
class CreditNoteSnapshotAdmin(SnapshotAdmin):
    list_display = ["number", "tenant", "type", "status", "currency", "total", "updated_date_utc"]
    list_filter = ["tenant", "type", "status"]
    search_fields = ["number", "credit_note_id", "contact_id"]


@admin.register(ContactSnapshot)
class ContactSnapshotAdmin(SnapshotAdmin):
    list_display = ["name", "tenant", "email", "country", "region", "archived", "updated_date_utc"]
    list_filter = ["tenant", "archived", "country"]
    search_fields = ["name", "email", "contact_id"]


# --- segments: what Xero last said about its groups and tracking options ---------------------


@admin.register(XeroContactGroup)
class XeroContactGroupAdmin(RecordAdmin):
    list_display = ["name", "tenant", "xero_tenant_id", "status", "updated_at"]
    list_filter = ["tenant", "status"]
    search_fields = ["name", "group_id"]


@admin.register(XeroTrackingOption)
class XeroTrackingOptionAdmin(RecordAdmin):
    list_display = ["label", "tenant", "xero_tenant_id", "status", "updated_at"]
    list_filter = ["tenant", "status"]
    search_fields = ["category_name", "option_name", "option_id"]
