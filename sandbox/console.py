"""What a bookkeeper does in the sandbox Xero, and the signed webhooks each change causes.

Each action changes the sandbox rows and queues one delivery to PUBLIC_BASE_URL/webhooks/xero/,
batched like Xero's (`events`, `firstEventSequence`, `lastEventSequence`, `entropy`) and signed
with XERO_WEBHOOK_KEY (FACTS.md "Xero: webhooks"). A payment is an INVOICE UPDATE: Xero has no
payment webhook.
"""

import json
import secrets
import string
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from sandbox.hooks import hook_create, xero_signature
from sandbox.models import (
    Contact,
    ContactGroup,
    CreditNote,
    Invoice,
    Organisation,
    OutboundHook,
    Payment,
    Sequence,
    TrackingOption,
)


class ConsoleError(ValueError):
    """The action is not allowed in this state (Xero would refuse it too)."""


@dataclass(frozen=True)
class Event:
    category: str  # INVOICE, CONTACT, CREDITNOTE
    type: str  # CREATE, UPDATE
    resource_id: uuid.UUID
    data: dict | None = None


_RESOURCE_PATHS = {"INVOICE": "Invoices", "CONTACT": "Contacts", "CREDITNOTE": "CreditNotes"}


def webhook_url() -> str:
    return f"{settings.PUBLIC_BASE_URL}/webhooks/xero/"


def _entropy() -> str:
    return "".join(secrets.choice(string.ascii_uppercase) for _ in range(20))


def _sequence_take(count: int) -> tuple[int, int]:
    Sequence.objects.get_or_create(name="xero_events")
    Sequence.objects.filter(name="xero_events").update(value=F("value") + count)
    last = Sequence.objects.get(name="xero_events").value
    return last - count + 1, last


def xero_events_send(*, organisation: Organisation, events: list[Event]) -> OutboundHook:
    """Queue one signed delivery carrying these events, as Xero batches them."""
    first, last = _sequence_take(len(events))
    now = timezone.now()
    api = f"{settings.XERO_API_URL}/api.xro/2.0"
    payload = {
        "events": [
            {
                "resourceUrl": f"{api}/{_RESOURCE_PATHS[event.category]}/{event.resource_id}",
                "resourceId": str(event.resource_id),
                "tenantId": str(organisation.tenant_id),
                "tenantType": "ORGANISATION",
                "eventCategory": event.category,
                "eventType": event.type,
                "eventDateUtc": now.replace(tzinfo=None).isoformat(timespec="milliseconds"),
                **({"data": event.data} if event.data else {}),
            }
            for event in events
        ],
        "firstEventSequence": first,
        "lastEventSequence": last,
        "entropy": _entropy(),
    }
    body = json.dumps(payload).encode()
    summary = ", ".join(f"{e.category} {e.type}" for e in events)
    return hook_create(
        kind=OutboundHook.Kind.XERO_EVENTS,
        url=webhook_url(),
        body=body,
        content_type="application/json",
        headers={"x-xero-signature": xero_signature(body)},
        summary=f"{organisation.name}: {summary}",
    )


@transaction.atomic
def intent_to_receive_run() -> uuid.UUID:
    """Xero's handshake: `events: []` posts, some signed right, some wrong (FACTS.md)."""
    run_id = uuid.uuid4()
    for correct in (True, False, True, False):
        body = json.dumps(
            {"events": [], "firstEventSequence": 0, "lastEventSequence": 0, "entropy": _entropy()}
        ).encode()
        signature = xero_signature(body) if correct else xero_signature(body, key=_entropy())
        hook_create(
            kind=OutboundHook.Kind.XERO_ITR,
            url=webhook_url(),
            body=body,
            content_type="application/json",
            headers={"x-xero-signature": signature},
            summary="correctly signed" if correct else "wrongly signed",
            run_id=run_id,
            expected_status=200 if correct else 401,
        )
    return run_id


def _touch(row) -> None:
    row.updated_at = timezone.now()


def _next_number(organisation: Organisation, prefix: str, model) -> str:
    count = model.objects.filter(organisation=organisation).count() + 1
    field = "invoice_number" if model is Invoice else "credit_note_number"
    while model.objects.filter(organisation=organisation, **{field: f"{prefix}{count:04d}"}):
        count += 1
    return f"{prefix}{count:04d}"


@transaction.atomic
def invoice_create(
    *,
    contact: Contact,
    total: Decimal,
    due_in_days: int = 14,
    description: str = "Services",
    reference: str = "",
    approve: bool = False,
    tracking_option: TrackingOption | None = None,
    send_webhook: bool = True,
) -> Invoice:
    organisation = contact.organisation
    today = timezone.now().date()
    invoice = Invoice.objects.create(
        organisation=organisation,
        invoice_number=_next_number(organisation, "INV-", Invoice),
        contact=contact,
        reference=reference,
        description=description,
        date=today,
        due_date=today + timedelta(days=due_in_days),
        total=total,
        status=Invoice.Status.AUTHORISED if approve else Invoice.Status.DRAFT,
        online_token=secrets.token_urlsafe(24),
    )
    if tracking_option is not None:
        if tracking_option.category.organisation_id != organisation.pk:
            raise ConsoleError(f"{tracking_option} is not a tracking option of {organisation}.")
        invoice.tracking_options.add(tracking_option)
    if send_webhook:
        xero_events_send(
            organisation=organisation, events=[Event("INVOICE", "CREATE", invoice.invoice_id)]
        )
    return invoice


def _invoice_update(invoice: Invoice, extra: list[Event] = ()) -> None:
    _touch(invoice)
    invoice.save()
    xero_events_send(
        organisation=invoice.organisation,
        events=[*extra, Event("INVOICE", "UPDATE", invoice.invoice_id)],
    )


@transaction.atomic
def invoice_approve(*, invoice: Invoice) -> Invoice:
    if invoice.status not in (Invoice.Status.DRAFT, Invoice.Status.SUBMITTED):
        raise ConsoleError(f"{invoice} is {invoice.status}: only drafts can be approved.")
    invoice.status = Invoice.Status.AUTHORISED
    _invoice_update(invoice)
    return invoice


@transaction.atomic
def payment_record(
    *, invoice: Invoice, amount: Decimal, paid_on: date | None = None, send_webhook: bool = True
) -> Payment:
    if invoice.status != Invoice.Status.AUTHORISED:
        raise ConsoleError(f"{invoice} is {invoice.status}: only approved invoices take payments.")
    if not Decimal("0") < amount <= invoice.amount_due:
        raise ConsoleError(f"A payment must be between 0 and {invoice.amount_due}.")
    paid_on = paid_on or timezone.now().date()
    payment = Payment.objects.create(
        organisation=invoice.organisation,
        invoice=invoice,
        amount=amount,
        date=paid_on,
        reference=f"Payment for {invoice.invoice_number}",
    )
    invoice.amount_paid += amount
    if invoice.amount_due == 0:
        invoice.status = Invoice.Status.PAID
        invoice.fully_paid_on = paid_on
    if send_webhook:
        _invoice_update(invoice)
    else:
        invoice.save()
    return payment


@transaction.atomic
def invoice_void(*, invoice: Invoice) -> Invoice:
    if invoice.payments.exists() or invoice.status not in (
        Invoice.Status.DRAFT,
        Invoice.Status.SUBMITTED,
        Invoice.Status.AUTHORISED,
    ):
        raise ConsoleError(f"{invoice} cannot be voided: it is {invoice.status} or has payments.")
    invoice.status = (
        Invoice.Status.DELETED if invoice.status == Invoice.Status.DRAFT else Invoice.Status.VOIDED
    )
    _invoice_update(invoice)
    return invoice


@transaction.atomic
def credit_note_add(*, invoice: Invoice, amount: Decimal) -> CreditNote:
    """An authorised sales credit note allocated to the invoice (lowering its AmountDue)."""
    if invoice.status != Invoice.Status.AUTHORISED:
        raise ConsoleError(f"{invoice} is {invoice.status}: credit approved invoices only.")
    if not Decimal("0") < amount <= invoice.amount_due:
        raise ConsoleError(f"A credit note must be between 0 and {invoice.amount_due}.")
    note = CreditNote.objects.create(
        organisation=invoice.organisation,
        credit_note_number=_next_number(invoice.organisation, "CN-", CreditNote),
        contact=invoice.contact,
        invoice=invoice,
        total=amount,
        date=timezone.now().date(),
        reference=f"Credit for {invoice.invoice_number}",
    )
    invoice.amount_credited += amount
    if invoice.amount_due == 0:
        invoice.status = Invoice.Status.PAID
        invoice.fully_paid_on = note.date
    # Credit note events carry data {Type, Status} (FACTS.md, specs/xero/xero-webhooks.yaml).
    created = Event(
        "CREDITNOTE", "CREATE", note.credit_note_id, {"Type": note.type, "Status": note.status}
    )
    _invoice_update(invoice, extra=[created])
    return note


@transaction.atomic
def contact_update(
    *,
    contact: Contact,
    name: str,
    email: str,
    phones: list[dict],
    groups: list[ContactGroup],
    unreachable: bool,
    addresses: list[dict] | None = None,
) -> Contact:
    contact.name = name
    contact.first_name, _, contact.last_name = name.partition(" ")
    contact.email = email
    contact.phones = phones
    if addresses is not None:
        contact.addresses = addresses
    contact.unreachable = unreachable
    _touch(contact)
    contact.save()
    contact.groups.set(groups)
    xero_events_send(
        organisation=contact.organisation,
        events=[Event("CONTACT", "UPDATE", contact.contact_id)],
    )
    return contact
