"""Twilio's status callbacks and the hourly poll of unfinished texts: a status only moves
forward (FACTS.md "Statuses").
"""

import logging
import re
from datetime import timedelta

from django.utils import timezone

from messaging.channels import (
    FINAL_PROVIDER_STATUSES,
    PROVIDER_STATUS_RANK,
    SendError,
    channel_for,
    explain,
)
from messaging.models import (
    PHONE_CHANNELS,
    Message,
)
from messaging.services.dispatch import BATCH, _messaging_settings
from messaging.services.fallback import _email_fallback
from messaging.services.moves import _OPEN, _STATUS_FOR_PROVIDER, Status, _record
from messaging.services.replies import optout_add
from messaging.services.resend import UNREACHABLE, _retry_unreachable_later

logger = logging.getLogger(__name__)


UNFINISHED_AFTER = timedelta(hours=12)
UNFINISHED_GIVE_UP_AFTER = timedelta(days=3)


# Twilio SIDs are two letters and 32 hex digits (SM…, MM…); error codes are numbers (FACTS.md).
_MESSAGE_SID = re.compile(r"[A-Z]{2}[0-9a-f]{32}")
_ERROR_CODE = re.compile(r"[0-9]{1,10}")


def message_status_record(
    *, message: Message, provider_status: str, message_sid: str = "", error_code: str = ""
) -> bool:
    """Apply a Twilio status if it moves the message forward; repeats and late ones do nothing."""
    rank = PROVIDER_STATUS_RANK.get(provider_status)
    if rank is None or provider_status == "":
        return False
    # The callback's fields are whatever was posted: keep only a real SID and a numeric code, so
    # nothing oversized (a 500 on PostgreSQL) or meaningless lands on the row.
    message_sid = message_sid if _MESSAGE_SID.fullmatch(message_sid) else ""
    error_code = error_code if _ERROR_CODE.fullmatch(error_code) else ""
    earlier = [s for s, r in PROVIDER_STATUS_RANK.items() if r < rank]
    fields = {
        "status": _STATUS_FOR_PROVIDER[provider_status],
        "provider_status": provider_status,
        "is_ambiguous": False,  # a callback for this token proves Twilio has the message
        "updated_at": timezone.now(),
    }
    if message_sid:
        fields["provider_id"] = message_sid
    if error_code:
        fields.update(error_code=error_code, error_message=explain(error_code))
    if provider_status in FINAL_PROVIDER_STATUSES:
        fields["finished_at"] = timezone.now()
    before = message.status
    moved = Message.objects.filter(
        pk=message.pk,
        provider_status__in=earlier,
        status__in=(*_OPEN, Status.SENDING, Status.SENT, Status.DELIVERED, Status.UNDELIVERED,
                    Status.FAILED),
    ).update(**fields)  # fmt: skip
    if not moved:
        return False
    message.refresh_from_db()
    _record(message, from_status=before, note=f"Twilio: {provider_status}")
    if error_code == "21610":
        optout_add(tenant=message.tenant, phone=message.recipient, source="Twilio error 21610")
    if message.status in (Status.UNDELIVERED, Status.FAILED):
        fallback = _email_fallback(message)
        emailed = fallback is not None and fallback.status != Status.SKIPPED
        # An email sent instead takes the place of the later retry of an unreachable handset.
        if provider_status == "undelivered" and error_code == UNREACHABLE and not emailed:
            _retry_unreachable_later(message)
    return True


def messages_poll_unfinished() -> int:
    """Ask Twilio about messages still not final 12 hours after sending (a callback got lost)."""
    now = timezone.now()
    unfinished = (
        Message.objects.filter(
            status=Status.SENT,
            channel__in=PHONE_CHANNELS,
            sent_at__lte=now - UNFINISHED_AFTER,
            sent_at__gte=now - UNFINISHED_GIVE_UP_AFTER,
        )
        .exclude(provider_id="")
        .order_by("sent_at")[:BATCH]
    )
    moved = 0
    for message in unfinished:
        channel = channel_for(message.channel, _messaging_settings(message.tenant_id))
        try:
            found = channel.fetch(sid=message.provider_id)
        except SendError as error:
            logger.warning("poll failed message=%s code=%s", message.pk, error.code)
            continue
        moved += message_status_record(
            message=message, provider_status=found.status, error_code=found.error_code
        )
    return moved
