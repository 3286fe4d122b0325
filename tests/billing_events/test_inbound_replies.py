"""Customers texting back: POST /webhooks/twilio/inbound/ as Twilio sends it, signed here."""

from datetime import date

import pytest
from django.conf import settings

from billing_events.models import ReminderPause
from connections.models import MessagingSettings
from messaging.models import InboundMessage, Message, OptOut
from snapshots.models import InvoiceSnapshot
from tests.billing_events.inbound import AROHA, STRANGER, inbound_post


def _said(response) -> str:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    return response.content.decode()


@pytest.fixture
def organisation(texted_organisation):
    return texted_organisation


@pytest.mark.parametrize(
    "text",
    ["PAID INV-0142", "paid inv0142", "Paid #INV-0142 thanks", "I've paid invoice INV 0142 :)"],
)
def test_asking_about_an_unpaid_invoice_gets_its_payment_link(client, organisation, text):
    said = _said(inbound_post(client, body=text))

    invoice = InvoiceSnapshot.objects.get(number="INV-0142")
    link = f"{settings.PUBLIC_BASE_URL}/pay/{invoice.pay_token}/"
    assert f"Invoice INV-0142 from Ruapehu Motors Ltd ($485.00 due). Pay here: {link}" in said
    reply = Message.objects.get(kind="reply_payment_link")
    assert (reply.recipient, reply.status, reply.channel) == (AROHA, "sent", "sms")
    assert reply.invoice_id == invoice.invoice_id


def test_the_reply_never_waits_for_xero_and_uses_its_link_once_known(client, organisation):
    # Twilio gives up on the webhook after 15 s; Xero may make us wait longer for call budget.
    said = _said(inbound_post(client, body="PAID INV-0142"))
    assert "/pay/" in said and organisation.online_invoice_calls() == 0

    InvoiceSnapshot.objects.filter(number="INV-0142").update(
        online_invoice_url="https://in.xero.com/Ak3dTr7Q"
    )
    said = _said(inbound_post(client, body="PAID INV-0142", sid="SM" + "9" * 32))

    assert "Pay here: https://in.xero.com/Ak3dTr7Q" in said
    assert organisation.online_invoice_calls() == 0


def test_asking_about_a_paid_invoice_gets_thanks(client, organisation):
    InvoiceSnapshot.objects.filter(number="INV-0142").update(status="PAID", amount_due=0)

    said = _said(inbound_post(client, body="PAID INV-0142"))

    assert "Thank you Aroha, invoice INV-0142 is paid in full." in said


def test_asking_about_another_customers_invoice_reveals_nothing(client, organisation):
    said = _said(inbound_post(client, body="PAID INV-0150"))  # Kauri Cafe's invoice

    assert "couldn't find invoice INV-0150 for this number" in said
    assert "220" not in said and "xero.com" not in said
    assert Message.objects.get(kind="reply_not_found").recipient == AROHA


def test_an_unknown_number_asking_about_an_invoice_is_told_it_was_not_found(client, organisation):
    said = _said(inbound_post(client, body="paid INV-0142", sender=STRANGER))

    assert "couldn't find invoice INV-0142" in said and "485" not in said


def test_stop_opts_out_and_start_opts_back_in(client, organisation, tenant_a):
    assert "<Message>" not in _said(inbound_post(client, body="STOP", sid="SM" + "2" * 32))
    assert OptOut.objects.filter(tenant=tenant_a, phone=AROHA).exists()

    assert "<Message>" not in _said(inbound_post(client, body="start", sid="SM" + "3" * 32))
    assert not OptOut.objects.filter(tenant=tenant_a, phone=AROHA).exists()


def test_help_gets_the_tenants_help_text_in_the_name_of_the_senders_organisation(
    client, organisation
):
    said = _said(inbound_post(client, body="HELP"))

    assert "Ruapehu Motors Ltd: reply PAID and your invoice number" in said
    assert "Alpha Plumbing" not in said  # the tenant's own name is for staff
    assert Message.objects.filter(kind="reply_help").count() == 1


def test_any_other_reply_pauses_reminders_and_waits_in_the_inbox(
    client, organisation, owner_a, tenant_a
):
    said = _said(inbound_post(client, body="Can I pay half now and half next week?"))

    assert "<Message>" not in said
    pause = ReminderPause.objects.get(tenant=tenant_a)
    assert (pause.reason, pause.label, pause.resume_on) == (
        "reply",
        "Ruapehu Motors",
        date(2026, 12, 21),
    )
    client.force_login(owner_a)
    inbox = client.get("/messaging/inbox/").content.decode()
    assert "Can I pay half now and half next week?" in inbox
    assert "Ruapehu Motors" in inbox


def test_a_retried_webhook_gets_the_same_answer_and_nothing_twice(client, organisation):
    first = _said(inbound_post(client, body="PAID INV-0142"))
    again = _said(inbound_post(client, body="PAID INV-0142"))

    assert first == again
    assert InboundMessage.objects.count() == 1
    assert Message.objects.filter(kind="reply_payment_link").count() == 1


def test_a_wrongly_signed_text_is_refused(client, organisation):
    response = inbound_post(client, body="STOP", token="not-the-auth-token")

    assert response.status_code == 403
    assert not OptOut.objects.exists() and not InboundMessage.objects.exists()


def test_a_text_to_a_number_no_tenant_has_is_refused(client, organisation):
    MessagingSettings.objects.update(twilio_from_number="+6491112222", twilio_account_sid="AC9")

    assert inbound_post(client, body="HELP").status_code == 403


def test_another_tenant_never_sees_the_inbox(client, organisation, tenant_b):
    inbound_post(client, body="Call me please")
    owner_b = tenant_b.memberships.get().user
    client.force_login(owner_b)

    assert "Call me please" not in client.get("/messaging/inbox/").content.decode()
