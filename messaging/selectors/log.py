"""The send log and the inbox: filtered, resendable, needing attention."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Exists, OuterRef, Q, QuerySet

from connections.models import Tenant
from messaging.models import (
    PHONE_CHANNELS,
    InboundMessage,
    Message,
    OptOut,
)
from snapshots.selectors import invoice_ids_numbered, invoice_number_choose

# A text waiting for a person: not a keyword Dunwell answered itself, and nobody handled it yet.
WAITING = {"intent": InboundMessage.Intent.OTHER, "handled_at__isnull": True}


def messages_for_log(
    *,
    tenant: Tenant,
    status: str = "",
    channel: str = "",
    kind: str = "",
    contact: str = "",
    invoice: str = "",
    organisation: str = "",
    date_from: date | None = None,
    date_to: date | None = None,
) -> QuerySet[Message]:
    """The send log, filtered; dates are days in the tenant's time zone, both ends included.

    `organisation` is a Xero tenantId. An invoice number that several organisations have raises
    InvoiceNumberAmbiguous unless the organisation is given: the page asks which.
    """
    messages = _of_organisation(tenant=tenant, organisation=organisation, invoice=invoice)
    if status:
        messages = messages.filter(status=status)
    if channel:
        messages = messages.filter(channel=channel)
    if kind:
        messages = messages.filter(kind=kind)
    if contact:
        messages = messages.filter(
            Q(contact_name__icontains=contact) | Q(recipient__icontains=contact)
        )
    if invoice:
        messages = messages.filter(
            Q(invoice_id__in=invoice_ids_numbered(tenant=tenant, number=invoice))
            | Q(invoice_id__iexact=invoice)
        )
    zone = ZoneInfo(tenant.timezone)
    if date_from:
        messages = messages.filter(created_at__gte=datetime.combine(date_from, time(), zone))
    if date_to:
        next_day = date_to + timedelta(days=1)
        messages = messages.filter(created_at__lt=datetime.combine(next_day, time(), zone))
    return messages


def _of_organisation(*, tenant: Tenant, organisation: str, invoice: str) -> QuerySet[Message]:
    if invoice:
        invoice_number_choose(tenant=tenant, number=invoice, organisation=organisation)
    messages = Message.objects.filter(tenant=tenant)
    return messages.filter(xero_tenant_id=organisation) if organisation else messages


def messages_exist(*, tenant: Tenant) -> bool:
    return Message.objects.filter(tenant=tenant).exists()


RESENDABLE = (Message.Status.FAILED, Message.Status.UNDELIVERED)


def messages_resendable(messages: QuerySet[Message]) -> QuerySet[Message]:
    """Failed or undelivered messages nobody has resent yet, to recipients who did not reply
    STOP: the ones needing attention."""
    resent = Message.objects.filter(resend_of=OuterRef("pk"))
    opted_out = OptOut.objects.filter(tenant_id=OuterRef("tenant_id"), phone=OuterRef("recipient"))
    return (
        messages.filter(status__in=RESENDABLE)
        .exclude(Exists(resent))
        .exclude(Q(channel__in=PHONE_CHANNELS) & Exists(opted_out))
    )


def messages_needing_attention(*, tenant: Tenant) -> QuerySet[Message]:
    return messages_resendable(Message.objects.filter(tenant=tenant, is_test=False))


def inbox_messages(
    *, tenant: Tenant, everything: bool = False, organisation: str = ""
) -> QuerySet[InboundMessage]:
    """Texts customers sent: by default only those still waiting for a person; only those from
    contacts of `organisation` (a Xero tenantId) when given."""
    inbound = InboundMessage.objects.filter(tenant=tenant).select_related("reply", "assigned_to")
    if organisation:
        # A JSON list of ids, matched as its text: one quoted id is one element (SQLite has no
        # JSON containment lookup).
        inbound = inbound.filter(xero_tenant_ids__icontains=f'"{organisation}"')
    return inbound if everything else inbound.filter(**WAITING)


def messages_filter(
    *,
    tenant: Tenant,
    status: str = "",
    kind: str = "",
    channel: str = "",
    contact_id: str = "",
    invoice_number: str = "",
    organisation: str = "",
    created_after: datetime | None = None,
    created_before: datetime | None = None,
) -> QuerySet[Message]:
    """The send log for the REST API: exact ids and instants, where the page's messages_for_log
    takes what a person types (names, parts of numbers, local days). Raises
    InvoiceNumberAmbiguous as messages_for_log does."""
    messages = _of_organisation(tenant=tenant, organisation=organisation, invoice=invoice_number)
    exact = {"status": status, "kind": kind, "channel": channel, "contact_id": contact_id}
    messages = messages.filter(**{name: value for name, value in exact.items() if value})
    if invoice_number:
        messages = messages.filter(
            invoice_id__in=invoice_ids_numbered(tenant=tenant, number=invoice_number)
        )
    if created_after:
        messages = messages.filter(created_at__gte=created_after)
    if created_before:
        messages = messages.filter(created_at__lt=created_before)
    return messages
