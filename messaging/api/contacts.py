"""Contacts that need someone's attention: no usable phone number in Xero, or opted out."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from api_tokens.api import TenantAPIView
from messaging import selectors


class NeedingPhoneOutput(serializers.Serializer):
    contact_id = serializers.CharField(help_text="Xero ContactID")
    contact_name = serializers.CharField()
    problem = serializers.CharField(source="error_code", help_text="no_phone or invalid_phone")
    reason = serializers.CharField(source="status_reason")
    message_id = serializers.IntegerField(source="pk", help_text="The latest message skipped")
    last_tried_at = serializers.DateTimeField(source="created_at")


class OptedOutOutput(serializers.Serializer):
    phone = serializers.CharField(help_text="E.164")
    source = serializers.CharField()
    opted_out_at = serializers.DateTimeField(source="created_at")
    contact_id = serializers.CharField(help_text="The contact last texted on this number, if any")
    contact_name = serializers.CharField()


class ContactsNeedingAttentionApi(TenantAPIView):
    class AttentionOutput(serializers.Serializer):
        needing_phone = NeedingPhoneOutput(many=True)
        opted_out = OptedOutOutput(many=True)

    @extend_schema(
        operation_id="contacts_needing_attention",
        responses=AttentionOutput,
        summary="Contacts needing attention",
        description="Contacts Dunwell cannot text: those without a usable phone number in Xero, "
        "and those who opted out (replied STOP).",
    )
    def get(self, request):
        attention = {
            "needing_phone": selectors.contacts_needing_phone(tenant=request.tenant),
            "opted_out": selectors.contacts_opted_out(tenant=request.tenant),
        }
        return Response(self.AttentionOutput(attention).data)
