"""What a customer's text changes here: opt-outs, and the reply logged in the send log."""

from django.db import IntegrityError, transaction
from django.utils import timezone

from connections.models import Tenant
from messaging.models import (
    Message,
    MessageTemplate,
    OptOut,
)
from messaging.services.moves import Status
from messaging.services.notify import _insert_once
from snapshots.contacts import (
    ContactCard,
)


def optout_add(*, tenant: Tenant, phone: str, source: str = "") -> OptOut:
    try:
        with transaction.atomic():
            return OptOut.objects.create(tenant=tenant, phone=phone, source=source)
    except IntegrityError:
        return OptOut.objects.get(tenant=tenant, phone=phone)


def optout_remove(*, tenant: Tenant, phone: str) -> bool:
    deleted, _ = OptOut.objects.filter(tenant=tenant, phone=phone).delete()
    return bool(deleted)


def reply_log(
    *,
    tenant: Tenant,
    kind: str,
    channel: str,
    recipient: str,
    body: str,
    dedup_key: str,
    contact: ContactCard | None = None,
    invoice_id: str = "",
    template: MessageTemplate | None = None,
) -> Message:
    """Log an answer Twilio sends for us (TwiML): there is no API call, so it is `sent` as it
    is written. A retried webhook (same dedup key) returns the first answer."""
    now = timezone.now()
    message = Message(
        tenant=tenant,
        kind=kind,
        channel=channel,
        dedup_key=dedup_key,
        template=template,
        recipient=recipient,
        contact_id=contact.contact_id if contact else "",
        contact_name=contact.name if contact else "",
        invoice_id=invoice_id,
        xero_tenant_id=contact.xero_tenant_id if contact else "",
        body=body,
        status=Status.SENT,
        sent_at=now,
    )
    return _insert_once(message, note="Answered in the reply to the customer's text (TwiML).")
