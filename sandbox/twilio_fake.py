"""Twilio's Messages resource, offline (FACTS.md "Twilio", specs/twilio api.v2010.account.message).

A send answers 201 with status `queued` (`accepted` through a Messaging Service); the later
statuses (sent, then delivered — or undelivered 30003 for a contact marked unreachable) arrive as
status callbacks signed with the account's auth token. Numbers that texted STOP are refused with
21610. `TwilioFault` rows inject 429s, 5xx and error codes.
"""

import base64
import binascii
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from email.utils import format_datetime
from urllib.parse import urlencode

import phonenumbers
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from sandbox.hooks import hook_create, twilio_signature
from sandbox.models import Contact, OptOut, OutboundHook, SmsMessage, TwilioAccount, TwilioFault

API_VERSION = "2010-04-01"
STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"}
START_WORDS = {"START", "YES", "UNSTOP"}
HELP_WORDS = {"HELP", "INFO"}
# What Twilio itself answers to the opt-out keywords on a long code (its default texts).
STOP_REPLY = (
    "You have successfully been unsubscribed. You will not receive any more messages from this "
    "number. Reply START to resubscribe."
)
START_REPLY = (
    "You have successfully been re-subscribed to messages from this number. Reply HELP for help. "
    "Reply STOP to unsubscribe. Msg&Data Rates May Apply."
)
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà^{}\\[~]|€"
)


class TwilioApiError(Exception):
    def __init__(self, status: int, code: int, message: str):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def body(self) -> dict:
        return {
            "code": self.code,
            "message": self.message,
            "more_info": f"https://www.twilio.com/docs/errors/{self.code}",
            "status": self.status,
        }


def sid(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


def bare_number(address: str) -> str:
    return address.removeprefix("whatsapp:")


def phone_e164(phone: dict, region: str) -> str | None:
    """One Xero Phones[] entry as E.164, the sandbox's own reading of the free text."""
    number = (phone.get("PhoneNumber") or "").strip()
    if not number:
        return None
    country = (phone.get("PhoneCountryCode") or "").strip().lstrip("+")
    area = (phone.get("PhoneAreaCode") or "").strip().strip("()")
    if not number.startswith("+") and country:
        number = f"+{country} {area.lstrip('0')} {number}"
    elif not number.startswith("+"):
        number = f"{area} {number}"
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def contact_numbers(contact: Contact) -> list[str]:
    region = contact.organisation.country_code
    numbers = (phone_e164(phone, region) for phone in contact.phones)
    return list(dict.fromkeys(number for number in numbers if number))


def _unreachable(number: str) -> bool:
    contacts = Contact.objects.filter(unreachable=True).select_related("organisation")
    return any(number in contact_numbers(contact) for contact in contacts)


def account_authenticate(*, account_sid: str, authorization: str) -> TwilioAccount:
    """HTTP Basic with AccountSid:AuthToken or an API key SID:secret, for this account."""
    refused = TwilioApiError(401, 20003, "Authenticate")
    if not authorization.startswith("Basic "):
        raise refused
    try:
        username, _, password = base64.b64decode(authorization[6:]).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise refused from None
    account = TwilioAccount.objects.filter(account_sid=account_sid).first()
    if account is None:
        raise refused
    pairs = [(account.account_sid, account.auth_token)]
    if account.api_key_sid:
        pairs.append((account.api_key_sid, account.api_key_secret))
    for expected_user, expected_password in pairs:
        if username == expected_user and hmac.compare_digest(password, expected_password):
            return account
    raise refused


def _rfc2822(value: datetime | None) -> str | None:
    return format_datetime(value.astimezone(UTC)) if value else None


def segments(body: str) -> int:
    if set(body) <= _GSM7:
        return 1 if len(body) <= 160 else -(-len(body) // 153)
    return 1 if len(body) <= 70 else -(-len(body) // 67)


def message_json(message: SmsMessage) -> dict:
    uri = f"/{API_VERSION}/Accounts/{message.account.account_sid}/Messages/{message.sid}"
    return {
        "account_sid": message.account.account_sid,
        "api_version": API_VERSION,
        "body": message.body,
        "date_created": _rfc2822(message.date_created),
        "date_sent": _rfc2822(message.date_sent),
        "date_updated": _rfc2822(message.date_updated),
        "direction": message.direction,
        "error_code": message.error_code,
        "error_message": "Unreachable destination handset" if message.error_code else None,
        "from": message.from_number or None,
        "messaging_service_sid": message.messaging_service_sid or None,
        "num_media": "0",
        "num_segments": str(message.num_segments),
        "price": None,
        "price_unit": "USD",
        "sid": message.sid,
        "status": message.status,
        "subresource_uris": {"media": f"{uri}/Media.json", "feedback": f"{uri}/Feedback.json"},
        "to": message.to,
        "uri": f"{uri}.json",
    }


def _fault_for(to: str) -> TwilioFault | None:
    candidates = TwilioFault.objects.filter(Q(to_number=to) | Q(to_number="")).exclude(remaining=0)
    for fault in candidates.order_by("-to_number", "pk"):
        if fault.remaining is None:
            return fault
        taken = TwilioFault.objects.filter(pk=fault.pk, remaining__gt=0).update(
            remaining=F("remaining") - 1
        )
        if taken == 1:
            return fault
    return None


def _validate(account: TwilioAccount, form) -> None:
    to = form.get("To", "")
    if not to:
        raise TwilioApiError(400, 21604, "A 'To' phone number is required.")
    if not _E164.match(bare_number(to)):
        raise TwilioApiError(400, 21211, f"Invalid 'To' Phone Number: {to}")
    if not form.get("From") and not form.get("MessagingServiceSid"):
        raise TwilioApiError(400, 21603, "A 'From' phone number is required.")
    if not form.get("Body") and not form.get("ContentSid"):
        raise TwilioApiError(400, 21602, "Message body is required.")
    if len(form.get("Body", "")) > 1600:
        raise TwilioApiError(
            400, 21617, "The concatenated message body exceeds the 1600 character limit."
        )
    validity = form.get("ValidityPeriod")
    if validity and not (validity.isdigit() and 1 <= int(validity) <= 36000):
        raise TwilioApiError(400, 21623, "ValidityPeriod must be between 1 and 36000 seconds.")
    if OptOut.objects.filter(account=account, number=bare_number(to)).exists():
        raise TwilioApiError(400, 21610, "Attempt to send to unsubscribed recipient")


def message_create(*, account: TwilioAccount, form) -> SmsMessage:
    _validate(account, form)
    to = form["To"]
    # Taken outside the message's transaction: an injected failure is used up even though the
    # request fails.
    fault = _fault_for(bare_number(to))
    if fault is not None and not fault.message_created:
        raise TwilioApiError(fault.http_status, fault.error_code, fault.message)
    body = form.get("Body", "")
    if not body:
        body = f"[template {form['ContentSid']}] {form.get('ContentVariables', '')}".strip()
    via_service = not form.get("From")
    with transaction.atomic():
        message = SmsMessage.objects.create(
            account=account,
            sid=sid("SM"),
            direction=SmsMessage.Direction.OUTBOUND,
            to=to,
            from_number=form.get("From", ""),
            messaging_service_sid=form.get("MessagingServiceSid", ""),
            body=body,
            content_sid=form.get("ContentSid", ""),
            content_variables=form.get("ContentVariables", ""),
            status="accepted" if via_service else "queued",
            status_callback=form.get("StatusCallback", ""),
            validity_period=int(form["ValidityPeriod"]) if form.get("ValidityPeriod") else None,
            num_segments=segments(body),
        )
        _schedule_progress(message)
    if fault is not None:
        # The ambiguous case (FACTS.md): the message exists although the answer was an error.
        raise TwilioApiError(fault.http_status, fault.error_code, fault.message)
    return message


def _schedule_progress(message: SmsMessage) -> None:
    """Queue the later statuses; Twilio sends no callback for the first one (FACTS.md)."""
    final = "undelivered" if _unreachable(bare_number(message.to)) else "delivered"
    steps = ["sent", final]
    if message.status == "accepted":
        steps.insert(0, "queued")
    step = timedelta(seconds=settings.SANDBOX_TWILIO_STEP_SECONDS)
    for position, status in enumerate(steps, start=1):
        params = {
            "SmsSid": message.sid,
            "SmsStatus": status,
            "MessageStatus": status,
            "To": message.to,
            "MessageSid": message.sid,
            "AccountSid": message.account.account_sid,
            "From": message.from_number or message.account.from_number,
            "ApiVersion": API_VERSION,
        }
        if message.messaging_service_sid:
            params["MessagingServiceSid"] = message.messaging_service_sid
        if status == "undelivered":
            params["ErrorCode"] = "30003"
        if status in ("delivered", "undelivered"):
            params["RawDlrDoneDate"] = (timezone.now() + step * position).strftime("%y%m%d%H%M")
        _signed_form_hook(
            kind=OutboundHook.Kind.TWILIO_STATUS,
            url=message.status_callback,
            params=params,
            account=message.account,
            summary=f"{message.sid} {status}",
            due_at=timezone.now() + step * position,
            message=message,
            message_status=status,
        )


def _signed_form_hook(*, url: str, params: dict, account: TwilioAccount, **fields):
    headers = {}
    if url:
        headers["X-Twilio-Signature"] = twilio_signature(
            url=url, params=params, auth_token=account.auth_token
        )
    return hook_create(
        url=url,
        body=urlencode(params).encode(),
        content_type="application/x-www-form-urlencoded",
        headers=headers,
        **fields,
    )


def message_status_apply(*, message: SmsMessage, status: str) -> None:
    now = timezone.now()
    updates = {"status": status, "date_updated": now}
    if status == "sent":
        updates["date_sent"] = now
    if status == "undelivered":
        updates["error_code"] = 30003
    SmsMessage.objects.filter(pk=message.pk).update(**updates)


def _parse_date_sent(value: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def messages_list(*, account: TwilioAccount, query) -> dict:
    """GET Messages.json: To, From, DateSent / DateSent> / DateSent< (>= / <= on the wire)."""
    messages = SmsMessage.objects.filter(account=account).select_related("account")
    if query.get("To"):
        messages = messages.filter(to=query["To"])
    if query.get("From"):
        messages = messages.filter(from_number=query["From"])
    for key, lookup in (("DateSent>", "gte"), ("DateSent<", "lt")):
        if stamp := _parse_date_sent(query.get(key, "")):
            # Twilio filters on the day; a message not yet sent is matched by its creation.
            day = stamp.date() if lookup == "gte" else stamp.date() + timedelta(days=1)
            day = datetime.combine(day, time.min, tzinfo=UTC)
            field = Q(**{f"date_sent__{lookup}": day}) | Q(
                date_sent=None, **{f"date_created__{lookup}": day}
            )
            messages = messages.filter(field)
    if stamp := _parse_date_sent(query.get("DateSent", "")):
        messages = messages.filter(date_sent__date=stamp.date())
    page_size = min(1000, int(query.get("PageSize", "50") or 50))
    rows = list(messages.order_by("-date_created", "-pk")[:page_size])
    uri = f"/{API_VERSION}/Accounts/{account.account_sid}/Messages.json"
    return {
        "messages": [message_json(row) for row in rows],
        "end": max(0, len(rows) - 1),
        "first_page_uri": f"{uri}?PageSize={page_size}&Page=0",
        "next_page_uri": None,
        "page": 0,
        "page_size": page_size,
        "previous_page_uri": None,
        "start": 0,
        "uri": f"{uri}?PageSize={page_size}&Page=0",
    }


# --- the phone ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Phone:
    number: str
    contact: Contact | None


def phones_list() -> list[Phone]:
    """Every demo contact's numbers, then any other number the sandbox has texted."""
    phones = []
    for contact in Contact.objects.select_related("organisation").order_by("organisation", "name"):
        phones.extend(Phone(number, contact) for number in contact_numbers(contact))
    known = {phone.number for phone in phones}
    others = SmsMessage.objects.filter(direction=SmsMessage.Direction.OUTBOUND)
    for to in others.values_list("to", flat=True).distinct():
        if bare_number(to) not in known:
            known.add(bare_number(to))
            phones.append(Phone(bare_number(to), None))
    return phones


def phone_messages(*, number: str):
    addresses = [number, f"whatsapp:{number}"]
    return (
        SmsMessage.objects.filter(Q(to__in=addresses) | Q(from_number__in=addresses))
        .select_related("account")
        .order_by("date_created", "pk")
    )


@transaction.atomic
def reply_send(*, number: str, body: str) -> SmsMessage:
    """The person types a reply: Twilio forwards it to Dunwell's inbound webhook, signed."""
    last = phone_messages(number=number).exclude(direction=SmsMessage.Direction.INBOUND).last()
    account = last.account if last else TwilioAccount.objects.order_by("pk").first()
    if account is None:
        raise TwilioApiError(404, 20404, "No sandbox Twilio account exists yet.")
    whatsapp = last is not None and last.to.startswith("whatsapp:")
    our_number = (last.from_number if last else "") or account.from_number
    service_sid = last.messaging_service_sid if last else ""
    inbound = SmsMessage.objects.create(
        account=account,
        sid=sid("SM"),
        direction=SmsMessage.Direction.INBOUND,
        to=our_number,
        from_number=f"whatsapp:{number}" if whatsapp else number,
        messaging_service_sid=service_sid,
        body=body,
        status="received",
        num_segments=segments(body),
        date_sent=timezone.now(),
    )
    params = {
        "SmsMessageSid": inbound.sid,
        "NumMedia": "0",
        "SmsSid": inbound.sid,
        "SmsStatus": "received",
        "Body": body,
        "To": inbound.to,
        "NumSegments": str(inbound.num_segments),
        "MessageSid": inbound.sid,
        "AccountSid": account.account_sid,
        "From": inbound.from_number,
        "ApiVersion": API_VERSION,
    }
    if service_sid:
        params["MessagingServiceSid"] = service_sid
    keyword = body.strip().upper()
    if keyword in STOP_WORDS | START_WORDS | HELP_WORDS:
        params["OptOutType"] = (
            "STOP" if keyword in STOP_WORDS else "START" if keyword in START_WORDS else "HELP"
        )
    if keyword in STOP_WORDS:
        # Twilio handles STOP itself, still forwards it, and refuses later sends (FACTS.md).
        OptOut.objects.get_or_create(account=account, number=number)
        reply_from_twiml(inbound=inbound, body=STOP_REPLY)
    elif keyword in START_WORDS:
        OptOut.objects.filter(account=account, number=number).delete()
        reply_from_twiml(inbound=inbound, body=START_REPLY)
    _signed_form_hook(
        kind=OutboundHook.Kind.TWILIO_INBOUND,
        url=f"{settings.PUBLIC_BASE_URL}/webhooks/twilio/inbound/",
        params=params,
        account=account,
        summary=f"from {number}: {body[:40]}",
        message=inbound,
    )
    return inbound


def reply_from_twiml(*, inbound: SmsMessage, body: str) -> SmsMessage:
    """A <Message> answered to an inbound text, delivered straight back to the phone."""
    now = timezone.now()
    return SmsMessage.objects.create(
        account=inbound.account,
        sid=sid("SM"),
        direction=SmsMessage.Direction.OUTBOUND_REPLY,
        to=inbound.from_number,
        from_number=inbound.to,
        body=body,
        status="delivered",
        num_segments=segments(body),
        date_sent=now,
        date_updated=now,
    )
