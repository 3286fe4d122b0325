"""django-q2 kicks: each loads a row and calls one service. The Message row is the truth."""

from messaging import services
from messaging.models import Message


def messages_dispatch_task(message_ids: list[int]) -> None:
    services.messages_dispatch_ids(message_ids=message_ids)


def message_reconcile_task(message_id: int) -> None:
    message = Message.objects.select_related("tenant").filter(pk=message_id).first()
    if message is not None:
        services.message_reconcile(message=message)


def messages_due_task() -> int:
    return services.messages_due_run()


def messages_poll_task() -> int:
    return services.messages_poll_unfinished()
