"""Customers' texts as Twilio POSTs them to /webhooks/twilio/inbound/, signed here."""

import json
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs

import time_machine
from django.conf import settings
from twilio.request_validator import RequestValidator

from connections.models import MessagingSettings
from tests.billing_events.reminder_helpers import import_at, local, sweep_at
from tests.billing_events.standin import StandInXero

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "twilio"
INBOUND_URL = "/webhooks/twilio/inbound/"
ACCOUNT_SID = "AC00000000000000000000000000000001"
AUTH_TOKEN = "twilio-auth-token-alpha"
MESSAGES_URL = f"{settings.TWILIO_API_URL}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
AROHA = "+64215550199"  # Ruapehu Motors' mobile
STRANGER = "+64275550000"


def inbound_post(
    client,
    *,
    body: str,
    sender: str = AROHA,
    sid: str = "SM" + "1" * 32,
    token: str = AUTH_TOKEN,
    fixture: str = "inbound__sms",
):
    params = json.loads((FIXTURES / f"{fixture}.json").read_text())
    prefix = "whatsapp:" if params["From"].startswith("whatsapp:") else ""
    params.update(Body=body, From=prefix + sender, MessageSid=sid, SmsSid=sid, SmsMessageSid=sid)
    signature = RequestValidator(token).compute_signature(
        settings.PUBLIC_BASE_URL + INBOUND_URL, params
    )
    return client.post(INBOUND_URL, params, HTTP_X_TWILIO_SIGNATURE=signature)


def twilio_message_created(mock) -> None:
    """Twilio accepts every message sent (201, queued: FACTS.md "Send")."""
    body = json.loads((FIXTURES / "message_create__queued.json").read_text())
    mock.add("POST", MESSAGES_URL, json=body, status=201)


def twilio_sends(mock) -> list[dict]:
    """The form fields of every message Dunwell asked Twilio to send."""
    return [
        {key: values[0] for key, values in parse_qs(call.request.body).items()}
        for call in mock.calls
        if call.request.url == MESSAGES_URL
    ]


@contextmanager
def texted_organisation_at(*, tenant, connection, mock):
    """The tenant's organisation, its Twilio set up (SMS and WhatsApp from +6498880000), with
    reminders sent on 17 Dec (INV-0142 of Ruapehu Motors, due 10 Dec, got "7 days overdue");
    the clock stands at 10:00 on Friday 18 Dec in Auckland. Yields the stand-in Xero."""
    MessagingSettings.objects.create(
        tenant=tenant,
        twilio_account_sid=ACCOUNT_SID,
        twilio_auth_token=AUTH_TOKEN,
        twilio_from_number="+6498880000",
        whatsapp_from="whatsapp:+6498880000",
    )
    tenant.timezone = "Pacific/Auckland"
    tenant.save()
    xero = StandInXero(mock)
    import_at(connection, "2026-12-17 08:00")
    sweep_at(connection, "2026-12-17 09:05")
    with time_machine.travel(local("Pacific/Auckland", "2026-12-18 10:00"), tick=False):
        yield xero
