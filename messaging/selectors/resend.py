"""Resending: which tries belong to one notification, and why a message cannot be resent."""

import re
from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import Q

from messaging.models import PHONE_CHANNELS, UNREACHABLE_RETRY_SUFFIX, Message, OptOut

_WAITING = (Message.Status.PENDING, Message.Status.SCHEDULED)


# The later tries of a notification carry its dedup key plus one of these (a resend, the 30003
# retry, the email fallback), e.g. `invoice:<id>:issued:resend:1:unreachable-retry`.
_LATER_TRY = re.compile(r":(?:resend:[0-9]+|unreachable-retry|fallback)(?=:|$)")


def notification_key(dedup_key: str) -> str:
    later = _LATER_TRY.search(dedup_key)
    return dedup_key[: later.start()] if later else dedup_key


def notification_tries(*, message: Message, statuses: Sequence[str]) -> list[Message]:
    """The other tries, in these statuses, of the notification `message` is a try of, on its
    channel (another channel the tenant chose to send on is its own story), oldest first."""
    key = notification_key(message.dedup_key)
    # A prefix also finds other notifications (`…:reminder:7d` and `…:reminder:7d:repeat:1`):
    # only the keys that are this one plus later-try suffixes belong to it.
    rows = (
        Message.objects.filter(tenant_id=message.tenant_id, channel=message.channel)
        .filter(Q(dedup_key=key) | Q(dedup_key__startswith=f"{key}:"), status__in=statuses)
        .exclude(pk=message.pk)
        .order_by("pk")
    )
    return [row for row in rows if notification_key(row.dedup_key) == key]


@dataclass(frozen=True)
class ResendRefusal:
    code: str  # the API's error code
    reason: str
    other_id: int | None = None  # the message that stands in the way, to link to


def message_resend_refusal(*, message: Message) -> ResendRefusal | None:
    """Why `message` cannot be resent, or None when a resend would really be sent."""
    if not message.can_resend:
        return ResendRefusal(
            "not_resendable", "Only a failed or undelivered message can be resent."
        )
    if (
        message.channel in PHONE_CHANNELS
        and OptOut.objects.filter(tenant_id=message.tenant_id, phone=message.recipient).exists()
    ):
        return ResendRefusal(
            "opted_out",
            f"The recipient replied STOP: nothing is sent to {message.recipient} until they "
            "reply START.",
        )
    # A waiting 30003 retry does not stand in the way: a resend replaces it. The latest try is
    # the one to follow (a retry that a resend replaced is older than the resend).
    later = (
        message.resends.exclude(dedup_key__endswith=UNREACHABLE_RETRY_SUFFIX, status__in=_WAITING)
        .order_by("-pk")
        .first()
    )
    if later is not None:
        how = "tried again" if later.is_unreachable_retry else "resent"
        return ResendRefusal(
            "already_resent",
            f"Already {how} as message #{later.pk} ({later.get_status_display().lower()}).",
            later.pk,
        )
    delivered = notification_tries(message=message, statuses=(Message.Status.DELIVERED,))
    if delivered:
        return ResendRefusal(
            "delivered_since",
            f"This notification was delivered since, by message #{delivered[0].pk}.",
            delivered[0].pk,
        )
    return None
