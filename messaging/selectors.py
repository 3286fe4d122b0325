"""Reads of the messaging app."""

from django.db.models import Q, QuerySet

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
    *, tenant: Tenant, status: str = "", channel: str = "", kind: str = "", search: str = ""
) -> QuerySet[Message]:
    messages = Message.objects.filter(tenant=tenant)
    if status:
        messages = messages.filter(status=status)
    if channel:
        messages = messages.filter(channel=channel)
    if kind:
        messages = messages.filter(kind=kind)
    if search:
        messages = messages.filter(
            Q(contact_name__icontains=search)
            | Q(recipient__icontains=search)
            | Q(dedup_key__icontains=search)
            | Q(body__icontains=search)
        )
    return messages


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
