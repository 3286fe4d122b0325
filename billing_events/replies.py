"""A customer's text to the tenant's number, acted on: opt-outs, HELP, "PAID INV-0142" answered
with the invoice's payment link, anything else pausing that customer's reminders.

messaging reads the text (messaging.replies: what it asks, the reply's words) and logs it; this
module owns the part that needs invoices. The lookups look only at the contacts whose own phone
numbers match the sender, so a text can never reveal another customer's invoice.

The answer goes back as TwiML in the webhook's response (FACTS.md "Inbound message webhook"),
and is logged in the send log like every other message. A retried webhook (same MessageSid)
does nothing again and gets the same answer.
"""

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.utils import timezone

from billing_events.models import ReminderPause
from billing_events.payment_links import invoice_pay_url
from billing_events.reminders import reminder_defaults_create, reminder_pause_create
from connections.models import Tenant
from connections.selectors import (
    names_for_customers,
    organisation_for_customers,
    organisation_of,
)
from messaging.models import Channel, InboundMessage, Kind, OptOut
from messaging.replies import Intent, inbound_intent, reply_compose
from messaging.selectors import invoice_last_texted
from messaging.services import optout_add, optout_remove, reply_log
from snapshots.contacts import ContactCard
from snapshots.models import ContactSnapshot, InvoiceSnapshot
from snapshots.selectors import contact_card

UNPAID, PAID, NOT_FOUND = "unpaid", "paid", "not_found"


@dataclass(frozen=True)
class InvoiceReply:
    status: str  # UNPAID, PAID or NOT_FOUND
    contact: ContactCard | None = None
    invoice_id: str = ""
    context: dict = field(default_factory=dict)  # notify()-style keys for the reply template


def _contacts_of_phone(*, tenant: Tenant, phone: str) -> list[ContactSnapshot]:
    # Each snapshot keeps the number Dunwell texts as E.164 (read in its organisation's country
    # when it was stored): one indexed lookup, whatever format Xero holds the number in.
    if not phone:
        return []
    return list(
        ContactSnapshot.objects.filter(tenant=tenant, phone_e164=phone, archived=False).order_by(
            "pk"
        )
    )


def _names_for(tenant: Tenant, contacts: list[ContactSnapshot]) -> dict[str, str]:
    organisation = organisation_for_customers(
        tenant=tenant, xero_tenant_ids={c.xero_tenant_id for c in contacts}
    )
    return names_for_customers(organisation)


def sender_names(*, tenant: Tenant, phone: str) -> dict[str, str]:
    """The organisation name and signature a reply to this sender carries: see
    connections.selectors.organisation_for_customers for how the organisation is chosen."""
    return _names_for(tenant, _contacts_of_phone(tenant=tenant, phone=phone))


def _number_key(number: str) -> str:
    return re.sub(r"[^0-9A-Z]", "", number.upper())


def _matches(asked: str, number: str) -> bool:
    """`inv0142`, `INV 0142` and `#INV-0142` all name INV-0142; bare digits match its digits."""
    asked_key, key = _number_key(asked), _number_key(number)
    if not asked_key:
        return False
    return asked_key == key or (asked_key.isdigit() and asked_key == re.sub(r"\D", "", key))


def _payment_link(invoice: InvoiceSnapshot) -> str:
    """Xero's OnlineInvoiceUrl when a click already cached it, else our own /pay/ link.

    Never a Xero call here: this runs inside Twilio's inbound webhook, which gives up after 15 s,
    while a Xero call may wait longer for the organisation's call budget. The /pay/ page asks
    Xero on the click instead.
    """
    return invoice.online_invoice_url or invoice_pay_url(snapshot=invoice)


def invoice_reply_lookup(*, tenant: Tenant, phone: str, invoice_number: str) -> InvoiceReply:
    """The sender's own invoice of that number: unpaid (with its payment link), paid, or not
    found — also when it exists but belongs to someone else."""
    contacts = _contacts_of_phone(tenant=tenant, phone=phone)
    owners = {(c.xero_tenant_id, c.contact_id): c for c in contacts}
    asked = {"invoice_number": invoice_number.upper(), **_names_for(tenant, contacts)}
    candidates = InvoiceSnapshot.objects.filter(
        tenant=tenant, type="ACCREC", contact_id__in=[c.contact_id for c in contacts]
    ).exclude(status__in=["DRAFT", "SUBMITTED", "VOIDED", "DELETED"])
    invoice = next(
        (
            i
            for i in candidates.order_by("-pk")
            if (i.xero_tenant_id, i.contact_id) in owners and _matches(invoice_number, i.number)
        ),
        None,
    )
    if invoice is None:
        card = contact_card(snapshot=contacts[0]) if contacts else None
        return InvoiceReply(NOT_FOUND, contact=card, context=asked)
    organisation = organisation_of(tenant=tenant, xero_tenant_id=invoice.xero_tenant_id)
    context = {
        "invoice_number": invoice.number,
        "amount_due": invoice.amount_due,
        "total": invoice.total,
        "currency": invoice.currency,
        "due_date": invoice.due_date,
        **names_for_customers(organisation),
    }
    card = contact_card(snapshot=owners[(invoice.xero_tenant_id, invoice.contact_id)])
    if invoice.status == "PAID" or invoice.amount_due <= 0:
        return InvoiceReply(PAID, contact=card, invoice_id=invoice.invoice_id, context=context)
    context["online_invoice_url"] = _payment_link(invoice)
    return InvoiceReply(UNPAID, contact=card, invoice_id=invoice.invoice_id, context=context)


def contact_reply_pause(
    *, tenant: Tenant, phone: str, on: date
) -> tuple[list[ContactCard], date | None]:
    """Hold back reminders to the sender's contacts for the tenant's reply-pause days, so a
    person can answer first. Returns the contacts paused and the day reminders resume."""
    contacts = _contacts_of_phone(tenant=tenant, phone=phone)
    if not contacts:
        return [], None
    resume_on = on + timedelta(days=reminder_defaults_create(tenant=tenant).reply_pause_days)
    for contact in {c.contact_id: c for c in contacts}.values():
        reminder_pause_create(
            tenant=tenant,
            contact_id=contact.contact_id,
            xero_tenant_id=contact.xero_tenant_id,
            resume_on=resume_on,
            label=contact.name,
            reason=ReminderPause.Reason.REPLY,
            note="Replied to a text.",
        )
    return [contact_card(snapshot=c) for c in contacts], resume_on


# --- the text received, acted on ------------------------------------------------------------

_REPLY_KIND = {PAID: Kind.REPLY_PAID_THANKS, NOT_FOUND: Kind.REPLY_NOT_FOUND}


@dataclass(frozen=True)
class _Answer:
    kind: str = ""
    contact: ContactCard | None = None
    invoice_id: str = ""
    context: dict | None = None


def _answer(*, tenant: Tenant, intent: Intent, phone: str) -> _Answer:
    """What to say; looks things up (maybe in Xero) but changes nothing."""
    if intent.kind == InboundMessage.Intent.HELP:
        return _Answer(Kind.REPLY_HELP, context=sender_names(tenant=tenant, phone=phone))
    if intent.kind != InboundMessage.Intent.PAID:
        return _Answer()
    found = invoice_reply_lookup(tenant=tenant, phone=phone, invoice_number=intent.invoice_number)
    return _Answer(
        _REPLY_KIND.get(found.status, Kind.REPLY_PAYMENT_LINK),
        contact=found.contact,
        invoice_id=found.invoice_id,
        context=found.context,
    )


def inbound_receive(
    *, tenant: Tenant, message_sid: str, from_address: str, to_address: str, body: str
) -> str:
    """Record a customer's text, act on it, and return the answer to send back ("" for none)."""
    earlier = InboundMessage.objects.filter(tenant=tenant, message_sid=message_sid).first()
    if earlier is not None:
        return earlier.reply.body if earlier.reply else ""
    channel = Channel.WHATSAPP if from_address.startswith("whatsapp:") else Channel.SMS
    phone = from_address.removeprefix("whatsapp:")
    intent = inbound_intent(body)
    opted_out = OptOut.objects.filter(tenant=tenant, phone=phone).exists()
    # Xero may be asked for a payment link here, so this happens before the transaction
    # (XeroClient must not run inside atomic()).
    answer = _Answer() if opted_out else _answer(tenant=tenant, intent=intent, phone=phone)
    text, template = (
        reply_compose(
            tenant=tenant, kind=answer.kind, contact=answer.contact, context=answer.context
        )
        if answer.kind
        else ("", None)
    )
    inbound = InboundMessage(
        tenant=tenant,
        message_sid=message_sid,
        channel=channel,
        from_phone=phone,
        to=to_address,
        body=body,
        intent=intent.kind,
        invoice_number=intent.invoice_number,
        contact_id=answer.contact.contact_id if answer.contact else "",
        invoice_id=answer.invoice_id,
        xero_tenant_ids=_organisations_of([answer.contact]),
    )
    try:
        with transaction.atomic():
            inbound.save(force_insert=True)
            _act(tenant=tenant, inbound=inbound, phone=phone)
            if text:
                inbound.reply = reply_log(
                    tenant=tenant,
                    kind=answer.kind,
                    channel=channel,
                    recipient=phone,
                    body=text,
                    dedup_key=f"inbound:{message_sid}:reply",
                    contact=answer.contact,
                    invoice_id=answer.invoice_id,
                    template=template,
                )
                inbound.save(update_fields=["reply"])
    except IntegrityError:  # the same text, retried while we were answering it
        return inbound_receive(
            tenant=tenant, message_sid=message_sid, from_address=from_address,
            to_address=to_address, body=body,
        )  # fmt: skip
    return text


def _act(*, tenant: Tenant, inbound: InboundMessage, phone: str) -> None:
    if inbound.intent == InboundMessage.Intent.STOP:
        optout_add(tenant=tenant, phone=phone, source="Replied STOP")
    elif inbound.intent == InboundMessage.Intent.START:
        optout_remove(tenant=tenant, phone=phone)
    elif inbound.intent == InboundMessage.Intent.OTHER:
        today = timezone.now().astimezone(ZoneInfo(tenant.timezone)).date()
        contacts, resume_on = contact_reply_pause(tenant=tenant, phone=phone, on=today)
        inbound.contact_names = ", ".join(c.name for c in contacts)[:500]
        inbound.xero_tenant_ids = _organisations_of(contacts)
        inbound.reminders_paused_until = resume_on
        inbound.xero_tenant_ids = _organisations_of(contacts)
        if contacts:
            inbound.contact_id = contacts[0].contact_id
            inbound.invoice_id = invoice_last_texted(tenant=tenant, contact_id=inbound.contact_id)
        inbound.save(
            update_fields=[
                "contact_names", "xero_tenant_ids", "reminders_paused_until", "contact_id",
                "invoice_id",
            ]
        )  # fmt: skip


def _organisations_of(contacts) -> list[str]:
    """The Xero organisations (tenantIds) of these contacts, once each, for the inbox."""
    return sorted({c.xero_tenant_id for c in contacts if c is not None and c.xero_tenant_id})
