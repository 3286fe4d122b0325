"""What messaging may ask billing_events about a customer's text — the whole interface.

messaging never reads billing_events' models (ARCHITECTURE.md "Dependencies point one way");
it calls these two functions with the sender's number. Both look only at the contacts whose own
phone numbers match the sender, so a text can never reveal another customer's invoice.
"""

import re
from dataclasses import dataclass, field
from datetime import date, timedelta

from billing_events.models import ContactSnapshot, InvoiceSnapshot, ReminderPause
from billing_events.payment_links import invoice_pay_url
from billing_events.reminders import reminder_defaults_create, reminder_pause_create
from billing_events.services import contact_card
from connections.models import Tenant
from connections.selectors import connection_for_xero_tenant
from messaging.contacts import ContactCard, phones_e164

UNPAID, PAID, NOT_FOUND = "unpaid", "paid", "not_found"


@dataclass(frozen=True)
class InvoiceReply:
    status: str  # UNPAID, PAID or NOT_FOUND
    contact: ContactCard | None = None
    invoice_id: str = ""
    context: dict = field(default_factory=dict)  # notify()-style keys for the reply template


def _contacts_of_phone(*, tenant: Tenant, phone: str) -> list[ContactSnapshot]:
    # Xero phones are free text (FACTS.md "Contact"): every snapshot's numbers are normalised
    # to E.164 the way messaging reads them for sending, then compared exactly.
    return [
        snapshot
        for snapshot in ContactSnapshot.objects.filter(tenant=tenant, archived=False).order_by("pk")
        if phone
        in phones_e164(contact_card(snapshot=snapshot), default_country=tenant.default_country)
    ]


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
    asked = {"invoice_number": invoice_number.upper(), "organisation_name": tenant.name}
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
    connection = connection_for_xero_tenant(invoice.xero_tenant_id)
    context = {
        "invoice_number": invoice.number,
        "amount_due": invoice.amount_due,
        "total": invoice.total,
        "currency": invoice.currency,
        "due_date": invoice.due_date,
        "organisation_name": connection.name if connection else tenant.name,
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
