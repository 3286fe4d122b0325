"""Customers' texts as Twilio POSTs them to /webhooks/twilio/inbound/, signed here."""

import json
from pathlib import Path

from django.conf import settings
from twilio.request_validator import RequestValidator

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
    from urllib.parse import parse_qs

    return [
        {key: values[0] for key, values in parse_qs(call.request.body).items()}
        for call in mock.calls
        if call.request.url == MESSAGES_URL
    ]
