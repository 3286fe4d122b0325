"""Reads of the messaging app."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Count, Exists, Min, OuterRef, Q, QuerySet
from django.db.models.functions import TruncDate

from billing_events.selectors import invoice_ids_numbered
from connections.models import MessagingSettings, Tenant
from messaging.contacts import ContactCard, phone_choose
from messaging.models import PHONE_CHANNELS, InboundMessage, Message, MessageTemplate, OptOut

PHONE_PROBLEMS = ("no_phone", "invalid_phone")


def templates_choose(
    *, tenant: Tenant, kind: str, contact: ContactCard, reminder_stage: str = ""
) -> dict[str, MessageTemplate]:
    """The most specific active template per channel.

    A template for one of the contact's Xero groups beats the default (blank group); then one for
    this reminder stage beats "any stage". Between two of the contact's groups, the group name
    decides, so the choice is stable.
    """
    candidates = MessageTemplate.objects.filter(
        tenant=tenant,
        kind=kind,
        is_active=True,
        contact_group_id__in=["", *contact.group_ids],
        reminder_stage__in=["", reminder_stage],
    ).order_by("contact_group_name", "pk")
    chosen: dict[str, MessageTemplate] = {}
    for template in candidates:
        best = chosen.get(template.channel)
        if best is None or _specificity(template) > _specificity(best):
            chosen[template.channel] = template
    return chosen


def _specificity(template: MessageTemplate) -> tuple[bool, bool]:
    return (bool(template.contact_group_id), bool(template.reminder_stage))


def messages_for_log(
    *,
    tenant: Tenant,
    status: str = "",
    channel: str = "",
    kind: str = "",
    contact: str = "",
    invoice: str = "",
    date_from: date | None = None,
    date_to: date | None = None,
) -> QuerySet[Message]:
    """The send log, filtered; dates are days in the tenant's time zone, both ends included."""
    messages = Message.objects.filter(tenant=tenant)
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
    """Every template, in kind × channel × contact group × stage order."""
    return MessageTemplate.objects.filter(tenant=tenant).order_by(
        "kind", "channel", "contact_group_name", "reminder_stage", "pk"
    )


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
    *, tenant: Tenant, kind: str, contact: ContactCard, reminder_stage: str = ""
) -> str:
    """Why notify() would send this contact nothing on any channel; "" when something goes.

    Mirrors notify()'s own checks (template, phone or email, opt-out), for previews.
    """
    chosen = templates_choose(
        tenant=tenant, kind=kind, contact=contact, reminder_stage=reminder_stage
    )
    if not chosen:
        return "No active template"
    reasons = []
    for channel in sorted(chosen):
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


def inbox_messages(*, tenant: Tenant, everything: bool = False) -> QuerySet[InboundMessage]:
    """Texts customers sent: by default only those a person should answer."""
    inbound = InboundMessage.objects.filter(tenant=tenant).select_related("reply")
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
    created_after: datetime | None = None,
    created_before: datetime | None = None,
) -> QuerySet[Message]:
    """The send log for the REST API: exact ids and instants, where the page's messages_for_log
    takes what a person types (names, parts of numbers, local days)."""
    messages = Message.objects.filter(tenant=tenant)
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
