"""Reads of the messaging app."""

from django.db.models import Q, QuerySet

from connections.models import Tenant
from messaging.contacts import ContactCard
from messaging.models import PHONE_CHANNELS, Message, MessageTemplate

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
