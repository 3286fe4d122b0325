"""Texts customers send to the tenant's number: what they mean, and the words of the answer.

What a text asks for (STOP, START, HELP, "PAID INV-0142", anything else) and the reply composed
from the tenant's templates. Acting on it — looking up the invoice, pausing reminders — needs
invoices, so billing_events/replies.py (inbound_receive) does that and calls these.
"""

import re
from dataclasses import dataclass

from connections.models import Tenant
from connections.selectors import names_for_customers
from messaging import rendering
from messaging.models import Channel, InboundMessage, Kind, MessageTemplate
from messaging.selectors import delivery_for, templates_choose
from snapshots.contacts import ContactCard

# Twilio's own keywords, honoured when they are the whole body (FACTS.md "Opt-out").
STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
START_WORDS = frozenset({"START", "YES", "UNSTOP"})
HELP_WORDS = frozenset({"HELP", "INFO"})
# "PAID INV-0142", "paid inv0142", "Paid #INV-0142 thanks", "I've paid invoice 0142".
_PAID = re.compile(
    r"\bpaid\b\W*?(?:invoice\s*)?(?:no\.?\s*)?#?\s*([a-z]{0,10}[\s-]?\d[\w-]*)", re.IGNORECASE
)


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


def reply_compose(
    *, tenant: Tenant, kind: str, contact: ContactCard | None = None, context: dict | None = None
) -> tuple[str, MessageTemplate | None]:
    """The reply text from the tenant's active SMS template of this kind, or ("", None) for
    silence."""
    contact = contact or ContactCard(contact_id="", name="")
    language = delivery_for(tenant=tenant, contact_id=contact.contact_id).language
    templates = templates_choose(tenant=tenant, kind=kind, contact=contact, language=language)
    template = templates.get(Channel.SMS)
    if template is None:
        return "", None
    values = rendering.template_values(
        contact=contact,
        # Never the tenant's own name: it is for staff. The neutral name when no organisation
        # was chosen for this sender.
        context={**names_for_customers(None), **(context or {})},
        tenant_country=tenant.default_country,
    )
    try:
        return rendering.render(template.body, values, max_length=1600), template
    except rendering.RenderError:
        if kind == Kind.REPLY_HELP:
            return "", None
        # e.g. Xero gave no payment link: say how to reach the team instead of nothing.
        return reply_compose(tenant=tenant, kind=Kind.REPLY_HELP, contact=contact, context=context)
