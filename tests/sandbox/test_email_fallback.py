"""SMS → email fallback end to end: Dunwell talks over real HTTP to the sandbox Twilio, which
fails one sender's texts, and to the sandbox SendGrid, whose outbox shows what was emailed.

Aroha's handset is unreachable (undelivered 30003, its callback delivered twice as Twilio may),
Twilio refuses Ben's number outright (21614, and the worker runs again), Chloe's text arrives,
and Fern is unreachable with no email address in Xero. Exactly one email each goes to Aroha and
Ben; Fern's text says why none went to her."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import requests
import time_machine
from django.db.models import F
from django_q import tasks as q_tasks

from connections.models import MessagingSettings
from dashboard.services import tenant_open
from messaging.models import Message, MessageTemplate
from messaging.services import messages_due_run, notify
from sandbox.models import Contact, Email, OutboundHook, TwilioFault
from snapshots.contacts import ContactCard
from tests.sandbox.conftest import deliver

NOON_IN_NZ = datetime(2026, 7, 7, 1, 0, tzinfo=UTC)


@pytest.fixture
def dunwell(live_server, settings, monkeypatch, twilio_account, organisations):
    """A tenant texting through the sandbox Twilio, with email only as the fallback."""
    settings.PUBLIC_BASE_URL = live_server.url
    settings.TWILIO_API_URL = f"{live_server.url}/sandbox/twilio"
    settings.SENDGRID_API_URL = f"{live_server.url}/sandbox/sendgrid"
    monkeypatch.setattr(q_tasks.Conf, "SYNC", True)  # tasks run where they are kicked
    tenant, _ = tenant_open(name="Kauri Bakery", owner_email="owner@kauri.test")
    tenant.timezone = "Pacific/Auckland"  # 13:00 there: outside quiet hours
    tenant.save()
    MessagingSettings.objects.create(
        tenant=tenant, twilio_account_sid=twilio_account.account_sid,
        twilio_auth_token=twilio_account.auth_token, twilio_from_number=twilio_account.from_number,
        sendgrid_api_key="SG.sandbox-key", sendgrid_from_email="accounts@kauri.test",
        default_channels=["sms"],
    )  # fmt: skip
    MessageTemplate.objects.filter(tenant=tenant, channel="email").update(is_active=True)
    MessageTemplate.objects.filter(tenant=tenant, channel="sms").update(fallback_to_email=True)
    Contact.objects.filter(name="Aroha Ngata").update(unreachable=True)
    TwilioFault.objects.create(to_number="+64215550102", http_status=400, error_code=21614,
                               message="'To' number is not a valid mobile number")  # fmt: skip
    return tenant


def _card(name: str) -> ContactCard:
    contact = Contact.objects.get(name=name)
    return ContactCard(contact_id=str(contact.contact_id), name=contact.name,
                       first_name=contact.first_name, email=contact.email,
                       phones=tuple(contact.phones))  # fmt: skip


def _twilio_repeats_every_callback():
    OutboundHook.objects.filter(kind=OutboundHook.Kind.TWILIO_STATUS).update(
        status=OutboundHook.Status.PENDING, next_attempt_at=F("created_at")
    )


@pytest.mark.slow
def test_the_failing_senders_get_one_email_each_and_the_others_none(dunwell, live_server):
    names = ["Aroha Ngata", "Ben Carter", "Chloe Wong", "Fern Harris"]
    with time_machine.travel(NOON_IN_NZ, tick=True):
        for number, name in enumerate(names):
            notify(tenant=dunwell, kind="invoice_issued", contact=_card(name),
                   context={"invoice_number": f"INV-00{number}", "amount_due": Decimal("485"),
                            "currency": "NZD", "due_date": NOON_IN_NZ.date(),
                            "online_invoice_url": "https://in.xero.com/x",
                            "organisation_name": "Kauri Bakery"},
                   dedup_key=f"invoice:{number}:issued")  # fmt: skip
        later = datetime.now(UTC) + timedelta(seconds=10)
        deliver(now=later)
        _twilio_repeats_every_callback()
        deliver(now=later)
        messages_due_run()

    status_hooks = OutboundHook.objects.filter(kind=OutboundHook.Kind.TWILIO_STATUS)
    assert set(status_hooks.values_list("attempts", "response_status")) == {(2, 200)}
    texts = {m.contact_name: m for m in Message.objects.filter(channel="sms")}
    assert {name: m.status for name, m in texts.items()} == {
        "Aroha Ngata": "undelivered", "Ben Carter": "failed",
        "Chloe Wong": "delivered", "Fern Harris": "undelivered",
    }  # fmt: skip
    assert sorted(to for email in Email.objects.all() for to in email.to) == [
        "aroha@example.test", "ben@carter.test",
    ]  # fmt: skip
    assert set(Email.objects.values_list("subject", flat=True)) == {
        "Invoice INV-000 from Kauri Bakery", "Invoice INV-001 from Kauri Bakery",
    }  # fmt: skip
    outbox = requests.get(f"{live_server.url}/sandbox/sendgrid/outbox/", timeout=10).text
    assert outbox.count("aroha@example.test") == 1
    fern = Message.objects.get(channel="email", contact_name="Fern Harris")
    assert (fern.status, fern.status_reason) == ("skipped", "No email address in Xero.")
    assert not texts["Aroha Ngata"].resends.exists()  # the email replaced the 30003 retry
    assert texts["Fern Harris"].resends.count() == 1  # no email went, so the retry stays
