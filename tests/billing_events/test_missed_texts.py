"""Contacts that need a phone: the list follows Xero's contact, and what they missed goes once.

A Banksia (AU) customer's mobile is broken in Xero when their invoice is approved; staff fix it
in Xero; the CONTACT webhook takes them off the list and offers the missed text, which staff send
with one click — once, however often they click and whatever the poll does meanwhile.
"""

import copy
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

import pytest
import time_machine
from django.conf import settings
from django_q import tasks as q_tasks

from billing_events.tasks import events_process_task
from messaging.models import Message
from messaging.services import notify
from snapshots.models import ContactSnapshot, InvoiceSnapshot
from snapshots.selectors import contact_card_find
from tests.billing_events.helpers import (
    api_json,
    for_organisation,
    mock_xero,
    post_xero_webhook,
)
from tests.orgs import TWILIO_ACCOUNT_SID

pytestmark = pytest.mark.django_db

NOON_IN_SYDNEY = datetime(2026, 12, 2, 1, 0, tzinfo=UTC)
TWILIO_MESSAGES = (
    f"{settings.TWILIO_API_URL}/2010-04-01/Accounts/{TWILIO_ACCOUNT_SID}/Messages.json"
)
PAGE = "/messaging/contacts-needing-phone/"


@pytest.fixture(autouse=True)
def noon_in_sydney():
    with time_machine.travel(NOON_IN_SYDNEY, tick=False) as traveller:
        yield traveller


@pytest.fixture
def q_sync(monkeypatch):
    monkeypatch.setattr(q_tasks.Conf, "SYNC", True)


def _contact(org, mobile: str) -> dict:
    record = copy.deepcopy(org.xero_contact)
    record["Phones"][1]["PhoneNumber"] = mobile
    record["UpdatedDateUTC"] = "/Date(1795000000000+0000)/"  # later than the stored one
    return record


def _serve_contact(xero_api, record: dict) -> None:
    xero_api.upsert("GET", "https://api.xero.com/api.xro/2.0/Contacts", json={"Contacts": [record]})


def _deliver(client, name: str, org) -> None:
    body = for_organisation(name, org.xero_tenant_id)
    assert post_xero_webhook(client, name, body=body).status_code == 200
    events_process_task(org.xero_tenant_id)


@pytest.fixture
def missed(client, xero_api, three_org_tenant):
    """Banksia's Grace Lee had "0412 555" in Xero when INV-0007 was approved: not texted."""
    au = three_org_tenant.au
    mock_xero(xero_api)
    payload = copy.deepcopy(api_json("invoices__authorised"))
    payload["Invoices"][0]["Contact"]["ContactID"] = au.contact_id
    payload["Invoices"][0].update(InvoiceNumber="INV-0007", CurrencyCode="AUD")
    xero_api.upsert("GET", "https://api.xero.com/api.xro/2.0/Invoices", json=payload)
    broken = _contact(au, "0412 555")
    ContactSnapshot.objects.filter(contact_id=au.contact_id).update(phones=broken["Phones"])
    _deliver(client, "invoice_update__single", au)
    message = Message.objects.get(kind="invoice_issued", channel="sms")
    assert (message.status, message.error_code) == ("skipped", "invalid_phone")
    client.force_login(three_org_tenant.owner)
    return message


def _card_now(three_org_tenant):
    return contact_card_find(
        tenant=three_org_tenant.tenant, contact_id=three_org_tenant.au.contact_id
    )


def _fixed_in_xero(client, xero_api, three_org_tenant) -> None:
    _serve_contact(xero_api, _contact(three_org_tenant.au, "0412 555 107"))
    _deliver(client, "contact_update", three_org_tenant.au)


def test_the_list_shows_the_number_xero_holds_and_the_organisation(client, missed):
    page = client.get(PAGE).content.decode()

    assert "<th>Organisation</th>" in page  # the tenant has three
    assert "<td>Grace Lee</td>" not in page  # a link to the contact, not bare text
    assert "Banksia Catering Pty Ltd" in page
    assert "Mobile: 0412 555" in page
    assert "Contacts that need a phone number (1)" in client.get("/dashboard/").content.decode()


def test_fixing_the_number_in_xero_takes_the_contact_off_the_list_at_once(
    client, xero_api, three_org_tenant, missed
):
    _fixed_in_xero(client, xero_api, three_org_tenant)

    page = client.get(PAGE).content.decode()
    assert "Every contact we tried to text has a usable number." in page
    assert "Contacts that need a phone number (1)" not in client.get("/dashboard/").text
    # What she missed is offered, to the number she has now.
    assert "+61412555107" in page
    assert f"/messaging/{missed.pk}/send-missed/" in page


def test_send_now_sends_the_missed_text_once_however_often_it_is_clicked(
    client, xero_api, three_org_tenant, missed, q_sync, django_capture_on_commit_callbacks
):
    _fixed_in_xero(client, xero_api, three_org_tenant)
    xero_api.add("POST", TWILIO_MESSAGES, json={"sid": "SM" + "a" * 32, "status": "queued"},
                 status=201)  # fmt: skip
    url = f"/messaging/{missed.pk}/send-missed/"

    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(url, follow=True)
    with django_capture_on_commit_callbacks(execute=True):
        second = client.post(url, follow=True)

    sends = [call for call in xero_api.calls if call.request.url == TWILIO_MESSAGES]
    assert len(sends) == 1
    assert parse_qs(sends[0].request.body)["To"] == ["+61412555107"]
    assert "The text to Grace Lee is on its way." in first.content.decode()
    assert "no longer waiting to be sent" in second.content.decode()
    missed.refresh_from_db()
    assert (missed.status, missed.recipient) == ("sent", "+61412555107")
    assert "Banksia Catering Pty Ltd has sent you invoice INV-0007 for $485.00" in missed.body
    # A poll announcing the same invoice again lands on the same key: nothing new.
    notify(
        tenant=three_org_tenant.tenant,
        kind="invoice_issued",
        contact=_card_now(three_org_tenant),
        context={},
        dedup_key=missed.dedup_key,
    )
    assert Message.objects.filter(dedup_key=missed.dedup_key).count() == 1
    assert "Nothing is waiting." in client.get(PAGE).content.decode()


def test_a_text_about_an_invoice_paid_since_is_not_offered_nor_sent(
    client, xero_api, three_org_tenant, missed
):
    _fixed_in_xero(client, xero_api, three_org_tenant)
    InvoiceSnapshot.objects.filter(invoice_id=missed.invoice_id).update(status="PAID", amount_due=0)

    assert "Nothing is waiting." in client.get(PAGE).content.decode()
    client.post(f"/messaging/{missed.pk}/send-missed/")
    missed.refresh_from_db()
    assert missed.status == "skipped"


def test_a_reminder_a_later_one_replaced_is_not_offered(client, xero_api, three_org_tenant, missed):
    Message.objects.filter(pk=missed.pk).update(
        kind="reminder", dedup_key=f"invoice:{missed.invoice_id}:reminder:7d"
    )
    Message.objects.create(
        tenant=three_org_tenant.tenant,
        kind="reminder",
        channel="sms",
        dedup_key=f"invoice:{missed.invoice_id}:reminder:14d",
        contact_id=missed.contact_id,
        invoice_id=missed.invoice_id,
        status="skipped",
        error_code="invalid_phone",
        created_at=missed.created_at + timedelta(days=1),
    )
    _fixed_in_xero(client, xero_api, three_org_tenant)

    page = client.get(PAGE).content.decode()
    assert f"/messaging/{missed.pk}/send-missed/" not in page
    assert page.count("/send-missed/") == 1  # only the later reminder


def test_texts_older_than_a_week_are_not_offered(
    client, xero_api, three_org_tenant, missed, noon_in_sydney
):
    _fixed_in_xero(client, xero_api, three_org_tenant)
    noon_in_sydney.shift(timedelta(days=8))

    assert "Nothing is waiting." in client.get(PAGE).content.decode()


def test_another_tenants_missed_text_cannot_be_sent(client, missed, tenant_b, owner_client):
    # owner_client is tenant A's owner; the missed text is the three-organisation tenant's.
    response = owner_client.post(f"/messaging/{missed.pk}/send-missed/")

    assert response.status_code == 404
