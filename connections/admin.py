from django.contrib import admin

from connections.models import (
    Invitation,
    Membership,
    MessagingSettings,
    Tenant,
    XeroCall,
    XeroConnection,
    XeroGrant,
    XeroRateBudget,
)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "timezone", "default_country", "is_active", "created_at"]
    list_filter = ["is_active", "default_country"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "tenant", "role", "created_at"]
    list_filter = ["role", "tenant"]
    search_fields = ["user__email", "user__username", "tenant__name"]
    list_select_related = ["user", "tenant"]


@admin.register(MessagingSettings)
class MessagingSettingsAdmin(admin.ModelAdmin):
    list_display = ["tenant", "twilio_account_sid", "twilio_messaging_service_sid", "updated_at"]
    list_filter = ["tenant"]
    # Secrets are never rendered back: the admin shows the non-secret fields only.
    exclude = ["twilio_auth_token", "twilio_api_key_secret", "sendgrid_api_key"]


class XeroConnectionInline(admin.TabularInline):
    model = XeroConnection
    extra = 0
    can_delete = False
    fields = ["name", "xero_tenant_id", "status", "last_success_at"]
    readonly_fields = fields


@admin.register(XeroGrant)
class XeroGrantAdmin(admin.ModelAdmin):
    list_display = ["__str__", "tenant", "status", "expires_at", "last_refreshed_at"]
    list_filter = ["status", "tenant"]
    search_fields = ["tenant__name", "auth_event_id"]
    list_select_related = ["tenant"]
    # The token pair is never rendered back (docs/architecture.md invariant 4); only Connect to Xero
    # and grant_refresh write it.
    exclude = ["access_token", "refresh_token"]
    readonly_fields = [
        "tenant",
        "created_by",
        "expires_at",
        "scopes",
        "auth_event_id",
        "last_refreshed_at",
        "last_error",
        "created_at",
    ]
    inlines = [XeroConnectionInline]


@admin.register(XeroConnection)
class XeroConnectionAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "tenant",
        "status",
        "country_code",
        "currency",
        "last_success_at",
        "min_limit_remaining",
        "day_limit_remaining",
    ]
    list_filter = ["status", "tenant", "country_code"]
    search_fields = ["name", "xero_tenant_id", "tenant__name"]
    list_select_related = ["tenant"]
    readonly_fields = [
        "grant",
        "xero_tenant_id",
        "connection_id",
        "min_limit_remaining",
        "day_limit_remaining",
        "last_success_at",
        "connected_at",
        "disconnected_at",
    ]


@admin.register(XeroRateBudget)
class XeroRateBudgetAdmin(admin.ModelAdmin):
    list_display = ["xero_tenant_id"]
    search_fields = ["xero_tenant_id"]


@admin.register(XeroCall)
class XeroCallAdmin(admin.ModelAdmin):
    """The sliding call log behind the rate limits; keyed by Xero organisation, not tenant."""

    list_display = ["xero_tenant_id", "started_at", "finished_at"]
    list_filter = ["started_at"]
    search_fields = ["xero_tenant_id"]
    show_full_result_count = False


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "tenant", "invited_by", "created_at", "expires_at", "accepted_at"]
    list_filter = ["tenant", ("accepted_at", admin.EmptyFieldListFilter), "revoked_at"]
    search_fields = ["email", "tenant__name"]
    list_select_related = ["tenant", "invited_by"]
    # The link itself is never stored; its hash is of no use to an operator.
    exclude = ["token_hash"]
    readonly_fields = ["accepted_at", "accepted_by", "created_at"]
