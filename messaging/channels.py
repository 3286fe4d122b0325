"""Sms, WhatsApp and Email: the ONLY code that calls Twilio or SendGrid.

Every channel has the same `send(message: Outgoing) -> SendResult`, so dispatch never asks which
one it holds; each takes from the message what its provider needs.

Each channel maps what the provider said to SendError(code, text, permanent=..., ambiguous=...),
following FACTS.md "Which failures may be retried":
- permanent=False, ambiguous=False: the request never reached Twilio or was refused unprocessed
  (429 / 20429, connection refused, DNS, TLS) — safe to retry with backoff;
- ambiguous=True: 5xx, read timeout, reset after sending — the message may exist; reconcile first;
- permanent=True: a known permanent code, or an unknown code (failed, never retried blindly).
"""

import json
import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

import requests
from django.conf import settings
from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client
from urllib3.exceptions import MaxRetryError, NewConnectionError

from connections.http import kept
from connections.models import MessagingSettings

logger = logging.getLogger(__name__)

# The SDK has no default timeout and never retries a sent request (FACTS.md "Twilio").
HTTP_TIMEOUT_SECONDS = 15

EXPLANATIONS = {
    "20003": "Twilio refused the Account SID / Auth Token (or API key). Check the settings.",
    "20429": "Twilio asked us to slow down (too many requests). It will be retried.",
    "21211": "The phone number is not a valid phone number. Fix it in Xero.",
    "21212": "The From number is not a valid phone number. Check the messaging settings.",
    "21408": "Your Twilio account may not send to this country (Geo permissions in Twilio).",
    "21606": "The From number cannot send SMS or is not in your Twilio account.",
    "21608": "A trial Twilio account can only send to verified numbers.",
    "21610": "The recipient replied STOP. Nothing more is sent until they reply START.",
    "21612": "Twilio cannot route messages from this sender to this number.",
    "21614": "The number is not a mobile number, so it cannot receive texts.",
    "21635": "The number is a landline, so it cannot receive texts.",
    "30003": "The handset was unreachable (switched off or out of coverage).",
    "30005": "The number is unknown or no longer in service.",
    "30006": "The number is a landline or its carrier cannot receive texts.",
    "30007": "The carrier filtered the message (spam filtering).",
    "30008": "The carrier reported an unknown delivery error.",
    "30032": "The toll-free sender is not verified. Verify it in Twilio before sending.",
    "30034": "The US sender is not registered for A2P 10DLC. Register it in Twilio.",
    "63016": "WhatsApp needs an approved template outside the 24-hour reply window.",
    "connection": "Could not connect to the provider. It will be retried.",
    "timeout": "The provider did not answer in time; the message may or may not exist.",
    "config": "Messaging is not set up for this channel. Complete the messaging settings.",
}
PERMANENT_CODES = frozenset(
    {"20003", "21211", "21212", "21408", "21606", "21608", "21610", "21612", "21614", "21635"}
    | {"30005", "30006", "30007", "30032", "30034", "63016"}
)
RATE_LIMIT_CODES = frozenset({"20429"})

# Twilio message statuses in the only order they may move (FACTS.md "Statuses").
PROVIDER_STATUS_RANK = {
    "": -1,
    "accepted": 0,
    "scheduled": 0,
    "queued": 1,
    "sending": 2,
    "sent": 3,
    "delivered": 4,
    "undelivered": 4,
    "failed": 4,
    "canceled": 4,
    "read": 5,
}
FINAL_PROVIDER_STATUSES = frozenset({"delivered", "undelivered", "failed", "canceled", "read"})


def explain(code: str, fallback: str = "") -> str:
    return EXPLANATIONS.get(str(code), fallback or f"The provider reported error {code}.")


class SendError(Exception):
    def __init__(self, code, text: str, *, permanent: bool, ambiguous: bool = False):
        super().__init__(f"{code}: {text}")
        self.code = str(code)
        self.text = text
        self.permanent = permanent
        self.ambiguous = ambiguous


@dataclass(frozen=True)
class SendResult:
    provider_id: str
    provider_status: str


@dataclass(frozen=True)
class FoundMessage:
    sid: str
    status: str
    body: str
    date_created: datetime | None
    error_code: str = ""


def _connection_error(exc: requests.RequestException) -> SendError:
    """Before the request left (refused, DNS, TLS) is retryable; anything later is ambiguous."""
    reason = exc.args[0] if exc.args else None
    if isinstance(reason, MaxRetryError):
        reason = reason.reason
    never_left = isinstance(exc, requests.ConnectTimeout | requests.exceptions.SSLError) or (
        isinstance(exc, requests.ConnectionError) and isinstance(reason, NewConnectionError)
    )
    if never_left:
        return SendError("connection", explain("connection"), permanent=False)
    return SendError("timeout", explain("timeout"), permanent=False, ambiguous=True)


def _twilio_error(exc: TwilioRestException | TwilioServiceException) -> SendError:
    code = str(exc.code or exc.status)
    provider_text = getattr(exc, "msg", None) or getattr(exc, "detail", None) or ""
    if exc.status == 429 or code in RATE_LIMIT_CODES:
        return SendError(code, explain("20429"), permanent=False)
    if exc.status >= 500:
        return SendError(code, explain("timeout"), permanent=False, ambiguous=True)
    return SendError(code, explain(code, str(provider_text)), permanent=True)


def _page_error(exc: TwilioException) -> SendError:
    """A list page that is not a 200 raises the SDK's base class, not TwilioRestException
    (twilio 9.13 base/page.py: TwilioException("Unable to fetch page", response))."""
    response = exc.args[1] if len(exc.args) > 1 else None
    status = getattr(response, "status_code", None)
    return SendError(
        str(status or "list"),
        f"Twilio could not list messages (HTTP {status}); it will be asked again.",
        permanent=False,
    )


@dataclass(frozen=True)
class Outgoing:
    """One message to hand to a provider. `reference` is Dunwell's own id for it (the send log's
    callback token; SendGrid echoes it back), `status_callback` where Twilio reports statuses."""

    to: str
    body: str
    subject: str = ""
    reference: str = ""
    status_callback: str | None = None
    content_sid: str = ""
    content_variables: dict | None = None
    from_name: str = ""  # email: the organisation's name as customers see it


class TwilioChannel:
    """Shared by Sms and WhatsApp: one authenticated client per tenant's settings."""

    address_prefix = ""

    def __init__(self, messaging: MessagingSettings):
        self.messaging = messaging
        self._local = threading.local()  # dispatch sends from several threads at once

    def _client(self) -> Client:
        """Built once per thread: each thread has its own connection (connections.http)."""
        client = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = self._build()
        return client

    def _build(self) -> Client:
        m = self.messaging
        username, password = (
            (m.twilio_api_key_sid, m.twilio_api_key_secret)
            if m.twilio_api_key_sid and m.twilio_api_key_secret
            else (m.twilio_account_sid, m.twilio_auth_token)
        )
        if not (m.twilio_account_sid and password):
            raise SendError("config", explain("config"), permanent=True)
        client = Client(
            username,
            password,
            m.twilio_account_sid,
            http_client=kept("twilio", lambda: TwilioHttpClient(timeout=HTTP_TIMEOUT_SECONDS)),
            environment={},  # a stray TWILIO_EDGE / TWILIO_REGION must not rewrite the host
        )
        # Domain.absolute_url() reads base_url on every request (twilio 9.13 base/domain.py).
        client.api.base_url = settings.TWILIO_API_URL
        return client

    def _sender(self) -> dict:
        raise NotImplementedError

    def _content(self, *, body: str, content_sid: str, content_variables: dict) -> dict:
        return {"body": body}

    def send(self, message: Outgoing) -> SendResult:
        params = {
            "to": f"{self.address_prefix}{message.to}",
            **self._sender(),
            **self._content(
                body=message.body,
                content_sid=message.content_sid,
                content_variables=message.content_variables or {},
            ),
            "validity_period": self.messaging.validity_period_seconds,
        }
        if message.status_callback:
            params["status_callback"] = message.status_callback
        try:
            created = self._client().messages.create(**params)
        except (TwilioRestException, TwilioServiceException) as exc:
            raise _twilio_error(exc) from None
        except requests.RequestException as exc:
            raise _connection_error(exc) from None
        return SendResult(provider_id=created.sid, provider_status=created.status or "queued")

    def find(self, *, to: str, since: datetime) -> list[FoundMessage]:
        """Twilio's messages to `to` sent since `since` (for reconciling an ambiguous send)."""
        try:
            found = self._client().messages.list(
                to=f"{self.address_prefix}{to}",
                date_sent_after=since - timedelta(minutes=5),
                limit=100,
            )
        except (TwilioRestException, TwilioServiceException) as exc:
            raise _twilio_error(exc) from None
        except requests.RequestException as exc:
            raise _connection_error(exc) from None
        except TwilioException as exc:
            raise _page_error(exc) from None
        return [
            FoundMessage(
                sid=m.sid,
                status=m.status or "",
                body=m.body or "",
                date_created=m.date_created,
                error_code=str(m.error_code or ""),
            )
            for m in found
        ]

    def fetch(self, *, sid: str) -> FoundMessage:
        try:
            m = self._client().messages(sid).fetch()
        except (TwilioRestException, TwilioServiceException) as exc:
            raise _twilio_error(exc) from None
        except requests.RequestException as exc:
            raise _connection_error(exc) from None
        return FoundMessage(
            sid=m.sid,
            status=m.status or "",
            body=m.body or "",
            date_created=m.date_created,
            error_code=str(m.error_code or ""),
        )


def account_check(messaging: MessagingSettings) -> str:
    """The Twilio account's friendly name, read with these credentials: proof they work.

    GET /2010-04-01/Accounts/{AccountSid}.json answers 401 / 20003 for a wrong SID, token or
    API key (specs/twilio twilio_api_v2010.json, FACTS.md "Twilio"). A suspended or closed
    account authenticates but cannot send, so it is refused here too.
    """
    channel = TwilioChannel(messaging)
    try:
        account = channel._client().api.v2010.accounts(messaging.twilio_account_sid).fetch()
    except (TwilioRestException, TwilioServiceException) as exc:
        raise _twilio_error(exc) from None
    except requests.RequestException as exc:
        raise _connection_error(exc) from None
    if account.status and account.status != "active":
        raise SendError(
            "account",
            f"Your Twilio account is {account.status}, so it cannot send messages. "
            "Reactivate it in the Twilio console.",
            permanent=True,
        )
    return account.friendly_name or messaging.twilio_account_sid


class Sms(TwilioChannel):
    def _sender(self) -> dict:
        if self.messaging.twilio_messaging_service_sid:
            return {"messaging_service_sid": self.messaging.twilio_messaging_service_sid}
        if self.messaging.twilio_from_number:
            return {"from_": self.messaging.twilio_from_number}
        raise SendError("config", explain("config"), permanent=True)


class WhatsApp(TwilioChannel):
    address_prefix = "whatsapp:"

    def _sender(self) -> dict:
        if not self.messaging.whatsapp_from:
            raise SendError("config", explain("config"), permanent=True)
        sender = self.messaging.whatsapp_from.removeprefix("whatsapp:")
        return {"from_": f"whatsapp:{sender}"}

    def _content(self, *, body: str, content_sid: str, content_variables: dict) -> dict:
        # Business-initiated WhatsApp must use an approved template (FACTS.md "WhatsApp"); a
        # person's answer from the inbox has none and goes as free text, which WhatsApp takes
        # within 24 hours of the customer's own message (messaging/services/inbox.py checks).
        if not content_sid:
            return {"body": body}
        return {"content_sid": content_sid, "content_variables": json.dumps(content_variables)}


class Email:
    """SendGrid v3 through plain requests: testable with `responses`, with a timeout."""

    def __init__(self, messaging: MessagingSettings):
        self.messaging = messaging

    def send(self, message: Outgoing) -> SendResult:
        m = self.messaging
        if not (m.sendgrid_api_key and m.sendgrid_from_email):
            raise SendError("config", explain("config"), permanent=True)
        # The customer sees the email come from the organisation (from_name), at the tenant's
        # SendGrid address.
        sender = {"email": m.sendgrid_from_email}
        if message.from_name:
            sender["name"] = message.from_name
        payload = {
            "personalizations": [{"to": [{"email": message.to}]}],
            "from": sender,
            "subject": message.subject,
            "content": [{"type": "text/plain", "value": message.body}],
            "custom_args": {"dunwell_reference": message.reference},
        }
        try:
            response = kept("sendgrid", requests.Session).post(
                f"{settings.SENDGRID_API_URL}/v3/mail/send",
                json=payload,
                headers={"Authorization": f"Bearer {m.sendgrid_api_key}"},
                timeout=HTTP_TIMEOUT_SECONDS,
            )
        except requests.RequestException as exc:
            raise _connection_error(exc) from None
        if response.status_code == 202:  # queued by SendGrid, not yet delivered (FACTS.md)
            return SendResult(response.headers.get("X-Message-Id", ""), "queued")
        code = str(response.status_code)
        if response.status_code == 429:
            raise SendError(code, "SendGrid asked us to slow down.", permanent=False)
        if response.status_code >= 500:
            raise SendError(code, explain("timeout"), permanent=False, ambiguous=True)
        try:
            detail = "; ".join(e.get("message", "") for e in response.json().get("errors", []))
        except ValueError:
            detail = ""
        raise SendError(code, f"SendGrid refused the email: {detail or 'no reason given'}.",
                        permanent=True)  # fmt: skip


def channel_for(channel: str, messaging: MessagingSettings):
    return {"sms": Sms, "whatsapp": WhatsApp, "email": Email}[channel](messaging)
