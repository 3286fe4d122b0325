"""Dispatch: send a due message through its channel, retry transient failures with backoff,
fail permanent ones with the provider's code, and reconcile sends whose outcome was lost.
"""

import logging
import secrets
from collections import defaultdict
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection as db_connection
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from connections.http import kept
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
    PHONE_CHANNELS,
    Channel,
    Message,
    MessageStatusChange,
    OptOut,
)
from messaging.selectors import notification_tries
from messaging.services.fallback import _email_fallback
from messaging.services.moves import (
    _OPEN,
    _STATUS_FOR_PROVIDER,
    RECONCILE_TASK,
    Status,
    _cancel,
    _change,
    _inline,
    _kick,
    _kick_dispatch,
    _kick_dispatch_ids,
    _move,
)
from messaging.services.notify import _card_of, _phone_of, quiet_hours_end
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
# Messages claimed together: one statement finds the opted out, two claim them, one logs it.
CLAIM_CHUNK = 25
# A chunk's sends in flight at once. Twilio takes a tenth of a second or more to answer a
# create, so one at a time a worker sent a few texts a second whatever its CPU. Kept low: an
# account's concurrent requests are limited, and a 429 is only retried later (FACTS.md).
SENDS_IN_FLIGHT = 4


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
    messages_dispatch(messages=[message])
    return message


def messages_dispatch(*, messages: Sequence[Message], until: datetime | None = None) -> None:
    """Send due messages (each with its tenant), each at most once, CLAIM_CHUNK at a time: the
    opted out are skipped, those in their quiet hours held, the rest claimed with one
    conditional UPDATE, sent, and their answers recorded. Past `until`, the messages not yet
    claimed are left to a dispatch task."""
    pending = list(messages)
    while pending:
        chunk, pending = pending[:CLAIM_CHUNK], pending[CLAIM_CHUNK:]
        _chunk_dispatch(chunk)
        if pending and until is not None and timezone.now() >= until:
            _kick_dispatch(pending)
            return


def messages_dispatch_ids(*, message_ids: Sequence[int], until: datetime | None = None) -> None:
    """messages_dispatch for the messages with these ids (one statement reads them all)."""
    found = Message.objects.select_related("tenant").in_bulk(message_ids)
    messages_dispatch(messages=[found[pk] for pk in message_ids if pk in found], until=until)


@contextmanager
def messages_dispatch_inline(*, until: datetime) -> Iterator[None]:
    """Messages created inside the block are sent from this process when it ends (their
    transactions committed), until `until`; the rest go to a dispatch task. It saves the queue
    hop between deciding to text and texting, the whole wait of an idle worker's poll."""
    messages: list[Message] = []
    token = _inline.set(messages)
    try:
        yield
    finally:
        _inline.reset(token)
    messages_dispatch(messages=messages, until=until)


def _opted_out(messages: Sequence[Message]) -> set[tuple[int, str]]:
    phones = {m.recipient for m in messages if m.channel in PHONE_CHANNELS}
    if not phones:
        return set()
    return set(
        OptOut.objects.filter(
            tenant_id__in={m.tenant_id for m in messages}, phone__in=phones
        ).values_list("tenant_id", "phone")
    )


def _chunk_dispatch(messages: list[Message]) -> None:
    now = timezone.now()
    opted_out = _opted_out(messages)
    claimable = []
    for message in messages:
        if (
            message.channel in PHONE_CHANNELS
            and (message.tenant_id, message.recipient) in opted_out
        ):
            _move(
                message,
                leaving=_OPEN,
                note="Opted out before sending.",
                status=Status.SKIPPED,
                error_code="opted_out",
                status_reason="The recipient opted out (replied STOP).",
                finished_at=now,
            )
        elif not _held_for_quiet_hours(message, now=now):
            claimable.append(message)
    log: list[MessageStatusChange] = []
    accepted: list[tuple[Message, SendResult]] = []
    channels = {}
    try:
        sendable = []
        for message in _claim(claimable, now=now, log=log):
            # Checked once the row is ours, so a delivery recorded before this is always seen.
            delivered = _delivered_since(message) if message.resend_of_id else None
            if delivered is not None:
                reason = (
                    f"Not sent: message #{delivered.pk} of the same notification was delivered."
                )
                _cancel(message, leaving=(Status.SENDING,), reason=reason)
                continue
            key = (message.tenant_id, message.channel)
            if key not in channels:
                channels[key] = channel_for(message.channel, _messaging_settings(message.tenant_id))
            sendable.append((message, channels[key]))
        for message, answer in _sent(sendable):
            if isinstance(answer, SendError):
                _send_failed(message, answer)
            else:
                accepted.append((message, answer))
    finally:
        # Recorded together: should this worker die first, the rows stay `sending` and the
        # reconcile finds the texts in Twilio's list (message_reconcile), never sending twice.
        _accepted(accepted, note="Accepted by the provider.", log=log)
        MessageStatusChange.objects.bulk_create(log)


def _held_for_quiet_hours(message: Message, *, now: datetime) -> bool:
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
    return bool(until)


def _claim(messages: list[Message], *, now: datetime, log: list) -> list[Message]:
    """The messages this worker now owns: due and waiting, locked (others' locks skipped),
    moved to `sending` in one UPDATE; their history rows go to `log`."""
    if not messages:
        return []
    by_pk = {message.pk: message for message in messages}
    with transaction.atomic():
        free = list(
            Message.objects.select_for_update(skip_locked=True)
            .filter(pk__in=by_pk, status__in=_OPEN, next_attempt_at__lte=now)
            .values_list("pk", "status", "attempts")
        )
        Message.objects.filter(pk__in=[pk for pk, _, _ in free]).update(
            status=Status.SENDING,
            claimed_at=now,
            attempts=F("attempts") + 1,
            next_attempt_at=now + SENDING_STALE_AFTER,
            updated_at=now,
        )
    claimed = []
    for pk, before, attempts in free:
        message = by_pk[pk]
        message.status, message.claimed_at, message.attempts = Status.SENDING, now, attempts + 1
        message.next_attempt_at, message.updated_at = now + SENDING_STALE_AFTER, now
        log.append(_change(message, from_status=before, note="Claimed for sending."))
        claimed.append(message)
    return claimed


def _delivered_since(message: Message) -> Message | None:
    """Another try of the notification that was delivered: this one must not go as well."""
    return next(iter(notification_tries(message=message, statuses=(Status.DELIVERED,))), None)


def _outgoing(message: Message) -> Outgoing:
    return Outgoing(
        to=message.recipient,
        body=message.body,
        subject=message.subject,
        reference=message.callback_token,
        status_callback=status_callback_url(message),
        content_sid=message.content_sid,
        content_variables=message.content_variables,
        from_name=message.template_values.get("organisation_name", ""),
    )


def _answer(channel, outgoing: Outgoing) -> SendResult | SendError:
    """The provider's answer to one send; runs in a send thread, so it touches no database."""
    try:
        return channel.send(outgoing)
    except SendError as error:
        return error


def _sent(sendable: list[tuple[Message, object]]) -> list[tuple[Message, SendResult | SendError]]:
    """Each message's answer, SENDS_IN_FLIGHT sends at a time. Only the HTTP calls run in the
    send threads; each message's row is read before and written after, in this thread."""
    outgoing = [(channel, _outgoing(message)) for message, channel in sendable]
    if len(outgoing) <= 1:
        answers = [_answer(channel, out) for channel, out in outgoing]
    else:
        pool = kept("dispatch-sends", _send_pool)
        answers = list(pool.map(lambda pair: _answer(*pair), outgoing))
    for (message, _channel), answer in zip(sendable, answers, strict=True):
        if isinstance(answer, SendError):
            logger.warning(
                "send failed message=%s code=%s permanent=%s ambiguous=%s",
                message.pk,
                answer.code,
                answer.permanent,
                answer.ambiguous,
            )
    return [(message, answer) for (message, _), answer in zip(sendable, answers, strict=True)]


def _send_pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(SENDS_IN_FLIGHT, thread_name_prefix="dunwell-send")


def _accepted(
    accepted: Sequence[tuple[Message, SendResult]], *, note: str, log: list | None = None
) -> None:
    """Record the provider's answers: the rows still `sending` are locked and moved with one
    UPDATE per status (usually one); a row a status callback already moved on only gets its
    provider id."""
    if not accepted:
        return
    now = timezone.now()
    by_status: dict[tuple[str, str], list[tuple[Message, SendResult]]] = defaultdict(list)
    with transaction.atomic():
        ours = set(
            Message.objects.select_for_update()
            .filter(pk__in=[message.pk for message, _ in accepted], status=Status.SENDING)
            .values_list("pk", flat=True)
        )
        for message, result in accepted:
            if message.pk in ours:
                status = _STATUS_FOR_PROVIDER.get(result.provider_status, Status.SENT)
                by_status[(status, result.provider_status)].append((message, result))
        for (status, provider_status), answers in by_status.items():
            fields = {
                "status": status,
                "provider_status": provider_status,
                "is_ambiguous": False,
                "last_error": "",
                "sent_at": now,
                "finished_at": now if provider_status in FINAL_PROVIDER_STATUSES else None,
                "updated_at": now,
            }
            _answers_write(answers, fields)
            for message, result in answers:
                for name, value in fields.items():
                    setattr(message, name, value)
                message.provider_id = result.provider_id
    changes = [
        _change(message, from_status=Status.SENDING, note=note)
        for answers in by_status.values()
        for message, _ in answers
    ]
    if log is None:
        MessageStatusChange.objects.bulk_create(changes)
    else:
        log.extend(changes)
    for message, result in accepted:
        if message.pk not in ours:  # a status callback arrived first and moved the row on
            Message.objects.filter(pk=message.pk, provider_id="").update(
                provider_id=result.provider_id
            )


# Twilio's answers to a chunk in one statement, written as SQL: the ORM's CASE WHEN per row cost
# more CPU than the texts' own inserts (bench/RESULTS.md "This round"). A CTE of VALUES and
# UPDATE … FROM work on PostgreSQL and on SQLite since 3.33.
_ANSWERS = """
WITH answers (id, provider_id) AS (VALUES {rows})
UPDATE messaging_message
SET provider_id = answers.provider_id, status = %s, provider_status = %s, is_ambiguous = %s,
    last_error = %s, sent_at = %s, finished_at = %s, updated_at = %s
FROM answers
WHERE messaging_message.id = answers.id
"""


def _answers_write(answers: list[tuple[Message, SendResult]], fields: dict) -> None:
    moment = db_connection.ops.adapt_datetimefield_value
    sql = _ANSWERS.format(rows=", ".join(["(CAST(%s AS BIGINT), %s)"] * len(answers)))
    params = [value for message, result in answers for value in (message.pk, result.provider_id)]
    params += [fields["status"], fields["provider_status"], fields["is_ambiguous"]]
    params += [fields["last_error"], moment(fields["sent_at"]), moment(fields["finished_at"])]
    params += [moment(fields["updated_at"])]
    with db_connection.cursor() as cursor:
        cursor.execute(sql, params)


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
        _accepted(
            [(message, SendResult(match.sid, match.status))],
            note="Reconciled: Twilio has this message, so it was not sent again.",
        )
        return message
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
    due_ids = list(due.order_by("next_attempt_at").values_list("pk", flat=True)[:BATCH])
    _kick_dispatch_ids(due_ids)
    stale_ids = list(stale.order_by("next_attempt_at").values_list("pk", flat=True)[:BATCH])
    for message_id in stale_ids:
        _kick(RECONCILE_TASK, message_id)
    return len(due_ids) + len(stale_ids)
