from django.contrib import admin

from connections.models import Invitation, Membership, MessagingSettings, Tenant


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


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "tenant", "invited_by", "created_at", "expires_at", "accepted_at"]
    list_filter = ["tenant", ("accepted_at", admin.EmptyFieldListFilter), "revoked_at"]
    search_fields = ["email", "tenant__name"]
    list_select_related = ["tenant", "invited_by"]
    # The link itself is never stored; its hash is of no use to an operator.
    exclude = ["token_hash"]
    readonly_fields = ["accepted_at", "accepted_by", "created_at"]
