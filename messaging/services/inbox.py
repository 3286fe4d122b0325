"""Acting on a customer's text from the inbox: a person's answer, handled or reopened, assigned.

A person's answer goes like every other message: a Message row first (the send log, with who
wrote it), then dispatch through channels.py on the tenant's Twilio, on the channel the customer
used. The page gives each answer form its own token, the dedup key's tail, so a double submit
sends once (the unique constraint decides, docs/architecture.md "Never twice").
"""

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.utils import timezone

from connections.models import Membership
from messaging.models import InboundMessage, Kind, Message, OptOut
from messaging.selectors import user_label, whatsapp_window_closes
from messaging.services.moves import Status
from messaging.services.notify import _insert_once

OPTED_OUT = "This number opted out (replied STOP): Dunwell sends it nothing until it texts START."
WINDOW_CLOSED = (
    "WhatsApp allows an answer only within 24 hours of the customer's last message, and that "
    "was longer ago. Call them, or wait for them to write again."
)


def inbound_answer(
    *, inbound: InboundMessage, body: str, by_user: AbstractBaseUser, token: str
) -> Message:
    """Send a person's answer to the number that texted, once per form `token`.

    Refuses (ValidationError) an opted-out number and a WhatsApp answer outside the 24-hour
    window. Quiet hours and a STOP arriving meanwhile are dispatch's to respect, as always."""
    body = body.strip()
    if not body:
        raise ValidationError("Write the answer first.")
    if OptOut.objects.filter(tenant_id=inbound.tenant_id, phone=inbound.from_phone).exists():
        raise ValidationError(OPTED_OUT)
    closes = whatsapp_window_closes(inbound=inbound)
    if closes is not None and timezone.now() >= closes:
        raise ValidationError(WINDOW_CLOSED)
    names = inbound.contact_names.split(", ")
    message = Message(
        tenant_id=inbound.tenant_id,
        kind=Kind.REPLY_STAFF,
        channel=inbound.channel,
        dedup_key=f"inbound:{inbound.message_sid}:answer:{token}",
        recipient=inbound.from_phone,
        contact_id=inbound.contact_id,
        contact_name=names[0] if inbound.contact_id else "",
        invoice_id=inbound.invoice_id,
        body=body,
        status=Status.PENDING,
        sent_by=by_user,
        in_reply_to=inbound,
    )
    return _insert_once(message, note=f"Written in the inbox by {user_label(by_user)}.")


def inbound_handle(*, inbound: InboundMessage, by_user: AbstractBaseUser, handled: bool) -> None:
    """Mark the text handled (it leaves the inbox's waiting list), or reopen it."""
    inbound.handled_at = timezone.now() if handled else None
    inbound.handled_by = by_user if handled else None
    inbound.save(update_fields=["handled_at", "handled_by"])


def inbound_assign(*, inbound: InboundMessage, membership: Membership | None) -> None:
    """Give the text to one of the tenant's members (None: nobody)."""
    if membership is not None and membership.tenant_id != inbound.tenant_id:
        raise ValidationError("Only a member of this account can be assigned.")
    inbound.assigned_to = membership.user if membership else None
    inbound.save(update_fields=["assigned_to"])
