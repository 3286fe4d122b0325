"""Writes of the messaging app: notify, dispatch, reconcile, status callbacks, opt-outs, resend.

The Message row is the truth; django-q2 tasks only kick these functions (STYLE.md). Every state
change is a conditional UPDATE from the statuses it may leave, so two workers, a late callback
and a reconcile can never both win.
"""

import logging
import re
import secrets
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django_q.tasks import async_task

from connections.models import MessagingSettings, Tenant
from messaging import defaults, rendering
from messaging.channels import (
    FINAL_PROVIDER_STATUSES,
    PROVIDER_STATUS_RANK,
    FoundMessage,
    SendError,
    SendResult,
    Sms,
    account_check,
    channel_for,
    explain,
)
from messaging.contacts import (
    ContactCard,
    contact_card_restored,
    contact_card_stored,
    mobile_card,
    phone_choose,
    phone_timezone_name,
)
from messaging.models import (
    PHONE_CHANNELS,
    SENDING_CHANNELS,
    Channel,
    ContactPreference,
    Kind,
    Message,
    MessageStatusChange,
    MessageTemplate,
    OptOut,
)
from messaging.segments import TrackingTag
from messaging.selectors import (
    delivery_for,
    messaging_channels_configured,
    templates_choose,
    templates_for_notification,
)

logger = logging.getLogger(__name__)
Status = Message.Status

MAX_ATTEMPTS = 6
BACKOFF_BASE_SECONDS = 30
BACKOFF_CAP_SECONDS = 3600
# A row still `sending` this long after its claim belongs to a worker that died.
SENDING_STALE_AFTER = timedelta(minutes=5)
# Wait before asking Twilio about an ambiguous send: its message list filters on DateSent,
# which a message only gets once it has left Twilio's queue.
AMBIGUOUS_RECHECK_AFTER = timedelta(minutes=2)
UNFINISHED_AFTER = timedelta(hours=12)
UNFINISHED_GIVE_UP_AFTER = timedelta(days=3)
BATCH = 500

# Our status for each Twilio status (FACTS.md "Statuses").
_STATUS_FOR_PROVIDER = {
    "accepted": Status.SENT,
    "scheduled": Status.SENT,
    "queued": Status.SENT,
    "sending": Status.SENT,
    "sent": Status.SENT,
    "delivered": Status.DELIVERED,
    "read": Status.DELIVERED,
    "undelivered": Status.UNDELIVERED,
    "failed": Status.FAILED,
    "canceled": Status.CANCELLED,
}
_OPEN = (Status.PENDING, Status.SCHEDULED)

DISPATCH_TASK = "messaging.tasks.message_dispatch_task"
RECONCILE_TASK = "messaging.tasks.message_reconcile_task"


def _kick(task: str, message_id: int) -> None:
    transaction.on_commit(lambda: async_task(task, message_id))


def _record(message: Message, *, from_status: str, note: str = "") -> None:
    MessageStatusChange.objects.create(
        message=message,
        from_status=from_status,
        to_status=message.status,
        provider_status=message.provider_status,
        error_code=message.error_code,
        note=note,
    )


def _move(
    message: Message, *, leaving: Sequence[str], note: str, where: dict | None = None, **fields
) -> bool:
    """Apply `fields` only if the row is still in one of `leaving`; log the change if it was.

    Two statements, not four, when only one status may be left: it is then what the row was,
    and the instance takes the values it wrote; only computed ones (F) are read back.
    """
    if len(leaving) == 1:
        before = leaving[0]
    else:
        before = Message.objects.filter(pk=message.pk).values_list("status", flat=True).first()
    fields["updated_at"] = timezone.now()
    rows = Message.objects.filter(pk=message.pk, status__in=leaving, **(where or {}))
    if not rows.update(**fields):
        return False
    computed = [name for name, value in fields.items() if hasattr(value, "resolve_expression")]
    for name, value in fields.items():
        if name not in computed:
            setattr(message, name, value)
    if computed:
        message.refresh_from_db(fields=computed)
    _record(message, from_status=before or "", note=note)
    return True


# --- quiet hours ---------------------------------------------------------------------------------


def _as_time(value) -> time:
    return time.fromisoformat(value) if isinstance(value, str) else value


def quiet_hours_end(*, tenant: Tenant, phone: str, at: datetime) -> datetime | None:
    """When quiet hours end for this recipient, or None if `at` is outside them.

    Local time is the recipient's: the zone of their phone number when it has exactly one,
    else the tenant's (an email address has no zone).
    """
    start, end = _as_time(tenant.quiet_hours_start), _as_time(tenant.quiet_hours_end)
    if start == end:
        return None
    zone_name = phone_timezone_name(phone, fallback=tenant.timezone) if phone else tenant.timezone
    zone = ZoneInfo(zone_name)
    local = at.astimezone(zone)
    now = local.time()
    if start < end:
        quiet, ends_on = start <= now < end, local.date()
    else:  # the usual case: 21:00 → 08:00 spans midnight
        quiet = now >= start or now < end
        ends_on = local.date() + timedelta(days=1) if now >= start else local.date()
    if not quiet:
        return None
    return datetime.combine(ends_on, end, tzinfo=zone).astimezone(UTC)


def _phone_of(message: Message) -> str:
    return message.recipient if message.channel in PHONE_CHANNELS else ""


def _is_opted_out(message: Message) -> bool:
    return (
        message.channel in PHONE_CHANNELS
        and OptOut.objects.filter(tenant_id=message.tenant_id, phone=message.recipient).exists()
    )


# --- notify --------------------------------------------------------------------------------------


def _skip(message: Message, code: str, reason: str) -> Message:
    message.status = Status.SKIPPED
    message.error_code = code
    message.status_reason = reason
    message.finished_at = timezone.now()
    return message


def _draft(
    *, message: Message, template: MessageTemplate, contact: ContactCard, values: dict
) -> Message:
    """Fill in recipient, text and timing of an unsaved message, or say why it is skipped."""
    tenant = message.tenant
    if message.channel in PHONE_CHANNELS:
        choice = phone_choose(contact, default_country=tenant.default_country)
        if choice.e164 is None:
            return _skip(message, choice.problem, choice.reason)
        message.recipient = choice.e164
    elif contact.email:
        message.recipient = contact.email
    else:
        return _skip(message, "no_email", "No email address in Xero.")
    if _is_opted_out(message):
        return _skip(message, "opted_out", "The recipient opted out (replied STOP).")
    limit = rendering.MAX_OUTPUT[message.channel]
    try:
        message.body = rendering.render(template.body, values, max_length=limit)
        message.subject = rendering.render(template.subject, values, max_length=300)
        message.content_variables = {
            key: rendering.render(text, values, max_length=limit)
            for key, text in template.content_variables.items()
        }
    except rendering.RenderError as exc:
        return _skip(message, "template", str(exc))
    message.content_sid = template.content_sid
    _hold_for_quiet_hours(message)
    return message


def _hold_for_quiet_hours(message: Message, *, at: datetime | None = None) -> None:
    until = quiet_hours_end(
        tenant=message.tenant, phone=_phone_of(message), at=at or timezone.now()
    )
    if until:
        message.status = Status.SCHEDULED
        message.send_after = message.next_attempt_at = until


def _insert_once(message: Message, *, note: str) -> Message:
    """Insert, or return the row an earlier notify already made (the constraint decides)."""
    try:
        with transaction.atomic():
            message.save(force_insert=True)
            _record(message, from_status="", note=message.status_reason or note)
    except IntegrityError:
        return Message.objects.get(
            tenant=message.tenant, dedup_key=message.dedup_key, channel=message.channel
        )
    if message.status == Status.PENDING:
        _kick(DISPATCH_TASK, message.pk)
    return message


def notify(
    *,
    tenant: Tenant,
    kind: str,
    contact: ContactCard,
    context: dict,
    dedup_key: str,
    invoice_id: str = "",
    channels: Sequence[str] | None = None,
    tracking: Sequence[TrackingTag] = (),
) -> list[Message]:
    """One Message per channel the contact gets (their own, else the tenant's default; exactly
    `channels` when given) that has an active template; a repeated call sends nothing new.

    `tracking` is the invoice's line-item tracking options, for tracking segments.
    """
    choice = templates_for_notification(
        tenant=tenant,
        kind=kind,
        contact=contact,
        reminder_stage=str(context.get("reminder_stage") or ""),
        tracking=tracking,
        channels=channels,
    )
    values = rendering.template_values(
        contact=contact, context=context, country=tenant.default_country
    )

    def blank(channel: str, template: MessageTemplate | None) -> Message:
        return Message(
            tenant=tenant,
            kind=kind,
            channel=channel,
            dedup_key=dedup_key,
            template=template,
            contact_id=contact.contact_id,
            contact_name=contact.name,
            invoice_id=invoice_id,
            xero_tenant_id=contact.xero_tenant_id,
            template_values=values,
            # The invoice's tracking rides with the card, so a fallback email picks its template
            # by the same segments as the text it replaces.
            contact_card={
                **contact_card_stored(contact),
                "tracking": [asdict(tag) for tag in tracking],
            },
        )

    if not choice.templates:
        logger.info("notify tenant=%s kind=%s: %s", tenant.pk, kind, choice.problem)
        skipped = _skip(blank(Channel.NONE, None), choice.problem, choice.reason)
        return [_insert_once(skipped, note="")]
    return [
        _insert_once(
            _draft(message=blank(channel, t), template=t, contact=contact, values=values),
            note="Created",
        )
        for channel, t in sorted(choice.templates.items())
    ]


def messages_cancel(*, tenant: Tenant, dedup_prefix: str, reason: str) -> int:
    """Cancel waiting messages whose key starts with the prefix (e.g. an invoice got paid)."""
    waiting = Message.objects.filter(
        tenant=tenant, dedup_key__startswith=dedup_prefix, status__in=_OPEN
    )
    cancelled = 0
    for message in waiting:
        cancelled += _move(
            message,
            leaving=_OPEN,
            note=reason,
            status=Status.CANCELLED,
            status_reason=reason,
            finished_at=timezone.now(),
        )
    return cancelled


# --- dispatch ------------------------------------------------------------------------------------


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
    until = quiet_hours_end(tenant=message.tenant, phone=_phone_of(message), at=now)
    if until:
        Message.objects.filter(pk=message.pk, status__in=_OPEN).update(
            status=Status.SCHEDULED, send_after=until, next_attempt_at=until, updated_at=now
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
    return _send(message)


def _send(message: Message) -> Message:
    channel = channel_for(message.channel, _messaging_settings(message.tenant_id))
    try:
        if message.channel == Channel.EMAIL:
            result = channel.send(
                to=message.recipient,
                subject=message.subject,
                body=message.body,
                reference=message.callback_token,
            )
        else:
            result = channel.send(
                to=message.recipient,
                body=message.body,
                status_callback=status_callback_url(message),
                content_sid=message.content_sid,
                content_variables=message.content_variables,
            )
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


# --- status callbacks and polling ----------------------------------------------------------------


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


# --- opt-outs, resend, templates, settings -------------------------------------------------------


def optout_add(*, tenant: Tenant, phone: str, source: str = "") -> OptOut:
    try:
        with transaction.atomic():
            return OptOut.objects.create(tenant=tenant, phone=phone, source=source)
    except IntegrityError:
        return OptOut.objects.get(tenant=tenant, phone=phone)


def optout_remove(*, tenant: Tenant, phone: str) -> bool:
    deleted, _ = OptOut.objects.filter(tenant=tenant, phone=phone).delete()
    return bool(deleted)


def reply_log(
    *,
    tenant: Tenant,
    kind: str,
    channel: str,
    recipient: str,
    body: str,
    dedup_key: str,
    contact: ContactCard | None = None,
    invoice_id: str = "",
    template: MessageTemplate | None = None,
) -> Message:
    """Log an answer Twilio sends for us (TwiML): there is no API call, so it is `sent` as it
    is written. A retried webhook (same dedup key) returns the first answer."""
    now = timezone.now()
    message = Message(
        tenant=tenant,
        kind=kind,
        channel=channel,
        dedup_key=dedup_key,
        template=template,
        recipient=recipient,
        contact_id=contact.contact_id if contact else "",
        contact_name=contact.name if contact else "",
        invoice_id=invoice_id,
        xero_tenant_id=contact.xero_tenant_id if contact else "",
        body=body,
        status=Status.SENT,
        sent_at=now,
    )
    return _insert_once(message, note="Answered in the reply to the customer's text (TwiML).")


def message_resend(*, message: Message, by_user) -> Message:
    """A new attempt linked to the original, with its own key (a double click makes one)."""
    if not message.can_resend:
        raise ValidationError("Only a failed or undelivered message can be resent.")
    # The key counts only resends that themselves failed: a double click, or a second click
    # while the first resend is on its way, lands on the same key and the constraint keeps one.
    number = message.resends.filter(status__in=(Status.FAILED, Status.UNDELIVERED)).count() + 1
    again = _another_try(message, dedup_key=f"{message.dedup_key}:resend:{number}")
    return _insert_once(again, note=f"Resent by {by_user} (original #{message.pk}).")


def _another_try(message: Message, *, dedup_key: str, not_before: datetime | None = None):
    """An unsaved copy of `message` linked to it, held for quiet hours or skipped if opted out."""
    again = Message(
        tenant=message.tenant,
        kind=message.kind,
        channel=message.channel,
        dedup_key=dedup_key,
        template=message.template,
        recipient=message.recipient,
        contact_id=message.contact_id,
        contact_name=message.contact_name,
        invoice_id=message.invoice_id,
        xero_tenant_id=message.xero_tenant_id,
        subject=message.subject,
        body=message.body,
        content_sid=message.content_sid,
        content_variables=message.content_variables,
        resend_of=message,
    )
    if not_before:
        again.status = Status.SCHEDULED
        again.send_after = again.next_attempt_at = not_before
    if _is_opted_out(again):
        _skip(again, "opted_out", "The recipient opted out (replied STOP).")
    else:
        _hold_for_quiet_hours(again, at=not_before)
    return again


# FACTS.md "Twilio": 30003 (handset switched off or out of coverage) is transient — one later
# retry, hours apart. The retry has its own dedup key, so a repeated callback makes it once, and
# a retry that is itself unreachable is not retried again.
UNREACHABLE = "30003"
UNREACHABLE_RETRY_AFTER = timedelta(hours=4)
_UNREACHABLE_SUFFIX = ":unreachable-retry"


def _retry_unreachable_later(message: Message) -> None:
    if message.dedup_key.endswith(_UNREACHABLE_SUFFIX):
        return
    again = _another_try(
        message,
        dedup_key=message.dedup_key + _UNREACHABLE_SUFFIX,
        not_before=timezone.now() + UNREACHABLE_RETRY_AFTER,
    )
    _insert_once(again, note="The handset was unreachable (30003): one more try later.")


# --- email fallback (issue 12) -------------------------------------------------------------------

# The fallback's dedup key is the notification's own (that of its first try) plus this suffix, so
# a notification falls back once, whichever of its texts failed (first try, 30003 retry, resend)
# and however often Twilio repeats a callback.
FALLBACK_SUFFIX = ":fallback"


def _first_try(message: Message) -> Message:
    while message.resend_of_id:
        message = message.resend_of
    return message


def _email_fallback(message: Message) -> Message | None:
    """Send the notification of a text that was not delivered again by email, when its template
    asks for that. Returns the email (to be sent, or skipped saying why), None if none applies."""
    template = message.template
    if message.channel not in PHONE_CHANNELS or template is None or not template.fallback_to_email:
        return None
    first = _first_try(message)
    emailed = Message.objects.filter(
        tenant_id=message.tenant_id, dedup_key=first.dedup_key, channel=Channel.EMAIL
    ).first()
    if emailed is not None:
        note = f"No fallback email: this notification went by email too (message #{emailed.pk})."
        _record(message, from_status=message.status, note=note)
        return None
    email = Message(
        tenant=message.tenant,
        kind=message.kind,
        channel=Channel.EMAIL,
        dedup_key=first.dedup_key + FALLBACK_SUFFIX,
        contact_id=message.contact_id,
        contact_name=message.contact_name,
        invoice_id=message.invoice_id,
        xero_tenant_id=message.xero_tenant_id,
        template_values=message.template_values,
        contact_card=message.contact_card,
        fallback_of=message,
    )
    contact = contact_card_restored(
        message.contact_card, contact_id=message.contact_id, name=message.contact_name
    )
    _fallback_draft(email, contact=contact)
    what = f"{message.get_channel_display()} message #{message.pk}"
    saved = _insert_once(email, note=f"Sent instead of {what}, which was not delivered.")
    if saved is email:  # the first to get here; a repeat finds the row and says nothing again
        if email.status == Status.SKIPPED:
            note = f"No fallback email (message #{email.pk}): {email.status_reason}"
        else:
            note = f"Not delivered: the same notification goes by email (message #{email.pk})."
        _record(message, from_status=message.status, note=note)
    return saved


def _fallback_draft(email: Message, *, contact: ContactCard) -> Message:
    tenant = email.tenant
    delivery = delivery_for(tenant=tenant, contact_id=contact.contact_id)
    if delivery.own_channels and Channel.EMAIL not in delivery.channels:
        return _skip(email, "not_preferred", "The channels set for this contact leave out email.")
    if not messaging_channels_configured(tenant=tenant)[Channel.EMAIL]:
        return _skip(
            email,
            "config",
            "Email is not set up: add a SendGrid API key and From email in Messaging settings.",
        )
    template = templates_choose(
        tenant=tenant,
        kind=email.kind,
        contact=contact,
        reminder_stage=email.template_values.get("reminder_stage", ""),
        tracking=[TrackingTag(**tag) for tag in email.contact_card.get("tracking", ())],
        language=delivery.language,
    ).get(Channel.EMAIL)
    if template is None:
        reason = f"There is no active email template for “{email.get_kind_display()}”."
        return _skip(email, "no_template", reason)
    email.template = template
    return _draft(message=email, template=template, contact=contact, values=email.template_values)


# --- per-contact channels and language (issue 12) ------------------------------------------------


def contact_preference_save(
    *,
    tenant: Tenant,
    contact_id: str,
    contact_name: str,
    channels: Sequence[str],
    language: str,
    by_user,
) -> ContactPreference:
    """How staff want one contact reached; no channels and no language mean the tenant's."""
    preference, _ = ContactPreference.objects.update_or_create(
        tenant=tenant,
        contact_id=contact_id,
        defaults={
            "contact_name": contact_name,
            "channels": [channel for channel in SENDING_CHANNELS if channel in channels],
            "language": language,
            "updated_by": by_user,
        },
    )
    return preference


# One click resends at most this many; the rest stay listed for the next click.
BULK_RESEND_LIMIT = 200


def messages_resend_bulk(*, messages, by_user) -> int:
    """Resend each of `messages` (failed or undelivered, not yet resent) once.

    Each resend is its own insert under the dedup constraint, so a repeated POST of the same
    confirmation lands on the same keys and sends nothing twice.
    """
    resent = 0
    for message in messages.select_related("tenant").order_by("pk")[:BULK_RESEND_LIMIT]:
        try:
            message_resend(message=message, by_user=by_user)
        except ValidationError:
            continue  # moved on (e.g. a callback said delivered) since the page was shown
        resent += 1
    return resent


def templates_create_defaults(*, tenant: Tenant) -> None:
    """Called by connections.services.tenant_create; safe to call again."""
    rows = [
        MessageTemplate(tenant=tenant, kind=kind, channel=Channel.SMS, body=body)
        for kind, body in defaults.SMS.items()
    ] + [
        MessageTemplate(
            tenant=tenant,
            kind=kind,
            channel=Channel.EMAIL,
            subject=defaults.EMAIL_SUBJECTS[kind],
            body=body + defaults.EMAIL_SIGN_OFF,
            is_active=False,
        )
        for kind, body in defaults.SMS.items()
    ]
    rows += [
        MessageTemplate(
            tenant=tenant, kind=Kind.REMINDER, channel=Channel.SMS, reminder_stage=stage, body=body
        )
        for stage, body in defaults.REMINDER_STAGES_SMS.items()
    ] + [
        MessageTemplate(tenant=tenant, kind=kind, channel=Channel.SMS, body=body)
        for kind, body in defaults.REPLIES_SMS.items()
    ]
    MessageTemplate.objects.bulk_create(rows, ignore_conflicts=True)


SECRET_FIELDS = ("twilio_auth_token", "twilio_api_key_secret", "sendgrid_api_key")


def messaging_settings_save(*, tenant: Tenant, values: dict) -> MessagingSettings:
    """Save the tenant's provider settings; a blank secret keeps the stored one."""
    row, _ = MessagingSettings.objects.get_or_create(tenant=tenant)
    _settings_apply(row, values)
    row.save()
    return row


def _settings_apply(row: MessagingSettings, values: dict) -> None:
    for name, value in values.items():
        if name in SECRET_FIELDS and not value:
            continue
        setattr(row, name, value)


def twilio_settings_verify_save(*, tenant: Tenant, values: dict) -> tuple[bool, str]:
    """Save the Twilio settings only if Twilio accepts them; say in plain words what it said."""
    row = MessagingSettings.objects.filter(tenant=tenant).first() or MessagingSettings(
        tenant=tenant
    )
    _settings_apply(row, values)
    try:
        account_name = account_check(row)
    except SendError as error:
        if error.code == "20404":
            return False, (
                "Twilio has no account with that Account SID. Copy it again from the Twilio "
                "console."
            )
        return False, error.text
    row.save()
    return True, f"Twilio accepted these credentials for the account “{account_name}”."


def text_now(*, tenant: Tenant, phone: str, body: str) -> SendResult:
    """Text an E.164 number through the tenant's Twilio SMS sender at once, outside the send log.

    Only for texts to the tenant's own people (a test message, an alert), never to a customer:
    those go through notify() so that they are logged, deduplicated and kept out of quiet hours.
    Raises SendError.
    """
    messaging = MessagingSettings.objects.filter(tenant=tenant).first()
    if messaging is None:
        raise SendError("config", explain("config"), permanent=True)
    return Sms(messaging).send(to=phone, body=body, status_callback=None)


def messaging_test_send(*, tenant: Tenant, phone: str) -> tuple[bool, str]:
    """Text `phone` through the tenant's Twilio account and say what Twilio answered."""
    choice = phone_choose(mobile_card(phone), default_country=tenant.default_country)
    if choice.e164 is None:
        return False, f"“{phone}” is not a phone number we can text."
    if not MessagingSettings.objects.filter(tenant=tenant).exists():
        return False, "Save your Twilio settings first."
    try:
        result = text_now(
            tenant=tenant,
            phone=choice.e164,
            body=f"Dunwell test message for {tenant.name}: your Twilio settings work.",
        )
    except SendError as error:
        return False, f"Twilio did not accept the message (error {error.code}): {error.text}"
    return True, (
        f"Twilio accepted the message (status “{result.provider_status}”, "
        f"SID {result.provider_id}). It should arrive on {choice.e164} shortly."
    )
