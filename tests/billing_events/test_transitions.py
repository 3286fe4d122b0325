"""The decisions alone: previous snapshot + record fetched from Xero → what to announce."""

import copy
from datetime import date
from decimal import Decimal

from billing_events.transitions import (
    contact_transitions,
    credit_note_transitions,
    invoice_transitions,
)
from snapshots.fields import credit_note_fields, invoice_fields
from snapshots.models import ContactSnapshot, CreditNoteSnapshot, InvoiceSnapshot
from tests.billing_events.helpers import (
    CONTACT_ID,
    CREDIT_NOTE_ID,
    FIRST_PAYMENT_ID,
    INVOICE_ID,
    SECOND_PAYMENT_ID,
    api_json,
)


def _invoice(name: str) -> dict:
    return api_json(name)["Invoices"][0]


def _snapshot(name: str) -> InvoiceSnapshot:
    """The snapshot Dunwell would hold after seeing this fixture."""
    xero_invoice = _invoice(name)
    outcome = invoice_transitions(previous=None, xero_invoice=xero_invoice, notify_since=None)
    return InvoiceSnapshot(invoice_id=xero_invoice["InvoiceID"], **outcome.fields)


def _kinds(outcome) -> list[tuple[str, str]]:
    return [(n.kind, n.dedup_key) for n in outcome.notifications]


def test_a_sales_invoice_first_seen_authorised_is_issued():
    outcome = invoice_transitions(
        previous=None, xero_invoice=_invoice("invoices__authorised"), notify_since=None
    )
    assert _kinds(outcome) == [("invoice_issued", f"invoice:{INVOICE_ID}:issued")]
    notification = outcome.notifications[0]
    assert notification.contact_id == CONTACT_ID
    assert notification.invoice_id == INVOICE_ID
    assert notification.context["invoice_number"] == "INV-0142"
    assert notification.context["amount_due"] == Decimal("485.00")
    assert notification.context["currency"] == "NZD"
    assert notification.context["due_date"] == date(2026, 11, 16)


def test_an_invoice_already_seen_authorised_is_not_issued_again():
    outcome = invoice_transitions(
        previous=_snapshot("invoices__authorised"),
        xero_invoice=_invoice("invoices__authorised"),
        notify_since=None,
    )
    assert outcome.notifications == ()
    assert not outcome.stale


def test_a_draft_that_is_approved_later_is_issued_then():
    draft = _invoice("invoices__draft")
    assert (
        invoice_transitions(previous=None, xero_invoice=draft, notify_since=None).notifications
        == ()
    )
    approved = copy.deepcopy(draft)
    approved["Status"] = "AUTHORISED"
    approved["UpdatedDateUTC"] = "/Date(1793700000000+0000)/"
    previous = InvoiceSnapshot(
        invoice_id=draft["InvoiceID"], **invoice_fields(draft), payment_ids=[]
    )
    outcome = invoice_transitions(previous=previous, xero_invoice=approved, notify_since=None)
    assert [n.kind for n in outcome.notifications] == ["invoice_issued"]


def test_bills_never_notify_even_when_paid():
    outcome = invoice_transitions(
        previous=None, xero_invoice=_invoice("invoices__bill_paid"), notify_since=None
    )
    assert outcome.notifications == ()
    assert not outcome.cancel_reminders
    assert outcome.fields["payment_ids"] == [FIRST_PAYMENT_ID]


def test_a_new_payment_sends_a_receipt_for_that_payments_amount():
    outcome = invoice_transitions(
        previous=_snapshot("invoices__authorised"),
        xero_invoice=_invoice("invoices__paid_partial"),
        notify_since=None,
    )
    assert _kinds(outcome) == [("payment_received", f"payment:{FIRST_PAYMENT_ID}:receipt")]
    context = outcome.notifications[0].context
    assert context["payment_amount"] == Decimal("200.00")
    assert context["amount_due"] == Decimal("285.00")
    assert context["fully_paid"] is False
    assert not outcome.cancel_reminders


def test_the_payment_that_settles_the_invoice_says_fully_paid_and_cancels_reminders():
    outcome = invoice_transitions(
        previous=_snapshot("invoices__payment_deleted"),
        xero_invoice=_invoice("invoices__paid_full"),
        notify_since=None,
    )
    assert _kinds(outcome) == [("payment_received", f"payment:{SECOND_PAYMENT_ID}:receipt")]
    assert outcome.notifications[0].context["fully_paid"] is True
    assert outcome.notifications[0].context["payment_amount"] == Decimal("285.00")
    assert outcome.cancel_reminders


def test_a_deleted_payment_is_remembered_and_never_announced_twice():
    partly_paid = _snapshot("invoices__paid_partial")
    after_delete = invoice_transitions(
        previous=partly_paid,
        xero_invoice=_invoice("invoices__payment_deleted"),
        notify_since=None,
    )
    assert after_delete.notifications == ()
    assert after_delete.fields["payment_ids"] == [FIRST_PAYMENT_ID]

    remembered = InvoiceSnapshot(invoice_id=INVOICE_ID, **after_delete.fields)
    relisted = copy.deepcopy(_invoice("invoices__paid_partial"))
    relisted["UpdatedDateUTC"] = "/Date(1793970000000+0000)/"
    outcome = invoice_transitions(previous=remembered, xero_invoice=relisted, notify_since=None)
    assert outcome.notifications == ()


def test_a_payment_marked_deleted_in_the_list_is_not_a_payment():
    xero_invoice = copy.deepcopy(_invoice("invoices__paid_partial"))
    xero_invoice["Payments"][0]["Status"] = "DELETED"
    outcome = invoice_transitions(
        previous=_snapshot("invoices__authorised"), xero_invoice=xero_invoice, notify_since=None
    )
    assert outcome.notifications == ()


def test_payments_dated_before_the_import_are_remembered_silently():
    outcome = invoice_transitions(
        previous=None,
        xero_invoice=_invoice("invoices__paid_partial"),
        notify_since=date(2026, 11, 10),
    )
    assert [n.kind for n in outcome.notifications] == ["invoice_issued"]
    assert outcome.fields["payment_ids"] == [FIRST_PAYMENT_ID]


def test_a_voided_invoice_cancels_reminders_and_announces_nothing():
    outcome = invoice_transitions(
        previous=_snapshot("invoices__authorised"),
        xero_invoice=_invoice("invoices__voided"),
        notify_since=None,
    )
    assert outcome.cancel_reminders
    assert outcome.notifications == ()


def test_a_stale_record_changes_nothing():
    newer = _snapshot("invoices__paid_full")
    outcome = invoice_transitions(
        previous=newer, xero_invoice=_invoice("invoices__paid_partial"), notify_since=None
    )
    assert outcome.stale
    assert outcome.notifications == ()
    assert not outcome.cancel_reminders


def test_a_sales_credit_note_reaching_authorised_is_issued_once():
    xero_credit_note = api_json("creditnotes__authorised")["CreditNotes"][0]
    outcome = credit_note_transitions(
        previous=None, xero_credit_note=xero_credit_note, notify_since=None
    )
    assert _kinds(outcome) == [("credit_note_issued", f"creditnote:{CREDIT_NOTE_ID}:issued")]
    assert outcome.notifications[0].context["credit_note_number"] == "CN-0007"
    assert outcome.notifications[0].context["total"] == Decimal("100.00")

    previous = CreditNoteSnapshot(credit_note_id=CREDIT_NOTE_ID, **outcome.fields)
    again = credit_note_transitions(
        previous=previous, xero_credit_note=xero_credit_note, notify_since=None
    )
    assert again.notifications == ()


def test_supplier_credit_notes_and_drafts_never_notify():
    xero_credit_note = api_json("creditnotes__draft_bill")["CreditNotes"][0]
    assert credit_note_fields(xero_credit_note)["type"] == "ACCPAYCREDIT"
    outcome = credit_note_transitions(
        previous=None, xero_credit_note=xero_credit_note, notify_since=None
    )
    assert outcome.notifications == ()
    authorised_bill_credit = {**xero_credit_note, "Status": "AUTHORISED"}
    outcome = credit_note_transitions(
        previous=None, xero_credit_note=authorised_bill_credit, notify_since=None
    )
    assert outcome.notifications == ()


def test_a_contact_keeps_its_phones_groups_and_email():
    xero_contact = api_json("contacts__mobile")["Contacts"][0]
    fields = contact_transitions(previous=None, xero_contact=xero_contact).fields
    assert fields["name"] == "Ruapehu Motors"
    assert fields["first_name"] == "Aroha"
    assert fields["email"] == "aroha@ruapehu-motors.example"
    assert {
        "PhoneType": "MOBILE",
        "PhoneNumber": "555 0199",
        "PhoneAreaCode": "021",
        "PhoneCountryCode": "64",
    } in fields["phones"]
    assert fields["group_names"] == ["Trade customers"]
    assert fields["archived"] is False
    newer = ContactSnapshot(contact_id=CONTACT_ID, **fields)
    newer.updated_date_utc = newer.updated_date_utc.replace(year=2027)
    assert contact_transitions(previous=newer, xero_contact=xero_contact).stale
