"""Reminder pauses: list (by organisation), pause an invoice or a contact, read, remove.

An invoice number several organisations have is refused (400, its candidates in
`fields.organisation`) unless `organisation` says which: nothing is paused on a guess.
"""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from api_tokens.api import TenantAPIView
from api_tokens.organisations import (
    OrganisationChoiceField,
    OrganisationField,
    ambiguous_invoice_error,
)
from billing_events.models import ReminderPause
from billing_events.reminders import reminder_pause_add
from billing_events.selectors import reminder_pauses
from connections.selectors import organisations_of
from connections.tenancy import get_for_tenant
from snapshots.selectors import InvoiceNumberAmbiguous


class PauseOutput(serializers.Serializer):
    id = serializers.IntegerField()
    contact_id = serializers.CharField(help_text="Xero ContactID, when a contact is paused")
    invoice_id = serializers.CharField(help_text="Xero InvoiceID, when an invoice is paused")
    organisation = OrganisationField(help_text="The Xero organisation of that contact or invoice")
    label = serializers.CharField(help_text="Contact name or invoice number")
    resume_on = serializers.DateField(allow_null=True, help_text="Null: until removed")
    reason = serializers.ChoiceField(choices=ReminderPause.Reason.choices)
    note = serializers.CharField()
    created_at = serializers.DateTimeField()


class PauseListApi(TenantAPIView):
    class PauseFilter(serializers.Serializer):
        organisation = OrganisationChoiceField(default="")

    class PauseInput(serializers.Serializer):
        invoice_number = serializers.CharField(
            required=False, max_length=255, help_text="Pause one sales invoice…"
        )
        contact_name = serializers.CharField(
            required=False, max_length=255, help_text="…or every invoice of one contact"
        )
        resume_on = serializers.DateField(
            required=False, allow_null=True, help_text="Reminders start again on this day"
        )
        organisation = OrganisationChoiceField(
            help_text="Xero tenantId of the organisation whose invoice or contact it is; needed "
            "when several of your organisations have one of that number or name"
        )

        def validate(self, values):
            if bool(values.get("invoice_number")) == bool(values.get("contact_name")):
                raise serializers.ValidationError("Give either invoice_number or contact_name.")
            return values

    @extend_schema(
        operation_id="reminder_pauses_list",
        summary="List reminder pauses",
        description="The contacts and invoices whose reminders are held back, newest first; "
        "`organisation` lists one organisation's.",
        parameters=[PauseFilter],
        responses=PauseOutput(many=True),
    )
    def get(self, request):
        context = {"organisations": organisations_of(tenant=request.tenant)}
        filters = self.PauseFilter(data=request.query_params, context=context)
        filters.is_valid(raise_exception=True)
        pauses = reminder_pauses(tenant=request.tenant, **filters.validated_data)
        return Response(PauseOutput(pauses, many=True, context=context).data)

    @extend_schema(
        operation_id="reminder_pauses_create",
        summary="Pause reminders",
        request=PauseInput,
        responses={201: PauseOutput},
        description="Hold back reminders for one invoice (by number) or one contact (by name). "
        "A number or name several of your organisations have needs `organisation` (400 lists "
        "the candidates).",
    )
    def post(self, request):
        context = {"organisations": organisations_of(tenant=request.tenant)}
        values = self.PauseInput(data=request.data, context=context)
        values.is_valid(raise_exception=True)
        try:
            pause = reminder_pause_add(tenant=request.tenant, **values.validated_data)
        except InvoiceNumberAmbiguous as ambiguous:
            raise ambiguous_invoice_error(ambiguous) from None
        return Response(PauseOutput(pause, context=context).data, status=status.HTTP_201_CREATED)


class PauseDetailApi(TenantAPIView):
    @extend_schema(
        operation_id="reminder_pauses_retrieve",
        summary="Get one reminder pause",
        description="One pause, with the organisation of its contact or invoice.",
        responses=PauseOutput,
    )
    def get(self, request, pause_id):
        pause = get_for_tenant(ReminderPause, request.tenant, pk=pause_id)
        context = {"organisations": organisations_of(tenant=request.tenant)}
        return Response(PauseOutput(pause, context=context).data)

    @extend_schema(
        operation_id="reminder_pauses_destroy",
        summary="Remove a reminder pause",
        description="Reminders resume from the next daily run.",
        responses={204: None},
    )
    def delete(self, request, pause_id):
        get_for_tenant(ReminderPause, request.tenant, pk=pause_id).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)
