"""Reads for acting on a customer's text: what is waiting, the conversation with that number,
whether WhatsApp still takes a free-form answer, and who may be assigned."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Max

from connections.models import Membership, Tenant
from messaging.models import Channel, InboundMessage, Message
from messaging.selectors.log import WAITING

# WhatsApp takes a free-form message only within 24 hours of the customer's last message;
# outside it, only an approved template (FACTS.md "WhatsApp", error 63016).
WHATSAPP_WINDOW = timedelta(hours=24)
CONVERSATION_LENGTH = 30


def inbox_waiting_count(*, tenant: Tenant) -> int:
    """How many texts wait for a person (the navigation's count; a partial index answers it)."""
    return InboundMessage.objects.filter(tenant=tenant, **WAITING).count()


def whatsapp_window_closes(*, inbound: InboundMessage) -> datetime | None:
    """When a free-form WhatsApp answer to this number stops being allowed (None: not WhatsApp)."""
    if inbound.channel != Channel.WHATSAPP:
        return None
    latest = InboundMessage.objects.filter(
        tenant_id=inbound.tenant_id, from_phone=inbound.from_phone, channel=Channel.WHATSAPP
    ).aggregate(latest=Max("received_at"))["latest"]
    return (latest or inbound.received_at) + WHATSAPP_WINDOW


@dataclass(frozen=True)
class Turn:
    """One message of a conversation with a number: theirs (`inbound`) or ours (`message`)."""

    at: datetime
    inbound: InboundMessage | None = None
    message: Message | None = None


def inbound_conversation(*, inbound: InboundMessage) -> list[Turn]:
    """The latest texts between the tenant and this number, both ways, oldest first."""
    theirs = InboundMessage.objects.filter(
        tenant_id=inbound.tenant_id, from_phone=inbound.from_phone
    ).order_by("-received_at", "-pk")[:CONVERSATION_LENGTH]
    ours = (
        Message.objects.filter(tenant_id=inbound.tenant_id, recipient=inbound.from_phone)
        .select_related("sent_by")
        .order_by("-created_at", "-pk")[:CONVERSATION_LENGTH]
    )
    turns = [Turn(i.received_at, inbound=i) for i in theirs]
    turns += [Turn(m.sent_at or m.created_at, message=m) for m in ours]
    return sorted(turns, key=lambda turn: turn.at)[-CONVERSATION_LENGTH:]


def invoice_last_texted(*, tenant: Tenant, contact_id: str) -> str:
    """The InvoiceID of the latest message Dunwell sent this contact about an invoice ("": none):
    what a reply to it is most likely about."""
    if not contact_id:
        return ""
    return (
        Message.objects.filter(tenant=tenant, contact_id=contact_id)
        .exclude(invoice_id="")
        .order_by("-created_at", "-pk")
        .values_list("invoice_id", flat=True)
        .first()
    ) or ""


def members_assignable(*, tenant: Tenant) -> list[Membership]:
    return list(
        Membership.objects.filter(tenant=tenant)
        .select_related("user")
        .order_by("user__first_name", "user__username")
    )


def user_label(user: AbstractBaseUser | None) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()
