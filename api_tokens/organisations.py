"""The organisation in the REST API: returned as {id, name} on whatever belongs to one, and taken
as `organisation` (a filter, or the answer to "which organisation?") — always one of the caller's
tenant's own, so another tenant's id is refused and reveals nothing.

Serializers using these need `context={"organisations": organisations_of(tenant=...)}`.
"""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

ID_HELP = "Xero tenantId of the organisation (`xero_tenant_id` in connections/)"


class OrganisationOutput(serializers.Serializer):
    id = serializers.CharField(help_text=ID_HELP)
    name = serializers.CharField()


@extend_schema_field(OrganisationOutput(allow_null=True))
class OrganisationField(serializers.Field):
    """A row's Xero tenantId as {id, name}; null when it belongs to no organisation."""

    def __init__(self, **kwargs):
        kwargs.setdefault("source", "xero_tenant_id")
        super().__init__(read_only=True, **kwargs)

    def to_representation(self, value):
        organisation = self.context["organisations"].get(value) if value else None
        return {"id": organisation.id, "name": organisation.name} if organisation else None


class OrganisationChoiceField(serializers.CharField):
    default_error_messages = {"unknown": "Not one of your Xero organisations."}

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("help_text", ID_HELP)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if self.context["organisations"].get(value) is None:
            self.fail("unknown")
        return value


def ambiguous_invoice_error(ambiguous) -> serializers.ValidationError:
    """400 for billing_events' InvoiceNumberAmbiguous: `fields.organisation` lists each candidate
    as "<organisation id>: <organisation> — <number>, <contact>, <amount>"; ask again with one."""
    return serializers.ValidationError(
        {
            "organisation": [
                f"{ambiguous.number} is an invoice of {len(ambiguous.candidates)} of your "
                "organisations: give `organisation`, one of these ids."
            ]
            + [f"{c.organisation.id}: {c.label}" for c in ambiguous.candidates]
        }
    )
