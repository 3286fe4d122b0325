"""POST templates/preview/: a template body rendered for one of the tenant's invoices, or a sample.

It lives here, not in messaging, because it reads invoices and contacts (billing_events) and
hands them to messaging as plain values, the way processing does — messaging never reads them.
"""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from billing_events.selectors import invoice_message_inputs
from config.api import TenantAPIView
from messaging.api.templates import TEMPLATE_CHANNELS
from messaging.selectors import template_preview


class TemplatePreviewApi(TenantAPIView):
    class PreviewInput(serializers.Serializer):
        body = serializers.CharField(trim_whitespace=False, max_length=100_000)
        channel = serializers.ChoiceField(choices=TEMPLATE_CHANNELS, default="sms")
        invoice_id = serializers.CharField(
            required=False,
            max_length=64,
            help_text="Xero InvoiceID of one of your invoices. Without it, sample values are used.",
        )

    class PreviewOutput(serializers.Serializer):
        text = serializers.CharField()
        encoding = serializers.ChoiceField(choices=["GSM-7", "UCS-2"])
        segments = serializers.IntegerField(help_text="SMS segments the text is sent as")
        units = serializers.IntegerField(help_text="GSM-7 septets or UCS-2 code units")
        ucs2_characters = serializers.ListField(
            child=serializers.CharField(trim_whitespace=False),
            help_text="The characters that force UCS-2 (fewer characters per segment)",
        )
        sample_variables = serializers.ListField(
            child=serializers.CharField(), help_text="Variables filled with sample values"
        )

    @extend_schema(operation_id="templates_preview", request=PreviewInput, responses=PreviewOutput)
    def post(self, request):
        values = self.PreviewInput(data=request.data)
        values.is_valid(raise_exception=True)
        contact = context = None
        invoice_id = values.validated_data.get("invoice_id")
        if invoice_id is not None:
            found = invoice_message_inputs(tenant=request.tenant, invoice_id=invoice_id)
            if found is None:
                raise NotFound("No invoice of yours has this invoice_id.")
            contact, context = found
        preview = template_preview(
            tenant=request.tenant,
            body=values.validated_data["body"],
            channel=values.validated_data["channel"],
            contact=contact,
            context=context,
        )
        return Response(self.PreviewOutput(preview).data)
