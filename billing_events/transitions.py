"""What changed, decided from (previous snapshot, record fetched from Xero) — pure functions.

Nothing here reads the database or calls anything: given what Dunwell last saw and what Xero
says now, they return the snapshot's new field values and the notifications due. A webhook's
event type is never trusted (FACTS.md "Xero: webhooks": metadata only, at-least-once, out of
order), only the fetched record compared with the snapshot.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from connections.xero_format import parse_money
from snapshots.fields import (
    contact_fields,
    credit_note_fields,
    invoice_fields,
    is_stale,
    xero_day,
)

SALES_INVOICE = "ACCREC"
SALES_CREDIT_NOTE = "ACCRECCREDIT"
# There is no OVERDUE status (FACTS.md "Xero: accounting API"); these end an invoice's life.
CLOSED_STATUSES = frozenset({"PAID", "VOIDED", "DELETED"})
# A credit note allocated at once goes straight to PAID: it was issued all the same.
ISSUED_CREDIT_NOTE_STATUSES = frozenset({"AUTHORISED", "PAID"})


@dataclass(frozen=True)
class Notification:
    kind: str
    dedup_key: str
    contact_id: str
    context: dict
    invoice_id: str = ""


@dataclass(frozen=True)
class Outcome:
    """`fields` is None when the fetched record is older than the snapshot: nothing changes."""

    fields: dict | None
    notifications: tuple[Notification, ...] = ()
    cancel_reminders: bool = False
    issued: bool = False

    @property
    def stale(self) -> bool:
        return self.fields is None


STALE = Outcome(fields=None)


def _is_past(moment: date | None, notify_since: date | None) -> bool:
    """Before the organisation was imported: remembered, never announced."""
    return bool(notify_since and moment and moment < notify_since)


def _invoice_context(fields: dict) -> dict:
    return {
        "invoice_number": fields["number"],
        "reference": fields["reference"],
        "total": fields["total"],
        "amount_due": fields["amount_due"],
        "amount_paid": fields["amount_paid"],
        "currency": fields["currency"],
        "due_date": fields["due_date"],
    }


def invoice_transitions(*, previous, xero_invoice: dict, notify_since: date | None) -> Outcome:
    """`previous` is the InvoiceSnapshot (or None); `notify_since` the import date, if any."""
    fields = invoice_fields(xero_invoice)
    if is_stale(previous, fields["updated_date_utc"]):
        return STALE
    invoice_id = xero_invoice["InvoiceID"]
    seen = list(previous.payment_ids) if previous else []
    live_payments = [
        payment
        for payment in xero_invoice.get("Payments") or []
        if payment.get("PaymentID") and payment.get("Status", "AUTHORISED") != "DELETED"
    ]
    new_payments = [payment for payment in live_payments if payment["PaymentID"] not in seen]
    fields["payment_ids"] = seen + [payment["PaymentID"] for payment in new_payments]

    if fields["type"] != SALES_INVOICE:
        # Bills (ACCPAY) are tracked but never announced to anyone.
        return Outcome(fields=fields)

    previous_status = previous.status if previous else None
    context = _invoice_context(fields)
    contact_id = fields["contact_id"]
    notifications = []
    issued = fields["status"] == "AUTHORISED" and previous_status not in {"AUTHORISED", "PAID"}
    if issued:
        notifications.append(
            Notification(
                kind="invoice_issued",
                dedup_key=f"invoice:{invoice_id}:issued",
                contact_id=contact_id,
                context=context,
                invoice_id=invoice_id,
            )
        )
    fully_paid = fields["status"] == "PAID" or (
        fields["amount_due"] == Decimal(0) and fields["total"] > 0
    )
    for payment in new_payments:
        if _is_past(xero_day(payment.get("Date")), notify_since):
            continue
        notifications.append(
            Notification(
                kind="payment_received",
                dedup_key=f"payment:{payment['PaymentID']}:receipt",
                contact_id=contact_id,
                context={
                    **context,
                    "payment_amount": parse_money(payment.get("Amount")),
                    "fully_paid": fully_paid,
                },
                invoice_id=invoice_id,
            )
        )
    cancel = fields["status"] in CLOSED_STATUSES and previous_status != fields["status"]
    return Outcome(
        fields=fields,
        notifications=tuple(notifications),
        cancel_reminders=cancel,
        issued=issued,
    )


def credit_note_transitions(
    *, previous, xero_credit_note: dict, notify_since: date | None
) -> Outcome:
    fields = credit_note_fields(xero_credit_note)
    if is_stale(previous, fields["updated_date_utc"]):
        return STALE
    previous_status = previous.status if previous else None
    issued = (
        fields["type"] == SALES_CREDIT_NOTE
        and fields["status"] in ISSUED_CREDIT_NOTE_STATUSES
        and previous_status not in ISSUED_CREDIT_NOTE_STATUSES
        and not _is_past(xero_day(xero_credit_note.get("Date")), notify_since)
    )
    if not issued:
        return Outcome(fields=fields)
    credit_note_id = xero_credit_note["CreditNoteID"]
    notification = Notification(
        kind="credit_note_issued",
        dedup_key=f"creditnote:{credit_note_id}:issued",
        contact_id=fields["contact_id"],
        context={
            "credit_note_number": fields["number"],
            "reference": fields["reference"],
            "total": fields["total"],
            "currency": fields["currency"],
        },
    )
    return Outcome(fields=fields, notifications=(notification,), issued=True)


def contact_transitions(
    *, previous, xero_contact: dict, organisation_country: str = "", tenant_country: str = ""
) -> Outcome:
    fields = contact_fields(
        xero_contact, organisation_country=organisation_country, tenant_country=tenant_country
    )
    return STALE if is_stale(previous, fields["updated_date_utc"]) else Outcome(fields=fields)
