"""One tenant, three organisations (NZ, AU, UK): each customer's number is read in their own
country, every text and reply names their organisation, and money reads right to them."""

import copy
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from twilio.request_validator import RequestValidator

from billing_events.tasks import events_process_task
from messaging.models import Message
from snapshots.models import ContactSnapshot, InvoiceSnapshot
from tests.billing_events.helpers import api_json, for_organisation, mock_xero, post_xero_webhook
from tests.orgs import TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM

pytestmark = pytest.mark.django_db

INBOUND_URL = "/webhooks/twilio/inbound/"
TWILIO_FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "twilio"
# 2 December 2026, 14:00 in Auckland, 12:00 in Sydney, 01:00 in London: the UK is asleep.
AFTERNOON_DOWN_UNDER = datetime(2026, 12, 2, 1, 0, tzinfo=UTC)


def _invoice_payload(*, contact_id: str, currency: str, number: str = "INV-0007") -> dict:
    """A new AUTHORISED invoice for this contact, as GET /Invoices returns it."""
    payload = copy.deepcopy(api_json("invoices__authorised"))
    invoice = payload["Invoices"][0]
    invoice["Contact"]["ContactID"] = contact_id
    invoice.update(InvoiceNumber=number, CurrencyCode=currency, AmountDue=410.0, Total=410.0)
    return payload


def _issue(client, xero_api, org, *, contact: dict, currency: str) -> Message:
    """Xero announces an invoice of `org` for `contact`; Dunwell fetches it and texts."""
    xero_api.upsert(
        "GET",
        "https://api.xero.com/api.xro/2.0/Contacts",
        json={"Contacts": [contact]},
    )
    xero_api.upsert(
        "GET",
        "https://api.xero.com/api.xro/2.0/Invoices",
        json=_invoice_payload(contact_id=contact["ContactID"], currency=currency),
    )
    body = for_organisation("invoice_update__single", org.xero_tenant_id)
    assert post_xero_webhook(client, "invoice_update__single", body=body).status_code == 200
    events_process_task(org.xero_tenant_id)
    return Message.objects.get(channel="sms", kind="invoice_issued")


@pytest.mark.parametrize(
    ("key", "amount"), [("nz", "$410.00"), ("au", "$410.00"), ("uk", "£410.00")]
)
def test_a_national_number_is_texted_in_its_organisations_country_and_names_it(
    client, xero_api, three_org_tenant, key, amount
):
    org = getattr(three_org_tenant, key)
    mock_xero(xero_api)
    message = _issue(client, xero_api, org, contact=org.xero_contact, currency=org.currency)

    assert message.recipient == org.e164  # e.g. 0412 555 107 at the AU organisation
    assert message.status in ("pending", "scheduled")
    assert org.name in message.body
    assert "Tasman Trading Group" not in message.body  # the tenant's name is for staff
    assert f"for {amount}," in message.body  # the reader's own currency: no code needed
    # The same reading places the contact for phone-country segments.
    snapshot = ContactSnapshot.objects.get(contact_id=org.contact_id)
    assert (snapshot.country, snapshot.country_source) == (org.country, "phone")


def test_a_contact_with_a_british_street_address_in_a_nz_organisation_is_texted_as_british(
    client, xero_api, three_org_tenant
):
    nz = three_org_tenant.nz
    in_gb = ContactSnapshot.objects.get(contact_id=three_org_tenant.nz_customer_in_gb)
    record = {
        "ContactID": in_gb.contact_id,
        "Name": in_gb.name,
        "Phones": in_gb.phones,
        "Addresses": [{"AddressType": "STREET", "Country": "United Kingdom"}],
    }
    mock_xero(xero_api)
    message = _issue(client, xero_api, nz, contact=record, currency="NZD")

    assert message.recipient == "+447400654321"  # not +64 7400 654321
    # An NZD invoice read in the UK names its currency.
    assert "for NZD 410.00," in message.body


def test_an_nzd_invoice_texted_to_an_australian_says_which_dollars(
    client, xero_api, three_org_tenant
):
    au = three_org_tenant.au
    mock_xero(xero_api)
    message = _issue(client, xero_api, au, contact=au.xero_contact, currency="NZD")

    assert message.recipient == "+61412555107"
    assert "for NZD 410.00," in message.body


def test_quiet_hours_of_a_number_spanning_time_zones_follow_its_organisations_zone(
    client, xero_api, three_org_tenant
):
    """+61 4… mobiles span Perth to Sydney; the AU organisation's zone decides, not the
    tenant's Auckland (at 07:30 in Sydney it is 09:30 in Auckland)."""
    au = three_org_tenant.au
    mock_xero(xero_api)
    with time_machine.travel(datetime(2026, 12, 1, 20, 30, tzinfo=UTC), tick=False):
        message = _issue(client, xero_api, au, contact=au.xero_contact, currency="AUD")

    assert message.status == "scheduled"
    assert message.send_after == datetime(2026, 12, 1, 21, 0, tzinfo=UTC)  # 08:00 in Sydney


def _text_in(client, *, sender: str, body: str, sid: str = "SM" + "7" * 32) -> str:
    params = json.loads((TWILIO_FIXTURES / "inbound__sms.json").read_text())
    params.update(
        Body=body,
        From=sender,
        To=TWILIO_FROM,
        AccountSid=TWILIO_ACCOUNT_SID,
        MessageSid=sid,
        SmsSid=sid,
        SmsMessageSid=sid,
    )
    signature = RequestValidator(TWILIO_AUTH_TOKEN).compute_signature(
        settings.PUBLIC_BASE_URL + INBOUND_URL, params
    )
    response = client.post(INBOUND_URL, params, HTTP_X_TWILIO_SIGNATURE=signature)
    assert response.status_code == 200
    return response.content.decode()


def test_a_paid_reply_finds_the_senders_own_inv_0001_among_three_and_names_its_organisation(
    client, three_org_tenant
):
    au = three_org_tenant.au
    with time_machine.travel(AFTERNOON_DOWN_UNDER, tick=False):
        said = _text_in(client, sender=au.e164, body="PAID INV-0001")

    invoice = InvoiceSnapshot.objects.get(invoice_id=au.invoice_id)
    assert f"/pay/{invoice.pay_token}/" in said
    assert "Invoice INV-0001 from Banksia Catering Pty Ltd ($410.00 due)" in said
    assert "Tasman" not in said


def test_help_from_a_known_customer_names_their_organisation_and_its_signature(
    client, three_org_tenant
):
    uk = three_org_tenant.uk
    uk.connection.customer_name = "Bramble & Co"
    uk.connection.reply_signature = "Bramble accounts, 020 7946 0000"
    uk.connection.save()

    said = _text_in(client, sender=uk.e164, body="HELP")

    assert "Bramble &amp; Co: reply PAID" in said  # TwiML is XML
    assert "- Bramble accounts, 020 7946 0000" in said
    assert "Tasman" not in said


def test_an_unknown_sender_on_a_number_shared_by_three_organisations_gets_a_neutral_reply(
    client, three_org_tenant
):
    said = _text_in(client, sender="+64275550000", body="PAID INV-0001")

    assert "couldn't find invoice INV-0001" in said
    assert "- Accounts team" in said
    for name in ("Harakeke", "Banksia", "Bramble", "Tasman"):
        assert name not in said


def test_the_pay_page_is_branded_with_the_invoices_organisation_not_dunwell(
    client, three_org_tenant
):
    au = three_org_tenant.au
    au.connection.customer_name = "Banksia Catering"
    au.connection.save()
    invoice = InvoiceSnapshot.objects.get(invoice_id=au.invoice_id)
    invoice.status, invoice.pay_token = "PAID", "Tok3nForBanksia1"
    invoice.save()

    page = client.get("/pay/Tok3nForBanksia1/").content.decode()

    assert '<span class="brand">Banksia Catering</span>' in page
    assert "This invoice from Banksia Catering is paid." in page
    for not_for_customers in ("Dunwell", "Tasman", "Harakeke", "Log out"):
        assert not_for_customers not in page
