"""Console clicks reach Dunwell as Xero would send them: batched, sequenced, signed."""

import base64
import hashlib
import hmac
import json
from decimal import Decimal

import pytest
import responses

from sandbox.models import Contact, Invoice, OutboundHook
from sandbox.selectors import intent_to_receive_result
from tests.sandbox.conftest import WEBHOOK_KEY, deliver

WEBHOOK_URL = "http://dunwell.test/webhooks/xero/"


def _signed_correctly(request) -> bool:
    expected = base64.b64encode(
        hmac.new(WEBHOOK_KEY.encode(), request.body, hashlib.sha256).digest()
    ).decode()
    return hmac.compare_digest(expected, request.headers["x-xero-signature"])


@pytest.fixture
def receiver():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.post(WEBHOOK_URL, status=200)
        yield mock


def _payloads(receiver) -> list[dict]:
    deliver()
    return [json.loads(call.request.body) for call in receiver.calls]


def _invoice(organisations, number="INV-0001") -> Invoice:
    return Invoice.objects.get(organisation=organisations[0], invoice_number=number)


def test_creating_an_invoice_sends_a_signed_invoice_create(client, organisations, receiver):
    contact = Contact.objects.get(name="Aroha Ngata")
    response = client.post(
        "/sandbox/xero/invoices/",
        {"contact": contact.pk, "total": "120.00", "due_in_days": "7", "description": "Bread"},
    )
    assert response.status_code == 302
    [payload] = _payloads(receiver)
    assert _signed_correctly(receiver.calls[0].request)
    [event] = payload["events"]
    invoice = Invoice.objects.get(organisation=organisations[0], status="DRAFT", total=120)
    assert event == {
        "resourceUrl": f"http://dunwell.test/sandbox/xero/api/api.xro/2.0/Invoices/{invoice.invoice_id}",
        "resourceId": str(invoice.invoice_id),
        "tenantId": str(organisations[0].tenant_id),
        "tenantType": "ORGANISATION",
        "eventCategory": "INVOICE",
        "eventType": "CREATE",
        "eventDateUtc": event["eventDateUtc"],
    }
    assert payload["firstEventSequence"] == payload["lastEventSequence"]
    assert len(payload["entropy"]) == 20


def test_approve_pay_and_void_each_send_an_invoice_update(client, organisations, receiver):
    draft = _invoice(organisations, "INV-0004")
    approved = _invoice(organisations, "INV-0001")
    client.post(f"/sandbox/xero/invoices/{draft.invoice_id}/approve/")
    client.post(f"/sandbox/xero/invoices/{approved.invoice_id}/pay/", {"amount": "85.00"})
    client.post(f"/sandbox/xero/invoices/{draft.invoice_id}/void/")
    payloads = _payloads(receiver)
    assert [(p["events"][0]["eventType"], p["events"][0]["resourceId"]) for p in payloads] == [
        ("UPDATE", str(draft.invoice_id)),
        ("UPDATE", str(approved.invoice_id)),
        ("UPDATE", str(draft.invoice_id)),
    ]
    sequences = [p["firstEventSequence"] for p in payloads]
    assert sequences == sorted(sequences) and len(set(sequences)) == 3
    approved.refresh_from_db()
    assert approved.amount_due == Decimal("400.00")
    assert approved.payments.get().amount == Decimal("85.00")
    draft.refresh_from_db()
    assert draft.status == "VOIDED"


def test_a_full_payment_marks_the_invoice_paid(client, organisations, receiver):
    invoice = _invoice(organisations)
    client.post(f"/sandbox/xero/invoices/{invoice.invoice_id}/pay/")
    invoice.refresh_from_db()
    assert invoice.status == "PAID" and invoice.fully_paid_on is not None


def test_a_credit_note_sends_creditnote_create_with_data_and_the_invoice_update(
    client, organisations, receiver
):
    invoice = _invoice(organisations)
    client.post(f"/sandbox/xero/invoices/{invoice.invoice_id}/credit/", {"amount": "10.00"})
    [payload] = _payloads(receiver)
    categories = [(e["eventCategory"], e["eventType"]) for e in payload["events"]]
    assert categories == [("CREDITNOTE", "CREATE"), ("INVOICE", "UPDATE")]
    assert payload["events"][0]["data"] == {"Type": "ACCRECCREDIT", "Status": "AUTHORISED"}
    assert payload["lastEventSequence"] == payload["firstEventSequence"] + 1


def test_a_refused_action_sends_nothing(client, organisations, receiver):
    paid = _invoice(organisations, "INV-0003")
    response = client.post(f"/sandbox/xero/invoices/{paid.invoice_id}/approve/", follow=True)
    assert b"only drafts can be approved" in response.content
    assert _payloads(receiver) == []


def test_editing_a_contact_sends_contact_update(client, organisations, receiver):
    contact = Contact.objects.get(name="Ben Carter")
    page = client.get(f"/sandbox/xero/contacts/{contact.contact_id}/")
    assert b"021 555 0102" in page.content
    client.post(
        f"/sandbox/xero/contacts/{contact.contact_id}/",
        {"name": "Ben Carter", "mobile_number": "+64 21 555 0199", "unreachable": "on"},
    )
    [payload] = _payloads(receiver)
    assert payload["events"][0]["eventCategory"] == "CONTACT"
    contact.refresh_from_db()
    assert contact.unreachable
    assert contact.phones == [
        {
            "PhoneType": "MOBILE",
            "PhoneNumber": "+64 21 555 0199",
            "PhoneAreaCode": "",
            "PhoneCountryCode": "",
        }
    ]


def test_a_failed_delivery_is_retried_later(organisations):
    from sandbox.console import invoice_approve

    with responses.RequestsMock() as mock:
        mock.post(WEBHOOK_URL, status=503)
        invoice_approve(invoice=_invoice(organisations, "INV-0004"))
        deliver()
    hook = OutboundHook.objects.get(kind=OutboundHook.Kind.XERO_EVENTS)
    assert (hook.status, hook.attempts, hook.last_error) == ("pending", 1, "HTTP 503")
    assert hook.next_attempt_at > hook.created_at


def _honest_receiver(request):
    """A correct Dunwell: 200 for a good signature, 401 for a bad one, empty body."""
    return (200 if _signed_correctly(request) else 401, {}, "")


def test_the_intent_to_receive_handshake_passes_against_a_correct_receiver(client, db):
    with responses.RequestsMock() as mock:
        mock.add_callback(responses.POST, WEBHOOK_URL, callback=_honest_receiver)
        client.post("/sandbox/xero/intent-to-receive/")
        deliver()
        bodies = [json.loads(call.request.body) for call in mock.calls]
    assert len(bodies) == 4
    assert all(body["events"] == [] and body["firstEventSequence"] == 0 for body in bodies)
    result = intent_to_receive_result()
    assert result["finished"] and result["passed"]
    assert b"Passed" in client.get("/sandbox/").content


def test_the_handshake_fails_a_receiver_that_accepts_everything(client, db):
    with responses.RequestsMock() as mock:
        mock.post(WEBHOOK_URL, status=200)
        client.post("/sandbox/xero/intent-to-receive/")
        deliver()
    assert not intent_to_receive_result()["passed"]
    assert b"Failed" in client.get("/sandbox/").content


def test_the_console_lists_organisations_contacts_and_invoices(client, organisations):
    page = client.get("/sandbox/").content.decode()
    for text in ("Kauri Bakery Ltd", "Wattle Catering Pty Ltd", "Fern Harris", "INV-0002"):
        assert text in page
    assert "Retail" in page and "Corporate" in page


def test_an_invoice_takes_a_tracking_option_of_its_own_organisation_only(
    client, organisations, receiver
):
    from sandbox.models import TrackingOption

    contact = Contact.objects.get(name="Aroha Ngata")
    south = TrackingOption.objects.get(name="South")
    sydney = TrackingOption.objects.get(name="Sydney")  # Wattle Catering's
    form = {"contact": contact.pk, "total": "50.00", "due_in_days": "7", "description": "Pies"}
    client.post("/sandbox/xero/invoices/", {**form, "tracking_option": south.pk})
    refused = client.post(
        "/sandbox/xero/invoices/", {**form, "tracking_option": sydney.pk}, follow=True
    )
    assert b"is not a tracking option of Kauri Bakery Ltd" in refused.content
    [invoice] = Invoice.objects.filter(contact=contact, description="Pies")
    assert list(invoice.tracking_options.all()) == [south]


def test_editing_a_contacts_street_address_keeps_its_po_box(client, organisations, receiver):
    contact = Contact.objects.get(name="Dev Patel Ltd")  # has a POBOX address
    client.post(
        f"/sandbox/xero/contacts/{contact.contact_id}/",
        {"name": "Dev Patel Ltd", "street_city": "Perth", "street_region": "WA",
         "street_country": "Australia"},
    )  # fmt: skip
    contact.refresh_from_db()
    assert [(a["AddressType"], a["City"]) for a in contact.addresses] == [
        ("STREET", "Perth"), ("POBOX", "Wellington"),
    ]  # fmt: skip
