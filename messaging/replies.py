"""Texts customers send to the tenant's number: opt-outs, HELP, "PAID INV-0142", and the rest.

The answer goes back as TwiML in the webhook's response (FACTS.md "Inbound message webhook"),
and is logged in the send log like every other message. A retried webhook (same MessageSid)
does nothing again and gets the same answer.
"""

import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.utils import timezone

from billing_events.replies import NOT_FOUND, PAID, contact_reply_pause, invoice_reply_lookup
from connections.models import Tenant
from messaging import rendering
from messaging.contacts import ContactCard
from messaging.models import Channel, InboundMessage, Kind, OptOut
from messaging.selectors import delivery_for, templates_choose
from messaging.services import optout_add, optout_remove, reply_log

# Twilio's own keywords, honoured when they are the whole body (FACTS.md "Opt-out").
STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
START_WORDS = frozenset({"START", "YES", "UNSTOP"})
HELP_WORDS = frozenset({"HELP", "INFO"})
# "PAID INV-0142", "paid inv0142", "Paid #INV-0142 thanks", "I've paid invoice 0142".
_PAID = re.compile(
    r"\bpaid\b\W*?(?:invoice\s*)?(?:no\.?\s*)?#?\s*([a-z]{0,10}[\s-]?\d[\w-]*)", re.IGNORECASE
)
_REPLY_KIND = {PAID: Kind.REPLY_PAID_THANKS, NOT_FOUND: Kind.REPLY_NOT_FOUND}


@dataclass(frozen=True)
class Intent:
    kind: str  # an InboundMessage.Intent
    invoice_number: str = ""


def inbound_intent(body: str) -> Intent:
    words = body.strip().upper()
    for keywords, intent in (
        (STOP_WORDS, InboundMessage.Intent.STOP),
        (START_WORDS, InboundMessage.Intent.START),
        (HELP_WORDS, InboundMessage.Intent.HELP),
    ):
        if words.rstrip(".!") in keywords:
            return Intent(intent)
    paid = _PAID.search(body)
    if paid:
        return Intent(InboundMessage.Intent.PAID, re.sub(r"\s+", "", paid.group(1)).upper())
    return Intent(InboundMessage.Intent.OTHER)


@dataclass(frozen=True)
class _Answer:
    kind: str = ""
    contact: ContactCard | None = None
    invoice_id: str = ""
    context: dict | None = None


def _compose(tenant: Tenant, answer: _Answer):
    """The reply text from the tenant's active SMS template, or ("", None) for silence."""
    contact = answer.contact or ContactCard(contact_id="", name="")
    language = delivery_for(tenant=tenant, contact_id=contact.contact_id).language
    templates = templates_choose(
        tenant=tenant, kind=answer.kind, contact=contact, language=language
    )
    template = templates.get(Channel.SMS)
    if template is None:
        return "", None
    values = rendering.template_values(
        contact=contact,
        context={"organisation_name": tenant.name, **(answer.context or {})},
        country=tenant.default_country,
    )
    try:
        return rendering.render(template.body, values, max_length=1600), template
    except rendering.RenderError:
        if answer.kind == Kind.REPLY_HELP:
            return "", None
        # e.g. Xero gave no payment link: say how to reach the team instead of nothing.
        return _compose(tenant, _Answer(Kind.REPLY_HELP, contact=answer.contact))


def _answer(*, tenant: Tenant, intent: Intent, phone: str) -> _Answer:
    """What to say; looks things up (maybe in Xero) but changes nothing."""
    if intent.kind == InboundMessage.Intent.HELP:
        return _Answer(Kind.REPLY_HELP)
    if intent.kind != InboundMessage.Intent.PAID:
        return _Answer()
    found = invoice_reply_lookup(tenant=tenant, phone=phone, invoice_number=intent.invoice_number)
    return _Answer(
        _REPLY_KIND.get(found.status, Kind.REPLY_PAYMENT_LINK),
        contact=found.contact,
        invoice_id=found.invoice_id,
        context=found.context,
    )


def inbound_receive(
    *, tenant: Tenant, message_sid: str, from_address: str, to_address: str, body: str
) -> str:
    """Record a customer's text, act on it, and return the answer to send back ("" for none)."""
    earlier = InboundMessage.objects.filter(tenant=tenant, message_sid=message_sid).first()
    if earlier is not None:
        return earlier.reply.body if earlier.reply else ""
    channel = Channel.WHATSAPP if from_address.startswith("whatsapp:") else Channel.SMS
    phone = from_address.removeprefix("whatsapp:")
    intent = inbound_intent(body)
    opted_out = OptOut.objects.filter(tenant=tenant, phone=phone).exists()
    # Xero may be asked for a payment link here, so this happens before the transaction
    # (XeroClient must not run inside atomic()).
    answer = _Answer() if opted_out else _answer(tenant=tenant, intent=intent, phone=phone)
    text, template = _compose(tenant, answer) if answer.kind else ("", None)
    inbound = InboundMessage(
        tenant=tenant,
        message_sid=message_sid,
        channel=channel,
        from_phone=phone,
        to=to_address,
        body=body,
        intent=intent.kind,
        invoice_number=intent.invoice_number,
        xero_tenant_ids=_organisations_of([answer.contact]),
    )
    try:
        with transaction.atomic():
            inbound.save(force_insert=True)
            _act(tenant=tenant, inbound=inbound, phone=phone)
            if text:
                inbound.reply = reply_log(
                    tenant=tenant,
                    kind=answer.kind,
                    channel=channel,
                    recipient=phone,
                    body=text,
                    dedup_key=f"inbound:{message_sid}:reply",
                    contact=answer.contact,
                    invoice_id=answer.invoice_id,
                    template=template,
                )
                inbound.save(update_fields=["reply"])
    except IntegrityError:  # the same text, retried while we were answering it
        return inbound_receive(
            tenant=tenant, message_sid=message_sid, from_address=from_address,
            to_address=to_address, body=body,
        )  # fmt: skip
    return text


def _act(*, tenant: Tenant, inbound: InboundMessage, phone: str) -> None:
    if inbound.intent == InboundMessage.Intent.STOP:
        optout_add(tenant=tenant, phone=phone, source="Replied STOP")
    elif inbound.intent == InboundMessage.Intent.START:
        optout_remove(tenant=tenant, phone=phone)
    elif inbound.intent == InboundMessage.Intent.OTHER:
        today = timezone.now().astimezone(ZoneInfo(tenant.timezone)).date()
        contacts, resume_on = contact_reply_pause(tenant=tenant, phone=phone, on=today)
        inbound.contact_names = ", ".join(c.name for c in contacts)[:500]
        inbound.xero_tenant_ids = _organisations_of(contacts)
        inbound.reminders_paused_until = resume_on
        inbound.save(update_fields=["contact_names", "xero_tenant_ids", "reminders_paused_until"])


def _organisations_of(contacts) -> list[str]:
    """The Xero organisations (tenantIds) of these contacts, once each, for the inbox."""
    return sorted({c.xero_tenant_id for c in contacts if c is not None and c.xero_tenant_id})
