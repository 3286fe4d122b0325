"""Another try: staff resending a failed message (one or many), sending a text that was
skipped for want of a phone number once Xero has one, and an unreachable handset tried again
later.
"""

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.utils import timezone

from messaging.models import (
    Message,
)
from messaging.selectors import PHONE_PROBLEMS, texts_missed_for_phone
from messaging.services.moves import DISPATCH_TASK, Status, _kick, _move
from messaging.services.notify import (
    _draft,
    _hold_for_quiet_hours,
    _insert_once,
    _is_opted_out,
    _skip,
)
from snapshots.contacts import contact_card_stored


def message_resend(*, message: Message, by_user) -> Message:
    """A new attempt linked to the original, with its own key (a double click makes one)."""
    if not message.can_resend:
        raise ValidationError("Only a failed or undelivered message can be resent.")
    # The key counts only resends that themselves failed: a double click, or a second click
    # while the first resend is on its way, lands on the same key and the constraint keeps one.
    number = message.resends.filter(status__in=(Status.FAILED, Status.UNDELIVERED)).count() + 1
    again = _another_try(message, dedup_key=f"{message.dedup_key}:resend:{number}")
    return _insert_once(again, note=f"Resent by {by_user} (original #{message.pk}).")


def message_send_missed(*, message: Message, by_user) -> Message:
    """Send now a text that was skipped for want of a usable number, to the number the
    contact has in Xero now — only while selectors.texts_missed_for_phone offers it. The same
    row, so the same dedup key: only the first of two clicks (or of a click and a poll
    notifying the same key) moves it, and the poll finds the row and inserts nothing."""
    offered = texts_missed_for_phone(
        tenant=message.tenant, now=timezone.now(), message_ids=[message.pk]
    )
    if not offered:
        raise ValidationError(
            "This text is no longer waiting to be sent: it went already, is too old, or what "
            "it says is out of date (the invoice was paid or voided, or a later reminder went)."
        )
    contact = offered[0].contact
    if message.template is None:
        raise ValidationError("Its template was deleted since: nothing to send it with.")
    draft = Message(
        tenant=message.tenant,
        kind=message.kind,
        channel=message.channel,
        dedup_key=message.dedup_key,
        contact_card={
            **contact_card_stored(contact),
            "tracking": message.contact_card.get("tracking", []),
        },
    )
    _draft(
        message=draft, template=message.template, contact=contact, values=message.template_values
    )
    if draft.status == Status.SKIPPED:
        raise ValidationError(draft.status_reason)
    moved = _move(
        message,
        leaving=(Status.SKIPPED,),
        where={"error_code__in": PHONE_PROBLEMS},
        note=f"Sent now by {by_user}: Xero has a usable number now.",
        status=draft.status,
        recipient=draft.recipient,
        body=draft.body,
        subject=draft.subject,
        content_sid=draft.content_sid,
        content_variables=draft.content_variables,
        contact_card=draft.contact_card,
        send_after=draft.send_after,
        next_attempt_at=draft.next_attempt_at,
        error_code="",
        status_reason="",
        finished_at=None,
    )
    if not moved:
        raise ValidationError("It was already sent, or it is no longer waiting for a number.")
    if message.status == Status.PENDING:
        _kick(DISPATCH_TASK, message.pk)
    return message


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
        # The card carries the organisation's zone (quiet hours), the values its name (email).
        contact_card=message.contact_card,
        template_values=message.template_values,
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
