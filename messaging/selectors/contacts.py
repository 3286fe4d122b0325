"""Contacts as messaging sees them: how each is reached, who has no usable phone, who opted out."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet

from connections.models import Tenant
from messaging.models import (
    PHONE_CHANNELS,
    ContactPreference,
    Message,
    OptOut,
)
from messaging.selectors.templates import Delivery, delivery_for, templates_for_notification
from snapshots.contacts import ContactCard, PhoneChoice, phone_choose
from snapshots.segments import TrackingTag
from snapshots.selectors import contact_card_find

PHONE_PROBLEMS = ("no_phone", "invalid_phone")


@dataclass(frozen=True)
class ContactProfile:
    """One contact as their page shows it: from Xero when imported, else from what we sent."""

    contact_id: str
    name: str
    email: str
    phone: PhoneChoice | None  # None: not imported from Xero, so unknown
    xero_tenant_id: str  # its Xero organisation; "" when not imported
    preference: ContactPreference | None
    delivery: Delivery
    messages: list[Message]


def contact_profile(
    *, tenant: Tenant, contact_id: str, messages: int = 20
) -> ContactProfile | None:
    """The tenant's contact with this Xero ContactID, or None if the tenant never saw it."""
    card = contact_card_find(tenant=tenant, contact_id=contact_id)
    preference = ContactPreference.objects.filter(tenant=tenant, contact_id=contact_id).first()
    sent = list(Message.objects.filter(tenant=tenant, contact_id=contact_id)[:messages])
    if card is None and preference is None and not sent:
        return None
    names = [card.name if card else "", preference.contact_name if preference else ""]
    names += [message.contact_name for message in sent]
    return ContactProfile(
        contact_id=contact_id,
        name=next(filter(None, names), contact_id),
        email=card.email if card else "",
        xero_tenant_id=card.xero_tenant_id if card else "",
        phone=phone_choose(card, default_country=tenant.default_country) if card else None,
        preference=preference,
        delivery=delivery_for(tenant=tenant, contact_id=contact_id),
        messages=sent,
    )


def contact_preferences(*, tenant: Tenant) -> QuerySet[ContactPreference]:
    """Contacts with channels or a language of their own."""
    return ContactPreference.objects.filter(tenant=tenant).exclude(channels=[], language="")


def contacts_needing_phone(*, tenant: Tenant) -> list[Message]:
    """Contacts whose latest text was skipped for want of a usable phone number in Xero.

    One row per contact (the latest such message), so fixing the number in Xero and the next
    successful message takes them off the list.
    """
    latest: dict[str, Message] = {}
    texts = (
        Message.objects.filter(tenant=tenant, channel__in=PHONE_CHANNELS)
        .exclude(contact_id="")
        .order_by("-created_at", "-pk")
        .only("contact_id", "contact_name", "error_code", "status_reason", "created_at", "kind")
    )
    for message in texts.iterator():
        latest.setdefault(message.contact_id, message)
    needing = [m for m in latest.values() if m.error_code in PHONE_PROBLEMS]
    return sorted(needing, key=lambda m: m.contact_name.lower())


def contact_unreachable_reason(
    *,
    tenant: Tenant,
    kind: str,
    contact: ContactCard,
    reminder_stage: str = "",
    tracking: Sequence[TrackingTag] = (),
) -> str:
    """Why notify() would send this contact nothing on any channel; "" when something goes.

    Mirrors notify()'s own checks (template, phone or email, opt-out), for previews.
    """
    choice = templates_for_notification(
        tenant=tenant, kind=kind, contact=contact, reminder_stage=reminder_stage, tracking=tracking
    )
    if choice.problem == "no_template":
        return "No active template"
    if choice.problem:
        return "No active template on the channels this contact gets"
    reasons = []
    for channel in sorted(choice.templates):
        if channel not in PHONE_CHANNELS:
            if contact.email:
                return ""
            reasons.append("No email address")
            continue
        choice = phone_choose(contact, default_country=tenant.default_country)
        if choice.e164 is None:
            reasons.append("No usable phone number")
        elif OptOut.objects.filter(tenant=tenant, phone=choice.e164).exists():
            reasons.append("Opted out (replied STOP)")
        else:
            return ""
    return "; ".join(dict.fromkeys(reasons))


@dataclass(frozen=True)
class OptedOut:
    phone: str
    source: str
    created_at: datetime
    contact_id: str
    contact_name: str


def contacts_opted_out(*, tenant: Tenant) -> list[OptedOut]:
    """Opted-out numbers, each with the contact we last texted on it (if any)."""
    latest = {}
    texts = (
        Message.objects.filter(tenant=tenant, channel__in=PHONE_CHANNELS)
        .exclude(recipient="")
        .order_by("-created_at", "-pk")
        .values("recipient", "contact_id", "contact_name")
    )
    opt_outs = list(OptOut.objects.filter(tenant=tenant).order_by("phone"))
    for text in texts.filter(recipient__in=[o.phone for o in opt_outs]).iterator():
        latest.setdefault(text["recipient"], text)
    return [
        OptedOut(
            phone=opt_out.phone,
            source=opt_out.source,
            created_at=opt_out.created_at,
            contact_id=latest.get(opt_out.phone, {}).get("contact_id", ""),
            contact_name=latest.get(opt_out.phone, {}).get("contact_name", ""),
        )
        for opt_out in opt_outs
    ]
