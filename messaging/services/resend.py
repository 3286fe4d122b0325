"""Another try: staff resending a failed message (one or many) to the recipient Xero has now,
sending a text that was skipped for want of a phone number once Xero has one, and an
unreachable handset tried again later.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from connections.xero import XeroError
from messaging.channels import explain
from messaging.models import (
    PHONE_CHANNELS,
    UNREACHABLE_RETRY_SUFFIX,
    Message,
)
from messaging.selectors import (
    PHONE_PROBLEMS,
    message_resend_refusal,
    notification_tries,
    texts_missed_for_phone,
)
from messaging.services.moves import _OPEN, Status, _cancel, _kick_dispatch, _move
from messaging.services.notify import (
    _draft,
    _hold_for_quiet_hours,
    _insert_once,
    _is_opted_out,
    _skip,
)
from snapshots.contacts import contact_card_stored, phone_choose
from snapshots.selectors import contact_card_find
from snapshots.services import contact_refresh


def message_resend(*, message: Message, by_user) -> Message:
    """A new attempt linked to the original, with its own key (a double click makes one).

    Raises ValidationError (its code as in ResendRefusal) when the resend could not go.
    """
    refusal = message_resend_refusal(message=message)
    if refusal is not None:
        raise ValidationError(refusal.reason, code=refusal.code)
    # A message is resent once (a resend that fails is resent in its turn): two clicks that both
    # pass the check above land on the same key, and the constraint keeps one.
    again = _another_try(
        message, dedup_key=f"{message.dedup_key}:resend:1", recipient=_recipient_now(message)
    )
    note = f"Resent by {by_user} (original #{message.pk})."
    if again.recipient != message.recipient:
        note += f" To {again.recipient}, as Xero has it now (was {message.recipient})."
    with transaction.atomic():
        saved = _insert_once(again, note=note)
        if saved is again:
            _waiting_tries_cancel(again)
    return saved


# Twilio errors that say the number itself cannot take texts (FACTS.md "Which failures may be
# retried"): resending to it fails again, so a resend first asks Xero for the number it has now.
WRONG_NUMBER_ERRORS = frozenset({"21211", "21614", "21635", "30005", "30006"})


def _failed_for_recipient(message: Message) -> bool:
    if message.channel in PHONE_CHANNELS:
        return message.error_code in WRONG_NUMBER_ERRORS
    # SendGrid says a refused address only in words (400, "Does not contain a valid address").
    return message.error_code == "400" and "address" in message.error_message.lower()


def _recipient_now(message: Message) -> str:
    """Where a resend of `message` goes: the contact's number or email as Xero has it now —
    asked of Xero when the failure was about the recipient, else as last seen — or the
    original's. Raises ValidationError when that is still the one that cannot be reached."""
    wrong_recipient = _failed_for_recipient(message)
    what = "number" if message.channel in PHONE_CHANNELS else "email address"
    contact = None
    if wrong_recipient and message.contact_id:
        try:
            contact = contact_refresh(tenant=message.tenant, contact_id=message.contact_id)
        except XeroError as error:
            raise ValidationError(
                f"Could not ask Xero for the contact's current {what} ({error.detail}), so "
                "nothing was resent. Try again later.",
                code="xero_unavailable",
            ) from None
    elif message.contact_id:
        contact = contact_card_find(tenant=message.tenant, contact_id=message.contact_id)
    current, problem = "", ""
    if contact is not None and message.channel in PHONE_CHANNELS:
        choice = phone_choose(contact, default_country=message.tenant.default_country)
        current, problem = choice.e164 or "", choice.reason
    elif contact is not None:
        current, problem = contact.email, "" if contact.email else "No email address in Xero."
    if wrong_recipient and problem:
        raise ValidationError(f"{problem} Fix it in Xero, then resend.", code="no_recipient")
    recipient = current or message.recipient
    if not recipient:
        raise ValidationError(
            f"Dunwell cannot look {message.contact_name or 'this contact'} up in Xero for a "
            f"{what}. Add one in Xero, then resend.",
            code="no_recipient",
        )
    if wrong_recipient and recipient == message.recipient:
        name = message.contact_name or "this contact"
        found = (
            f"Xero still has {recipient} for {name}"
            if contact is not None
            else f"Dunwell cannot look {name} up in Xero, so it only knows {recipient}"
        )
        why = message.error_message or explain(message.error_code)
        raise ValidationError(
            f"{found}, and it cannot be reached (error {message.error_code}: "
            f"{why.rstrip('.')}). Fix the {what} in Xero, then resend.",
            code="same_number",
        )
    return recipient


def _waiting_tries_cancel(resend: Message) -> None:
    """A resend replaces every try of its notification still waiting (the 30003 retry):
    otherwise the customer gets the text twice, hours apart."""
    reason = f"Replaced by the resend, message #{resend.pk}."
    for waiting in notification_tries(message=resend, statuses=_OPEN):
        _cancel(waiting, leaving=_OPEN, reason=reason)


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
        _kick_dispatch([message])
    return message


def _another_try(
    message: Message, *, dedup_key: str, not_before: datetime | None = None, recipient: str = ""
):
    """An unsaved copy of `message` linked to it (to `recipient` when given), held for quiet
    hours or skipped if opted out."""
    again = Message(
        tenant=message.tenant,
        kind=message.kind,
        channel=message.channel,
        dedup_key=dedup_key,
        template=message.template,
        recipient=recipient or message.recipient,
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
        is_test=message.is_test,  # a test's retry or resend is a test too: never counted
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


def _retry_unreachable_later(message: Message) -> None:
    if message.is_unreachable_retry:
        return
    again = _another_try(
        message,
        dedup_key=message.dedup_key + UNREACHABLE_RETRY_SUFFIX,
        not_before=timezone.now() + UNREACHABLE_RETRY_AFTER,
    )
    _insert_once(again, note="The handset was unreachable (30003): one more try later.")


# One click resends at most this many; the rest stay listed for the next click.
BULK_RESEND_LIMIT = 200
# ... of which at most this many after a wrong number (each is a Xero call, 60 a minute).
BULK_XERO_LOOKUP_LIMIT = 20


@dataclass
class ResendReport:
    """What a resend of several messages did, message by message."""

    queued: list[tuple[Message, Message]] = field(default_factory=list)  # (original, resend)
    skipped: list[tuple[Message, str]] = field(default_factory=list)  # (message, why)

    def queued_said(self, *, listed: int = 10) -> str:
        pairs = [
            f"message #{message.pk} as #{again.pk} to {again.recipient}"
            for message, again in self.queued
        ]
        return f"Queued {_counted(len(pairs), 'resend')}: {_listed(pairs, listed)}."

    def skipped_said(self, *, listed: int = 10) -> str:
        reasons = [f"#{message.pk}: {why.rstrip('.')}" for message, why in self.skipped]
        return f"Skipped {len(reasons)}: {_listed(reasons, listed, sep='; ')}."


def _counted(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _listed(items: list[str], limit: int, *, sep: str = ", ") -> str:
    more = f"{sep}and {len(items) - limit} more" if len(items) > limit else ""
    return sep.join(items[:limit]) + more


def messages_resend_bulk(*, messages, by_user) -> ResendReport:
    """Resend each of `messages` that can go, once; say for every one what happened.

    Each resend is its own insert under the dedup constraint, so a repeated POST of the same
    confirmation lands on the same keys and sends nothing twice.
    """
    report, lookups = ResendReport(), 0
    for number, message in enumerate(messages.select_related("tenant").order_by("pk")):
        if number >= BULK_RESEND_LIMIT:
            report.skipped.append((message, f"Not this time: at most {BULK_RESEND_LIMIT} at once."))
            continue
        if _failed_for_recipient(message) and message.contact_id:
            # Each asks Xero for the contact while a person waits, within the minute's budget.
            lookups += 1
            if lookups > BULK_XERO_LOOKUP_LIMIT:
                why = f"Not this time: at most {BULK_XERO_LOOKUP_LIMIT} need Xero's number at once."
                report.skipped.append((message, why))
                continue
        try:
            again = message_resend(message=message, by_user=by_user)
        except ValidationError as refusal:
            report.skipped.append((message, " ".join(refusal.messages)))
            continue
        if again.status in _OPEN:
            report.queued.append((message, again))
        else:
            report.skipped.append((message, again.status_reason))
    return report
