"""Dispatch: send a due message through its channel, retry transient failures with backoff,
fail permanent ones with the provider's code, and reconcile sends whose outcome was lost.
"""

import logging
import secrets
from datetime import timedelta

from django.conf import settings
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from connections.models import MessagingSettings
from messaging.channels import (
    FINAL_PROVIDER_STATUSES,
    FoundMessage,
    Outgoing,
    SendError,
    SendResult,
    channel_for,
    explain,
)
from messaging.models import (
    Channel,
    Message,
)
from messaging.selectors import notification_tries
from messaging.services.fallback import _email_fallback
from messaging.services.moves import (
    _OPEN,
    _STATUS_FOR_PROVIDER,
    DISPATCH_TASK,
    RECONCILE_TASK,
    Status,
    _cancel,
    _kick,
    _move,
)
from messaging.services.notify import _card_of, _is_opted_out, _phone_of, quiet_hours_end
from messaging.services.replies import optout_add

logger = logging.getLogger(__name__)


MAX_ATTEMPTS = 6
BACKOFF_BASE_SECONDS = 30
BACKOFF_CAP_SECONDS = 3600
# A row still `sending` this long after its claim belongs to a worker that died.
SENDING_STALE_AFTER = timedelta(minutes=5)
# Wait before asking Twilio about an ambiguous send: its message list filters on DateSent,
# which a message only gets once it has left Twilio's queue.
AMBIGUOUS_RECHECK_AFTER = timedelta(minutes=2)


BATCH = 500


def status_callback_url(message: Message) -> str:
    return settings.PUBLIC_BASE_URL + reverse("twilio-status", args=[message.callback_token])


def _backoff(attempts: int) -> timedelta:
    ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0))
    return timedelta(seconds=secrets.SystemRandom().uniform(ceiling / 2, ceiling))


def _messaging_settings(tenant_id: int) -> MessagingSettings:
    return MessagingSettings.objects.filter(tenant_id=tenant_id).first() or MessagingSettings(
        tenant_id=tenant_id
    )


def message_dispatch(*, message: Message) -> Message:
    """Send one due message, at most once: claim it, call the channel, record the answer."""
    now = timezone.now()
    if _is_opted_out(message):
        _move(
            message,
            leaving=_OPEN,
            note="Opted out before sending.",
            status=Status.SKIPPED,
            error_code="opted_out",
            status_reason="The recipient opted out (replied STOP).",
            finished_at=now,
        )
        return message
    # A staff member's test was asked for now, by the person it goes to: never held.
    until = not message.is_test and quiet_hours_end(
        tenant=message.tenant, phone=_phone_of(message), at=now, contact=_card_of(message)
    )
    if until:
        Message.objects.filter(pk=message.pk, status__in=_OPEN).update(
            status=Status.SCHEDULED,
            send_after=until,
            next_attempt_at=until,
            quiet_hours_hold=True,
            updated_at=now,
        )
        return message
    claimed = _move(
        message,
        leaving=_OPEN,
        where={"next_attempt_at__lte": now},
        note="Claimed for sending.",
        status=Status.SENDING,
        claimed_at=now,
        attempts=F("attempts") + 1,
        next_attempt_at=now + SENDING_STALE_AFTER,
    )
    if not claimed:
        return message  # someone else has it, or it is not due yet
    # Checked once the row is ours, so a delivery recorded before this point is always seen.
    delivered = _delivered_since(message) if message.resend_of_id else None
    if delivered is not None:
        reason = f"Not sent: message #{delivered.pk} of the same notification was delivered."
        _cancel(message, leaving=(Status.SENDING,), reason=reason)
        return message
    return _send(message)


def _delivered_since(message: Message) -> Message | None:
    """Another try of the notification that was delivered: this one must not go as well."""
    return next(iter(notification_tries(message=message, statuses=(Status.DELIVERED,))), None)


def _send(message: Message) -> Message:
    channel = channel_for(message.channel, _messaging_settings(message.tenant_id))
    outgoing = Outgoing(
        to=message.recipient,
        body=message.body,
        subject=message.subject,
        reference=message.callback_token,
        status_callback=status_callback_url(message),
        content_sid=message.content_sid,
        content_variables=message.content_variables,
        from_name=message.template_values.get("organisation_name", ""),
    )
    try:
        result = channel.send(outgoing)
    except SendError as error:
        logger.warning(
            "send failed message=%s code=%s permanent=%s ambiguous=%s",
            message.pk,
            error.code,
            error.permanent,
            error.ambiguous,
        )
        return _send_failed(message, error)
    return _accepted(message, result, note="Accepted by the provider.")


def _accepted(message: Message, result: SendResult, *, note: str) -> Message:
    now = timezone.now()
    status = _STATUS_FOR_PROVIDER.get(result.provider_status, Status.SENT)
    moved = _move(
        message,
        leaving=(Status.SENDING,),
        note=note,
        status=status,
        provider_id=result.provider_id,
        provider_status=result.provider_status,
        is_ambiguous=False,
        last_error="",
        sent_at=now,
        finished_at=now if result.provider_status in FINAL_PROVIDER_STATUSES else None,
    )
    if not moved:  # a status callback arrived first and already moved the row forward
        Message.objects.filter(pk=message.pk, provider_id="").update(provider_id=result.provider_id)
    return message


def _send_failed(message: Message, error: SendError) -> Message:
    now = timezone.now()
    text = f"{error.code}: {error.text}"
    if error.ambiguous:
        _move(
            message,
            leaving=(Status.SENDING,),
            note=f"{error.text} Checking with the provider before sending again.",
            is_ambiguous=True,
            last_error=text,
            next_attempt_at=now + AMBIGUOUS_RECHECK_AFTER,
        )
    elif not error.permanent and message.attempts < MAX_ATTEMPTS:
        _move(
            message,
            leaving=(Status.SENDING,),
            note=f"{error.text} Retrying later.",
            status=Status.PENDING,
            last_error=text,
            next_attempt_at=now + _backoff(message.attempts),
        )
    else:
        _fail(message, code=error.code, text=error.text)
    return message


def _fail(message: Message, *, code: str, text: str) -> None:
    failed = _move(
        message,
        leaving=(Status.SENDING,),
        note=text,
        status=Status.FAILED,
        error_code=code,
        error_message=text,
        last_error=f"{code}: {text}",
        is_ambiguous=False,
        finished_at=timezone.now(),
    )
    if code == "21610":
        optout_add(tenant=message.tenant, phone=message.recipient, source="Twilio error 21610")
    if failed:
        _email_fallback(message)


def _is_same(message: Message, found: FoundMessage) -> bool:
    if found.date_created and found.date_created < message.created_at - timedelta(minutes=1):
        return False
    # A WhatsApp template's text is Twilio's to fill in, so only SMS bodies can be compared.
    return message.channel != Channel.SMS or found.body == message.body


def message_reconcile(*, message: Message) -> Message:
    """Settle a `sending` row whose outcome is unknown, without ever sending a second text.

    Reached after an ambiguous error and for rows a dead worker left in `sending`. Twilio has no
    idempotency key (FACTS.md), so we look for the message in Twilio's list for that recipient
    and resend only when it is not there.
    """
    now = timezone.now()
    if not Message.objects.filter(
        pk=message.pk, status=Status.SENDING, next_attempt_at__lte=now
    ).update(next_attempt_at=now + SENDING_STALE_AFTER, updated_at=now):
        return message
    message.refresh_from_db()
    if message.channel == Channel.EMAIL:
        # SendGrid cannot be asked whether it queued an email: say so, and let staff resend.
        _fail(
            message,
            code="unconfirmed",
            text="SendGrid did not confirm this email; it may not have been sent. "
            "Resend it if the customer did not receive it.",
        )
        return message
    channel = channel_for(message.channel, _messaging_settings(message.tenant_id))
    try:
        found = channel.find(to=message.recipient, since=message.created_at)
    except SendError as error:
        Message.objects.filter(pk=message.pk, status=Status.SENDING).update(
            last_error=f"reconcile {error.code}: {error.text}",
            next_attempt_at=now + _backoff(message.attempts),
        )
        return message
    taken = set(
        Message.objects.filter(tenant_id=message.tenant_id)
        .exclude(pk=message.pk)
        .filter(provider_id__in=[f.sid for f in found])
        .values_list("provider_id", flat=True)
    )
    match = next((f for f in found if f.sid not in taken and _is_same(message, f)), None)
    if match:
        return _accepted(
            message,
            SendResult(match.sid, match.status),
            note="Reconciled: Twilio has this message, so it was not sent again.",
        )
    if message.attempts >= MAX_ATTEMPTS:
        _fail(message, code=message.error_code or "timeout", text=explain("timeout"))
        return message
    _move(
        message,
        leaving=(Status.SENDING,),
        note="Reconciled: Twilio has no such message, so it is sent again.",
        status=Status.PENDING,
        is_ambiguous=False,
        next_attempt_at=now,
    )
    return message_dispatch(message=message)


def messages_due_run() -> int:
    """Once a minute: kick due messages and reconcile stale `sending` rows (lost tasks)."""
    now = timezone.now()
    due = Message.objects.filter(status__in=_OPEN, next_attempt_at__lte=now)
    stale = Message.objects.filter(status=Status.SENDING, next_attempt_at__lte=now)
    kicked = 0
    for task, queryset in ((DISPATCH_TASK, due), (RECONCILE_TASK, stale)):
        for message_id in queryset.order_by("next_attempt_at").values_list("pk", flat=True)[:BATCH]:
            _kick(task, message_id)
            kicked += 1
    return kicked
