"""Operators may inspect the sandbox; its rows are fake and belong to no Dunwell tenant."""

from django.contrib import admin

from sandbox import models


@admin.register(models.Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "tenant_id", "country_code", "base_currency", "timezone"]


@admin.register(models.Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["name", "organisation", "email", "unreachable", "updated_at"]
    list_filter = ["organisation", "unreachable"]
    search_fields = ["name", "email"]


@admin.register(models.Invoice)
class InvoiceAdmin(admin.ModelAdmin):
    list_display = ["invoice_number", "organisation", "contact", "status", "total", "due_date"]
    list_filter = ["organisation", "status"]


@admin.register(models.TrackingOption)
class TrackingOptionAdmin(admin.ModelAdmin):
    """Archive or delete an option here to watch Dunwell fall back to the default template."""

    list_display = ["__str__", "category", "status"]
    list_editable = ["status"]


@admin.register(
    models.Payment,
    models.CreditNote,
    models.ContactGroup,
    models.Connection,
    models.TrackingCategory,
)
class OrganisationRowAdmin(admin.ModelAdmin):
    pass


@admin.register(models.TwilioAccount)
class TwilioAccountAdmin(admin.ModelAdmin):
    list_display = ["friendly_name", "account_sid", "from_number"]
    exclude = ["auth_token", "api_key_secret"]


@admin.register(models.SmsMessage)
class SmsMessageAdmin(admin.ModelAdmin):
    list_display = ["sid", "direction", "to", "from_number", "status", "error_code", "date_created"]
    list_filter = ["direction", "status", "account"]
    search_fields = ["sid", "to", "from_number"]


@admin.register(models.TwilioFault)
class TwilioFaultAdmin(admin.ModelAdmin):
    list_display = ["to_number", "http_status", "error_code", "message_created", "remaining"]


@admin.register(models.OptOut)
class OptOutAdmin(admin.ModelAdmin):
    list_display = ["number", "account", "created_at"]
    list_filter = ["account"]


@admin.register(models.Email)
class EmailAdmin(admin.ModelAdmin):
    list_display = ["subject", "from_email", "created_at"]
    exclude = ["payload"]


@admin.register(models.OutboundHook)
class OutboundHookAdmin(admin.ModelAdmin):
    list_display = ["kind", "summary", "status", "attempts", "response_status", "created_at"]
    list_filter = ["kind", "status"]
    exclude = ["body", "headers"]


@admin.register(models.Grant)
class GrantAdmin(admin.ModelAdmin):
    list_display = ["auth_event_id", "client_id", "created_at", "revoked_at"]


@admin.register(models.AccessToken, models.RefreshToken, models.AuthorizationCode)
class IssuedSecretAdmin(admin.ModelAdmin):
    """Issued codes and tokens: shown by grant and time, never by value."""

    list_display = ["__str__", "grant"]
    exclude = ["token", "token_hash", "code"]

    def get_exclude(self, request, obj=None):
        names = {field.name for field in self.model._meta.fields}
        return [name for name in self.exclude if name in names]


@admin.register(models.ApiCall, models.Sequence)
class CounterAdmin(admin.ModelAdmin):
    pass
