"""The send log: list with filters, one message with its history, resend."""

from django.core.exceptions import ValidationError
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from api_tokens.api import (
    PAGE_PARAMETERS,
    Conflict,
    NewestFirstCursorPagination,
    TenantAPIView,
    page_serializer,
)
from api_tokens.organisations import (
    OrganisationChoiceField,
    OrganisationField,
    ambiguous_invoice_error,
)
from connections.selectors import organisations_of
from connections.tenancy import get_for_tenant
from messaging import selectors, services
from messaging.models import Channel, Kind, Message
from snapshots.selectors import InvoiceNumberAmbiguous


class MessageOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=Kind.choices)
    channel = serializers.ChoiceField(choices=Channel.choices)
    status = serializers.ChoiceField(choices=Message.Status.choices)
    status_reason = serializers.CharField()
    dedup_key = serializers.CharField()
    recipient = serializers.CharField()
    contact_id = serializers.CharField(help_text="Xero ContactID")
    contact_name = serializers.CharField()
    invoice_id = serializers.CharField(help_text="Xero InvoiceID")
    organisation = OrganisationField(help_text="The Xero organisation of its contact and invoice")
    subject = serializers.CharField()
    body = serializers.CharField()
    provider_id = serializers.CharField(help_text="Twilio MessageSid or SendGrid message id")
    provider_status = serializers.CharField()
    error_code = serializers.CharField()
    error_message = serializers.CharField()
    attempts = serializers.IntegerField()
    send_after = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    sent_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    resend_of = serializers.IntegerField(source="resend_of_id", allow_null=True)
    fallback_of = serializers.IntegerField(
        source="fallback_of_id",
        allow_null=True,
        help_text="The text this email was sent instead of, after it was not delivered",
    )
    can_resend = serializers.SerializerMethodField(
        help_text="Whether POST …/resend/ would send it again now"
    )

    def get_can_resend(self, message) -> bool:
        return selectors.message_resend_refusal(message=message) is None


class MessageListApi(TenantAPIView):
    class MessageFilter(serializers.Serializer):
        status = serializers.ChoiceField(choices=Message.Status.choices, required=False)
        kind = serializers.ChoiceField(choices=Kind.choices, required=False)
        channel = serializers.ChoiceField(choices=Channel.choices, required=False)
        contact_id = serializers.CharField(
            required=False, max_length=64, help_text="Xero ContactID"
        )
        invoice_number = serializers.CharField(
            required=False,
            max_length=255,
            help_text="Contains, ignoring case (as in the send log). A number several of your "
            "organisations have is refused (400, its candidates in `fields.organisation`) "
            "unless `organisation` says which.",
        )
        organisation = OrganisationChoiceField()
        created_after = serializers.DateTimeField(required=False, help_text="Inclusive")
        created_before = serializers.DateTimeField(required=False, help_text="Exclusive")

    pagination = NewestFirstCursorPagination

    @extend_schema(
        operation_id="messages_list",
        summary="List the send log",
        description="Messages sent or waiting to be sent, newest first, in cursor pages. Filter "
        "by status, kind, channel, Xero contact, invoice number and when they were created.",
        parameters=[MessageFilter, *PAGE_PARAMETERS],
        responses=page_serializer("MessagePage", MessageOutput),
    )
    def get(self, request):
        context = {"organisations": organisations_of(tenant=request.tenant)}
        filters = self.MessageFilter(data=request.query_params, context=context)
        filters.is_valid(raise_exception=True)
        try:
            messages = selectors.messages_filter(tenant=request.tenant, **filters.validated_data)
        except InvoiceNumberAmbiguous as ambiguous:
            raise ambiguous_invoice_error(ambiguous) from None
        paginator = self.pagination()
        page = paginator.paginate_queryset(messages, request, view=self)
        return paginator.get_paginated_response(
            MessageOutput(page, many=True, context=context).data
        )


def _detail(message: Message) -> dict:
    context = {"organisations": organisations_of(tenant=message.tenant)}
    return MessageDetailOutput(message, context=context).data


class StatusChangeOutput(serializers.Serializer):
    from_status = serializers.CharField()
    to_status = serializers.CharField()
    provider_status = serializers.CharField()
    error_code = serializers.CharField()
    note = serializers.CharField()
    created_at = serializers.DateTimeField()


class MessageDetailOutput(MessageOutput):
    status_history = StatusChangeOutput(source="status_changes.all", many=True)
    resends = serializers.SerializerMethodField(help_text="Ids of the messages resending this one")

    def get_resends(self, message) -> list[int]:
        return sorted(message.resends.values_list("pk", flat=True))


class MessageDetailApi(TenantAPIView):
    @extend_schema(
        operation_id="messages_retrieve",
        responses=MessageDetailOutput,
        summary="Get one message",
        description="One message of the send log, with its status history and the ids of the "
        "messages that resent it.",
    )
    def get(self, request, message_id):
        message = get_for_tenant(Message, request.tenant, pk=message_id)
        return Response(_detail(message))


class MessageResendApi(TenantAPIView):
    @extend_schema(
        operation_id="messages_resend",
        summary="Resend a message",
        request=None,
        responses={
            201: OpenApiResponse(
                MessageDetailOutput, description="The new attempt, linked by resend_of."
            ),
            409: OpenApiResponse(
                description="Not resent, and why: `not_resendable` (not failed or undelivered), "
                "`opted_out` (the recipient replied STOP), `already_resent` (resend the newer "
                "message instead), `delivered_since` (a later try was delivered), `same_number` "
                "(Xero still has the number or address that cannot be reached), `no_recipient` "
                "(Xero has none now), `xero_unavailable` (Xero could not be asked; try later)."
            ),
        },
        description="Send a failed or undelivered message again, as a new message (a waiting "
        "automatic retry of it is cancelled). When the failure was about the recipient (an "
        "invalid or landline number, an unknown handset, a refused email address), the contact "
        "is fetched from Xero first and the new message goes to what Xero has now: see its "
        "`recipient`. A message is resent once: a second call answers 409 `already_resent`; "
        "resend the new message if it fails in turn.",
    )
    def post(self, request, message_id):
        message = get_for_tenant(Message, request.tenant, pk=message_id)
        try:
            again = services.message_resend(message=message, by_user=request.user)
        except ValidationError as exc:
            raise Conflict(" ".join(exc.messages), code=exc.code or "not_resendable") from None
        return Response(_detail(again), status=status.HTTP_201_CREATED)
