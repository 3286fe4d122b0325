"""A message's status moves, recorded; and the kicks that hand a message to a task.

Every state change is a conditional UPDATE from the statuses it may leave, so two workers, a
late callback and a reconcile can never both win.
"""

import logging
from collections.abc import Sequence
from contextvars import ContextVar

from django.db import transaction
from django.utils import timezone
from django_q.tasks import async_task

from messaging.models import (
    Message,
    MessageStatusChange,
)

logger = logging.getLogger(__name__)
Status = Message.Status


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

DISPATCH_TASK = "messaging.tasks.messages_dispatch_task"
RECONCILE_TASK = "messaging.tasks.message_reconcile_task"
# One dispatch task carries at most this many messages (messages_due_run's kicks, a sweep pass).
DISPATCH_CHUNK = 50

# Inside services.dispatch.messages_dispatch_inline(): the committed messages to send from this
# process when the block ends, instead of kicking a task for them (one queue hop fewer).
_inline: ContextVar[list[Message] | None] = ContextVar("messages_dispatch_inline", default=None)


def _kick(task: str, message_id: int) -> None:
    transaction.on_commit(lambda: async_task(task, message_id))


def _kick_dispatch(messages: Sequence[Message]) -> None:
    """Once committed, send these messages: from this process if it is dispatching inline,
    else through dispatch tasks, DISPATCH_CHUNK messages each."""
    if not messages:
        return
    messages, inline = list(messages), _inline.get()
    if inline is not None:
        transaction.on_commit(lambda: inline.extend(messages))
        return
    _kick_dispatch_ids([message.pk for message in messages])


def _kick_dispatch_ids(message_ids: Sequence[int]) -> None:
    for start in range(0, len(message_ids), DISPATCH_CHUNK):
        chunk = list(message_ids[start : start + DISPATCH_CHUNK])
        transaction.on_commit(lambda chunk=chunk: async_task(DISPATCH_TASK, chunk))


def _change(message: Message, *, from_status: str, note: str = "") -> MessageStatusChange:
    return MessageStatusChange(
        message=message,
        from_status=from_status,
        to_status=message.status,
        provider_status=message.provider_status,
        error_code=message.error_code,
        note=note,
    )


def _record(message: Message, *, from_status: str, note: str = "") -> None:
    _change(message, from_status=from_status, note=note).save()


def _move(
    message: Message,
    *,
    leaving: Sequence[str],
    note: str,
    where: dict | None = None,
    **fields,
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


def _cancel(message: Message, *, leaving: Sequence[str], reason: str) -> bool:
    return _move(
        message,
        leaving=leaving,
        note=reason,
        status=Status.CANCELLED,
        status_reason=reason,
        finished_at=timezone.now(),
    )
