"""Contacts as messaging sees them: how each is reached, who has no usable phone, who opted out."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import QuerySet

from connections.models import Tenant, XeroConnection
from messaging.models import (
    PHONE_CHANNELS,
    ContactPreference,
    Kind,
    Message,
    MessageTemplate,
    OptOut,
    channel_labels,
)
from messaging.selectors.templates import (
    Delivery,
    delivery_for,
    messaging_settings_of,
    templates_for_notification,
)
from snapshots.contacts import ContactCard, PhoneChoice, phone_choose, phones_as_written
from snapshots.segments import TrackingTag
from snapshots.selectors import contact_card_find, contact_cards_by_id, invoice_states

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


@dataclass(frozen=True)
class NeedingPhone:
    """A contact whose latest text was skipped for want of a usable number, and still lacks one.

    Reads like the Message it stands on (contact_name, status_reason, …) for the dashboard,
    the weekly summary and the API."""

    message: Message
    phone_in_xero: str  # the numbers as Xero holds them ("" when it holds none)
    organisation: str  # the organisation's name in Xero; "" when unknown

    contact_id = property(lambda self: self.message.contact_id)
    contact_name = property(lambda self: self.message.contact_name)
    error_code = property(lambda self: self.message.error_code)
    status_reason = property(lambda self: self.message.status_reason)
    created_at = property(lambda self: self.message.created_at)
    pk = property(lambda self: self.message.pk)


def _organisation_names(tenant: Tenant) -> dict[str, str]:
    return dict(XeroConnection.objects.filter(tenant=tenant).values_list("xero_tenant_id", "name"))


def contacts_needing_phone(*, tenant: Tenant) -> list[NeedingPhone]:
    """Contacts whose latest text was skipped for want of a usable phone number in Xero.

    One row per contact (the latest such message). The contact as Dunwell last saw it in Xero
    decides, not the message: once a CONTACT webhook or the poll brings a usable number, the
    contact leaves the list (and its missed texts are offered, texts_missed_for_phone).
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
    skipped = {c: m for c, m in latest.items() if m.error_code in PHONE_PROBLEMS}
    cards = contact_cards_by_id(tenant=tenant, contact_ids=skipped)
    organisations = _organisation_names(tenant)
    needing = []
    for contact_id, message in skipped.items():
        card = cards.get(contact_id)
        if card and phone_choose(card, default_country=tenant.default_country).e164:
            continue
        needing.append(
            NeedingPhone(
                message=message,
                phone_in_xero=phones_as_written(card) if card else "",
                organisation=organisations.get(card.xero_tenant_id, "") if card else "",
            )
        )
    return sorted(needing, key=lambda row: row.message.contact_name.lower())


# Texts skipped for want of a number are offered to staff for this long after; older ones are
# stale news. Kinds that are answers to a customer's text are never offered again.
MISSED_OFFER_DAYS = 7
_MISSED_KINDS = (Kind.INVOICE_ISSUED, Kind.PAYMENT_RECEIVED, Kind.CREDIT_NOTE_ISSUED, Kind.REMINDER)
_CLOSED_INVOICE = ("VOIDED", "DELETED")


@dataclass(frozen=True)
class MissedText:
    message: Message
    contact: ContactCard  # as Dunwell last saw it in Xero
    phone: str  # the E.164 number it would go to now
    organisation: str


def texts_missed_for_phone(
    *, tenant: Tenant, now: datetime, message_ids: Sequence[int] | None = None
) -> list[MissedText]:
    """Texts skipped in the last MISSED_OFFER_DAYS for want of a usable number, whose contact
    now has one in Xero and which still make sense to send: not about a voided invoice, not an
    invoice or reminder text for an invoice since paid, not a reminder a later one replaced, and
    not a notification that reached the contact on another channel meanwhile."""
    candidates = Message.objects.filter(
        tenant=tenant,
        channel__in=PHONE_CHANNELS,
        kind__in=_MISSED_KINDS,
        status=Message.Status.SKIPPED,
        error_code__in=PHONE_PROBLEMS,
        created_at__gte=now - timedelta(days=MISSED_OFFER_DAYS),
    ).exclude(contact_id="")
    if message_ids is not None:
        candidates = candidates.filter(pk__in=message_ids)
    skipped = list(candidates.order_by("contact_name", "created_at", "pk"))
    if not skipped:
        return []
    cards = contact_cards_by_id(tenant=tenant, contact_ids={m.contact_id for m in skipped})
    invoices = invoice_states(tenant=tenant, invoice_ids={m.invoice_id for m in skipped})
    reached = set(
        Message.objects.filter(tenant=tenant, dedup_key__in={m.dedup_key for m in skipped})
        .exclude(status__in=(Message.Status.SKIPPED, Message.Status.CANCELLED))
        .values_list("dedup_key", flat=True)
    )
    organisations = _organisation_names(tenant)
    missed = []
    for message in skipped:
        card = cards.get(message.contact_id)
        phone = phone_choose(card, default_country=tenant.default_country).e164 if card else None
        if phone is None or message.dedup_key in reached:
            continue
        if not _still_worth_sending(tenant, message, invoices.get(message.invoice_id)):
            continue
        organisation = organisations.get(card.xero_tenant_id, "")
        missed.append(MissedText(message, card, phone, organisation))
    return missed


def _still_worth_sending(tenant: Tenant, message: Message, invoice) -> bool:
    if not message.invoice_id:
        return True
    if invoice is None:
        return False
    status, amount_due = invoice
    if status in _CLOSED_INVOICE:
        return False
    if message.kind in (Kind.INVOICE_ISSUED, Kind.REMINDER) and (
        status != "AUTHORISED" or amount_due <= 0
    ):
        return False
    if message.kind == Kind.REMINDER:
        # A later reminder of the same invoice means this one is no longer the one due.
        later = Message.objects.filter(
            tenant=tenant,
            kind=Kind.REMINDER,
            invoice_id=message.invoice_id,
            created_at__gt=message.created_at,
        )
        return not later.exists()
    return True


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
    phone = phone_choose(contact, default_country=tenant.default_country).e164
    opted_out = phone is not None and OptOut.objects.filter(tenant=tenant, phone=phone).exists()
    return _channels_unreachable_reason(
        channels=choice.templates, contact=contact, phone=phone, opted_out=opted_out
    )


def _channels_unreachable_reason(
    *, channels, contact: ContactCard, phone: str | None, opted_out: bool
) -> str:
    """Why none of `channels` reaches the contact; "" as soon as one does (notify's checks)."""
    reasons = []
    for channel in sorted(channels):
        if channel not in PHONE_CHANNELS:
            if contact.email:
                return ""
            reasons.append("No email address")
        elif phone is None:
            reasons.append("No usable phone number")
        elif opted_out:
            reasons.append("Opted out (replied STOP)")
        else:
            return ""
    return "; ".join(dict.fromkeys(reasons))


@dataclass(frozen=True)
class Reach:
    """How a contact would be reached: the channels they get and, if none works, why."""

    channels: tuple[str, ...]
    unreachable_reason: str

    @property
    def channel_labels(self) -> list[str]:
        return channel_labels(self.channels)


def contacts_reach(
    *, tenant: Tenant, kind: str, contacts: Sequence[ContactCard]
) -> dict[str, Reach]:
    """Per ContactID, the channels each contact gets for this kind of notification (theirs,
    else the tenant's, where the tenant has an active template of the kind) and why none
    reaches them — notify()'s phone, email and opt-out checks, for a whole page in four
    queries. Segments and languages are not weighed: contact_unreachable_reason does that
    for one contact."""
    defaults = messaging_settings_of(tenant=tenant)
    templated = set(
        MessageTemplate.objects.filter(tenant=tenant, kind=kind, is_active=True).values_list(
            "channel", flat=True
        )
    )
    own = dict(
        ContactPreference.objects.filter(
            tenant=tenant, contact_id__in=[c.contact_id for c in contacts]
        )
        .exclude(channels=[])
        .values_list("contact_id", "channels")
    )
    phones = {
        c.contact_id: phone_choose(c, default_country=tenant.default_country).e164 for c in contacts
    }
    opted_out = set(
        OptOut.objects.filter(
            tenant=tenant, phone__in=[p for p in phones.values() if p]
        ).values_list("phone", flat=True)
    )
    reach = {}
    for contact in contacts:
        wanted = own.get(contact.contact_id) or defaults.default_channels
        channels = tuple(channel for channel in wanted if channel in templated)
        phone = phones[contact.contact_id]
        reason = _channels_unreachable_reason(
            channels=channels, contact=contact, phone=phone, opted_out=phone in opted_out
        )
        reach[contact.contact_id] = Reach(channels, reason if channels else "No active template")
    return reach


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
