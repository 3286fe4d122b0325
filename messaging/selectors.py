"""Reads of the messaging app."""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Count, Exists, Min, OuterRef, Q, QuerySet
from django.db.models.functions import TruncDate

from billing_events.selectors import (
    contact_card_find,
    invoice_ids_numbered,
    invoice_number_choose,
    segments_gone,
)
from connections.models import MessagingSettings, Tenant
from messaging.contacts import ContactCard, PhoneChoice, phone_choose
from messaging.languages import language_name
from messaging.models import (
    PHONE_CHANNELS,
    ContactPreference,
    InboundMessage,
    Kind,
    Message,
    MessageTemplate,
    OptOut,
    channel_labels,
)
from messaging.segments import Match, TrackingTag, segment_gone_note, segments_rank

PHONE_PROBLEMS = ("no_phone", "invalid_phone")


def templates_ranked(
    *,
    tenant: Tenant,
    kind: str,
    contact: ContactCard,
    reminder_stage: str = "",
    tracking: Sequence[TrackingTag] = (),
    language: str = "",
) -> dict[str, list[Match]]:
    """Per channel, the active templates that apply to this contact (and invoice), best first
    in the one order of messaging/segments.py; groups and options deleted in Xero match none.
    With a `language`, a channel that has templates in it uses only those; a channel that has
    none uses the default-language ones."""
    candidates = MessageTemplate.objects.filter(
        tenant=tenant,
        kind=kind,
        is_active=True,
        reminder_stage__in=["", reminder_stage],
        language__in=["", language],
        contact_group_id__in=["", *contact.group_ids],
        tracking_option_id__in=["", *(tag.option_id for tag in tracking)],
        country__in=["", contact.country],
    )
    by_channel: dict[str, list[MessageTemplate]] = defaultdict(list)
    for template in _in_language(list(candidates)):
        by_channel[template.channel].append(template)
    refs = {t.segment.xero_ref for templates in by_channel.values() for t in templates}
    gone = segments_gone(tenant=tenant, refs=refs)
    ranked = {
        channel: segments_rank(
            templates,
            contact=contact,
            tracking=tracking,
            gone=gone,
            stage_specific=lambda template: bool(template.reminder_stage),
        )
        for channel, templates in by_channel.items()
    }
    return {channel: matches for channel, matches in ranked.items() if matches}


def _in_language(candidates: list[MessageTemplate]) -> list[MessageTemplate]:
    # A message in the reader's language matters more than a closer match of segment or stage.
    translated = {t.channel for t in candidates if t.language}
    return [t for t in candidates if bool(t.language) == (t.channel in translated)]


def templates_choose(
    *,
    tenant: Tenant,
    kind: str,
    contact: ContactCard,
    reminder_stage: str = "",
    tracking: Sequence[TrackingTag] = (),
    language: str = "",
) -> dict[str, MessageTemplate]:
    """The most specific active template per channel (templates_ranked's first)."""
    ranked = templates_ranked(
        tenant=tenant,
        kind=kind,
        contact=contact,
        reminder_stage=reminder_stage,
        tracking=tracking,
        language=language,
    )
    return {channel: matches[0].item for channel, matches in ranked.items()}


# --- per-contact channels and language (issue 12) -----------------------------------------------


@dataclass(frozen=True)
class Delivery:
    """How one contact is reached: their own channels and language where staff set them, else
    the tenant's defaults."""

    channels: tuple[str, ...]
    language: str
    own_channels: bool

    @property
    def channel_labels(self) -> list[str]:
        return channel_labels(self.channels)

    @property
    def language_name(self) -> str:
        return language_name(self.language)


def messaging_settings_of(*, tenant: Tenant) -> MessagingSettings:
    """The tenant's settings, or the defaults (unsaved) before it saved any."""
    return MessagingSettings.objects.filter(tenant=tenant).first() or MessagingSettings(
        tenant=tenant
    )


def delivery_for(*, tenant: Tenant, contact_id: str) -> Delivery:
    defaults = messaging_settings_of(tenant=tenant)
    preference = (
        ContactPreference.objects.filter(tenant=tenant, contact_id=contact_id).first()
        if contact_id
        else None
    ) or ContactPreference()
    return Delivery(
        channels=tuple(preference.channels or defaults.default_channels),
        language=preference.language or defaults.default_language,
        own_channels=bool(preference.channels),
    )


@dataclass(frozen=True)
class TemplateChoice:
    templates: dict[str, MessageTemplate]
    problem: str = ""  # when nothing goes: "no_template", or "no_channel" (none on its channels)
    reason: str = ""


def templates_for_notification(
    *,
    tenant: Tenant,
    kind: str,
    contact: ContactCard,
    reminder_stage: str = "",
    tracking: Sequence[TrackingTag] = (),
    channels: Sequence[str] | None = None,
) -> TemplateChoice:
    """What notify() sends on: the active templates in the contact's language (else the default)
    on the contact's channels (else the tenant's), or on exactly `channels` when given."""
    delivery = delivery_for(tenant=tenant, contact_id=contact.contact_id)
    usable = templates_choose(
        tenant=tenant,
        kind=kind,
        contact=contact,
        reminder_stage=reminder_stage,
        tracking=tracking,
        language=delivery.language,
    )
    wanted = delivery.channels if channels is None else channels
    chosen = {channel: t for channel, t in usable.items() if channel in wanted}
    if chosen:
        return TemplateChoice(chosen)
    label = Kind(kind).label
    if not usable or channels is not None:
        return TemplateChoice(
            {}, "no_template", f"No active template for “{label}”: nothing was sent."
        )
    whose = (
        "the channels set for this contact"
        if delivery.own_channels
        else "your default channels (Messaging settings)"
    )
    return TemplateChoice(
        {},
        "no_channel",
        f"No active template for “{label}” on {' or '.join(channel_labels(wanted))}, {whose}; "
        f"there is one for {' or '.join(channel_labels(usable))}. Nothing was sent.",
    )


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


def template_languages(*, tenant: Tenant) -> list[str]:
    """The languages the tenant has templates in, the default ("") first."""
    codes = MessageTemplate.objects.filter(tenant=tenant).values_list("language", flat=True)
    return sorted(set(codes) | {""})


def messages_for_log(
    *,
    tenant: Tenant,
    status: str = "",
    channel: str = "",
    kind: str = "",
    contact: str = "",
    invoice: str = "",
    organisation: str = "",
    date_from: date | None = None,
    date_to: date | None = None,
) -> QuerySet[Message]:
    """The send log, filtered; dates are days in the tenant's time zone, both ends included.

    `organisation` is a Xero tenantId. An invoice number that several organisations have raises
    InvoiceNumberAmbiguous unless the organisation is given: the page asks which.
    """
    messages = _of_organisation(tenant=tenant, organisation=organisation, invoice=invoice)
    if status:
        messages = messages.filter(status=status)
    if channel:
        messages = messages.filter(channel=channel)
    if kind:
        messages = messages.filter(kind=kind)
    if contact:
        messages = messages.filter(
            Q(contact_name__icontains=contact) | Q(recipient__icontains=contact)
        )
    if invoice:
        messages = messages.filter(
            Q(invoice_id__in=invoice_ids_numbered(tenant=tenant, number=invoice))
            | Q(invoice_id__iexact=invoice)
        )
    zone = ZoneInfo(tenant.timezone)
    if date_from:
        messages = messages.filter(created_at__gte=datetime.combine(date_from, time(), zone))
    if date_to:
        next_day = date_to + timedelta(days=1)
        messages = messages.filter(created_at__lt=datetime.combine(next_day, time(), zone))
    return messages


def _of_organisation(*, tenant: Tenant, organisation: str, invoice: str) -> QuerySet[Message]:
    if invoice:
        invoice_number_choose(tenant=tenant, number=invoice, organisation=organisation)
    messages = Message.objects.filter(tenant=tenant)
    return messages.filter(xero_tenant_id=organisation) if organisation else messages


def messages_exist(*, tenant: Tenant) -> bool:
    return Message.objects.filter(tenant=tenant).exists()


RESENDABLE = (Message.Status.FAILED, Message.Status.UNDELIVERED)


def messages_resendable(messages: QuerySet[Message]) -> QuerySet[Message]:
    """Failed or undelivered messages nobody has resent yet: the ones needing attention."""
    resent = Message.objects.filter(resend_of=OuterRef("pk"))
    return messages.filter(status__in=RESENDABLE).exclude(Exists(resent))


def messages_needing_attention(*, tenant: Tenant) -> QuerySet[Message]:
    return messages_resendable(Message.objects.filter(tenant=tenant))


def templates_for_editor(*, tenant: Tenant) -> QuerySet[MessageTemplate]:
    """Every template, in kind × channel × segment × stage order."""
    return MessageTemplate.objects.filter(tenant=tenant).order_by(
        "kind", "channel", "contact_group_name", "tracking_label", "country", "region",
        "reminder_stage", "pk",
    )  # fmt: skip


def templates_noted(*, tenant: Tenant, templates) -> list[MessageTemplate]:
    """The templates, each with `segment_note`: what to say when its contact group or tracking
    option was deleted in Xero (it matches nothing, so the default is used)."""
    templates = list(templates)
    gone = segments_gone(tenant=tenant, refs={t.segment.xero_ref for t in templates})
    for template in templates:
        is_gone = template.segment.xero_ref in gone
        template.segment_note = segment_gone_note(template.segment) if is_gone else ""
    return templates


# --- dashboard figures (issue 7): one query each -------------------------------------------

_S = Message.Status
# Reached the provider; "failed" counts both refusals and failed deliveries.
OUTCOMES = {
    "sent": (_S.SENT, _S.DELIVERED, _S.UNDELIVERED),
    "delivered": (_S.DELIVERED,),
    "failed": (_S.FAILED, _S.UNDELIVERED),
    "skipped": (_S.SKIPPED,),
}


@dataclass(frozen=True)
class Outcomes:
    sent: int
    delivered: int
    failed: int
    skipped: int
    phone_sent: int  # SMS and WhatsApp only: email never reports delivery

    @property
    def delivery_rate(self) -> int | None:
        """Per cent of texts Twilio confirmed delivered, of those it accepted."""
        if not self.phone_sent:
            return None
        return round(100 * self.delivered / self.phone_sent)


def message_outcomes(*, tenant: Tenant, now: datetime) -> dict[int, Outcomes]:
    """Counts for the last 7 and 30 days, in one query."""
    counts = {}
    for days in (7, 30):
        since = Q(created_at__gte=now - timedelta(days=days))
        for name, statuses in OUTCOMES.items():
            counts[f"{name}_{days}"] = Count("pk", filter=since & Q(status__in=statuses))
        counts[f"phone_sent_{days}"] = Count(
            "pk",
            filter=since & Q(status__in=OUTCOMES["sent"], channel__in=PHONE_CHANNELS),
        )
    row = Message.objects.filter(tenant=tenant, created_at__gte=now - timedelta(days=30)).aggregate(
        **counts
    )
    return {
        days: Outcomes(
            **{
                name: row[f"{name}_{days}"]
                for name in ("sent", "delivered", "failed", "skipped", "phone_sent")
            }
        )
        for days in (7, 30)
    }


# Exclusive buckets for the chart's stacked bars (a message is in one bar segment only).
DAILY_BUCKETS = {
    "delivered": (_S.DELIVERED,),
    "sent": (_S.SENT,),
    "failed": (_S.FAILED, _S.UNDELIVERED),
    "skipped": (_S.SKIPPED,),
}


def message_daily_outcomes(*, tenant: Tenant, now: datetime, days: int = 30) -> list[dict]:
    """One entry per day (the tenant's days), oldest first, zeros included, in one query."""
    zone = ZoneInfo(tenant.timezone)
    today = now.astimezone(zone).date()
    first = today - timedelta(days=days - 1)
    rows = (
        Message.objects.filter(tenant=tenant, created_at__gte=datetime.combine(first, time(), zone))
        .annotate(day=TruncDate("created_at", tzinfo=zone))
        .values("day")
        .annotate(
            **{
                name: Count("pk", filter=Q(status__in=statuses))
                for name, statuses in DAILY_BUCKETS.items()
            }
        )
        .order_by("day")
    )
    by_day = {row["day"]: row for row in rows}
    empty = dict.fromkeys(DAILY_BUCKETS, 0)
    return [
        {**empty, **by_day.get(first + timedelta(days=n), {}), "day": first + timedelta(days=n)}
        for n in range(days)
    ]


@dataclass(frozen=True)
class Queue:
    pending: int
    scheduled: int
    sending: int
    oldest: datetime | None  # the oldest message still waiting to go out
    next_scheduled: datetime | None


def message_queue(*, tenant: Tenant) -> Queue:
    waiting = (_S.PENDING, _S.SCHEDULED, _S.SENDING)
    row = Message.objects.filter(tenant=tenant, status__in=waiting).aggregate(
        pending=Count("pk", filter=Q(status=_S.PENDING)),
        scheduled=Count("pk", filter=Q(status=_S.SCHEDULED)),
        sending=Count("pk", filter=Q(status=_S.SENDING)),
        oldest=Min("created_at"),
        next_scheduled=Min("send_after", filter=Q(status=_S.SCHEDULED)),
    )
    return Queue(**row)


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


def inbox_messages(
    *, tenant: Tenant, everything: bool = False, organisation: str = ""
) -> QuerySet[InboundMessage]:
    """Texts customers sent: by default only those a person should answer; only those from
    contacts of `organisation` (a Xero tenantId) when given."""
    inbound = InboundMessage.objects.filter(tenant=tenant).select_related("reply")
    if organisation:
        # A JSON list of ids, matched as its text: one quoted id is one element (SQLite has no
        # JSON containment lookup).
        inbound = inbound.filter(xero_tenant_ids__icontains=f'"{organisation}"')
    return inbound if everything else inbound.filter(intent=InboundMessage.Intent.OTHER)


def messaging_settings_for_inbound(
    *, account_sid: str, messaging_service_sid: str, to: str
) -> MessagingSettings | None:
    """Whose number a customer texted: the Messaging Service, else the number, else the account
    — each only when exactly one active tenant has it. The signature is checked after."""
    # PostgreSQL text cannot hold NUL: no stored value matches one, and asking would be a 500.
    account_sid, messaging_service_sid, to = (
        "" if "\x00" in value else value for value in (account_sid, messaging_service_sid, to)
    )
    number = to.removeprefix("whatsapp:")
    lookups = [
        {"twilio_messaging_service_sid": messaging_service_sid} if messaging_service_sid else None,
        {"twilio_from_number": number} if number else None,
        {"whatsapp_from__in": [number, f"whatsapp:{number}"]} if number else None,
        {"twilio_account_sid": account_sid} if account_sid else None,
    ]
    active = MessagingSettings.objects.filter(tenant__is_active=True).select_related("tenant")
    for lookup in filter(None, lookups):
        found = list(active.filter(**lookup)[:2])
        if len(found) == 1 and (not account_sid or found[0].twilio_account_sid == account_sid):
            return found[0]
    return None


# --- for the REST API ---------------------------------------------------------------------------


def messages_filter(
    *,
    tenant: Tenant,
    status: str = "",
    kind: str = "",
    channel: str = "",
    contact_id: str = "",
    invoice_number: str = "",
    organisation: str = "",
    created_after: datetime | None = None,
    created_before: datetime | None = None,
) -> QuerySet[Message]:
    """The send log for the REST API: exact ids and instants, where the page's messages_for_log
    takes what a person types (names, parts of numbers, local days). Raises
    InvoiceNumberAmbiguous as messages_for_log does."""
    messages = _of_organisation(tenant=tenant, organisation=organisation, invoice=invoice_number)
    exact = {"status": status, "kind": kind, "channel": channel, "contact_id": contact_id}
    messages = messages.filter(**{name: value for name, value in exact.items() if value})
    if invoice_number:
        messages = messages.filter(
            invoice_id__in=invoice_ids_numbered(tenant=tenant, number=invoice_number)
        )
    if created_after:
        messages = messages.filter(created_at__gte=created_after)
    if created_before:
        messages = messages.filter(created_at__lt=created_before)
    return messages


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


def messaging_channels_configured(*, tenant: Tenant) -> dict[str, bool]:
    """Which channels have what they need to send, as messaging.channels requires it."""
    m = MessagingSettings.objects.filter(tenant=tenant).first()
    if m is None:
        return {"sms": False, "whatsapp": False, "email": False}
    twilio = bool(
        m.twilio_account_sid
        and (m.twilio_auth_token or (m.twilio_api_key_sid and m.twilio_api_key_secret))
    )
    return {
        "sms": twilio and bool(m.twilio_messaging_service_sid or m.twilio_from_number),
        "whatsapp": twilio and bool(m.whatsapp_from),
        "email": bool(m.sendgrid_api_key and m.sendgrid_from_email),
    }
