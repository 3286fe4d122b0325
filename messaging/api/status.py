"""GET connections/: what is connected and working — never a token, key or secret."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from api_tokens.api import TenantAPIView
from connections.models import XeroConnection, XeroGrant
from connections.selectors import connections_for_tenant
from messaging.selectors import messaging_channels_configured


class XeroOrganisationOutput(serializers.Serializer):
    """Deliberately field by field: nothing of the grant but whether it still works."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    xero_tenant_id = serializers.CharField()
    country_code = serializers.CharField()
    currency = serializers.CharField()
    timezone = serializers.CharField()
    status = serializers.ChoiceField(choices=XeroConnection.Status.choices)
    needs_reconnect = serializers.SerializerMethodField()
    connected_at = serializers.DateTimeField()
    last_success_at = serializers.DateTimeField(allow_null=True)
    calls_left_this_minute = serializers.IntegerField(source="min_limit_remaining", allow_null=True)
    calls_left_today = serializers.IntegerField(source="day_limit_remaining", allow_null=True)

    def get_needs_reconnect(self, connection) -> bool:
        return (
            connection.status == XeroConnection.Status.NEEDS_RECONNECT
            or connection.grant.status == XeroGrant.Status.NEEDS_RECONNECT
        )


class ConnectionsStatusApi(TenantAPIView):
    class StatusOutput(serializers.Serializer):
        class ChannelsConfigured(serializers.Serializer):
            sms = serializers.BooleanField()
            whatsapp = serializers.BooleanField()
            email = serializers.BooleanField()

        xero_organisations = XeroOrganisationOutput(many=True)
        messaging_configured = ChannelsConfigured(
            help_text="Whether each channel has the settings it needs to send (never the values)"
        )

    @extend_schema(
        operation_id="connections_status",
        responses=StatusOutput,
        summary="Connection status",
        description="The Xero organisations connected to your tenant and whether each still "
        "works, and which channels (SMS, WhatsApp, email) are set up to send. Never a token, "
        "key or secret.",
    )
    def get(self, request):
        status = {
            "xero_organisations": connections_for_tenant(tenant=request.tenant),
            "messaging_configured": messaging_channels_configured(tenant=request.tenant),
        }
        return Response(self.StatusOutput(status).data)
