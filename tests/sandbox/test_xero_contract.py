"""Contract tests: the sandbox's answers validate against Xero's own OpenAPI specs, so the
sandbox cannot drift from Xero (specs/xero/, loaded leniently as FACTS.md advises)."""

import json
from decimal import Decimal

import pytest
import responses

from sandbox import console
from sandbox.models import Invoice
from tests.sandbox.conftest import API, deliver
from tests.sandbox.specs import assert_matches

ACCOUNTING = "xero_accounting.yaml"


@pytest.fixture
def busy_organisation(organisations):
    """An organisation with a credit note and payments, so every list has rows."""
    invoice = Invoice.objects.get(organisation=organisations[0], invoice_number="INV-0001")
    console.credit_note_add(invoice=invoice, amount=Decimal("10.00"))
    console.payment_record(invoice=invoice, amount=Decimal("20.00"))
    return organisations[0]


@pytest.mark.parametrize(
    ("path", "schema", "key"),
    [
        ("Invoices", "Invoices", "Invoices"),
        ("Invoices?page=1", "Invoices", "Invoices"),
        ("Contacts", "Contacts", "Contacts"),
        ("ContactGroups", "ContactGroups", "ContactGroups"),
        ("TrackingCategories?includeArchived=true", "TrackingCategories", "TrackingCategories"),
        ("CreditNotes", "CreditNotes", "CreditNotes"),
        ("Payments", "Payments", "Payments"),
        ("Organisation", "Organisations", "Organisations"),
        ("InvoiceReminders/Settings", "InvoiceReminders", "InvoiceReminders"),
    ],
)
def test_each_list_endpoint_matches_the_accounting_spec(
    xero_get, busy_organisation, path, schema, key
):
    answer = xero_get(path).json()
    assert answer[key], f"{path} returned no rows to check"
    assert_matches(ACCOUNTING, schema, answer)


def test_a_single_invoice_and_its_online_invoice_match_the_spec(xero_get, busy_organisation):
    invoice = Invoice.objects.get(organisation=busy_organisation, invoice_number="INV-0001")
    assert_matches(ACCOUNTING, "Invoices", xero_get(f"Invoices/{invoice.invoice_id}").json())
    online = xero_get(f"Invoices/{invoice.invoice_id}/OnlineInvoice").json()
    assert_matches(ACCOUNTING, "OnlineInvoices", online)


def test_errors_match_the_spec(xero_get):
    assert_matches(ACCOUNTING, "Error", xero_get('Invoices?where=Colour=="red"').json())


def test_connections_match_the_identity_spec(client, tokens):
    answer = client.get(
        f"{API}/connections", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    ).json()
    for connection in answer:
        assert_matches("xero-identity.yaml", "Connection", connection)


def test_tokens_match_the_identity_spec(tokens):
    assert_matches("xero-identity.yaml", "AccessToken", tokens)


@responses.activate
def test_webhook_payloads_match_the_webhooks_spec(organisations):
    responses.post("http://dunwell.test/webhooks/xero/", status=200)
    invoice = Invoice.objects.get(organisation=organisations[0], invoice_number="INV-0001")
    console.credit_note_add(invoice=invoice, amount=Decimal("1.00"))
    deliver()
    payload = json.loads(responses.calls[0].request.body)
    assert_matches("xero-webhooks.yaml", "WebhookEvent", payload)
    # One delivery may mix categories; the credit-note schema describes its own events only.
    credit_notes = [e for e in payload["events"] if e["eventCategory"] == "CREDITNOTE"]
    assert credit_notes
    only_credit_notes = {**payload, "events": credit_notes}
    assert_matches("xero-webhooks.yaml", "CreditNoteWebhookEvent", only_credit_notes)


def test_the_lenient_schemas_still_reject_a_drifted_answer():
    from tests.sandbox.specs import validator

    drifted = {"Invoices": [{"Status": "OVERDUE", "Total": "485.00"}]}
    assert len(list(validator(ACCOUNTING, "Invoices").iter_errors(drifted))) == 2
