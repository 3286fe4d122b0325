"""notify(): one notification becomes one Message row per channel, exactly once (the dedup
key's unique constraint), held for quiet hours or skipped with the reason; notify_many() does
the same for a batch in a handful of statements; messages_cancel().
"""

import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from connections.models import Tenant
from messaging import rendering
from messaging.models import (
    PHONE_CHANNELS,
    Channel,
    Message,
    MessageStatusChange,
    MessageTemplate,
    OptOut,
)
from messaging.selectors import TemplateBook
from messaging.services.moves import _OPEN, Status, _cancel, _change, _kick_dispatch, _record
from snapshots.contacts import (
    ContactCard,
    contact_card_restored,
    contact_card_stored,
    phone_choose,
    phone_timezone_name,
    recipient_timezone_fallback,
)
from snapshots.segments import TrackingTag

logger = logging.getLogger(__name__)


def _as_time(value) -> time:
    return time.fromisoformat(value) if isinstance(value, str) else value


def quiet_hours_end(
    *, tenant: Tenant, phone: str, at: datetime, contact: ContactCard | None = None
) -> datetime | None:
    """When quiet hours end for this recipient, or None if `at` is outside them.

    Local time is the recipient's: the zone of their phone number when it tells, else that of
    the contact's organisation, else the tenant's (an email address has no zone).
    """
    start, end = _as_time(tenant.quiet_hours_start), _as_time(tenant.quiet_hours_end)
    if start == end:
        return None
    fallback = recipient_timezone_fallback(contact, tenant_timezone=tenant.timezone)
    zone_name = phone_timezone_name(phone, fallback=fallback) if phone else fallback
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


def _card_of(message: Message) -> ContactCard:
    return contact_card_restored(
        message.contact_card, contact_id=message.contact_id, name=message.contact_name
    )


def _is_opted_out(message: Message) -> bool:
    return (
        message.channel in PHONE_CHANNELS
        and OptOut.objects.filter(tenant_id=message.tenant_id, phone=message.recipient).exists()
    )


def _skip(message: Message, code: str, reason: str) -> Message:
    message.status = Status.SKIPPED
    message.error_code = code
    message.status_reason = reason
    message.finished_at = timezone.now()
    return message


def _opted_out_of(*, tenant_id: int, phones) -> set[str]:
    phones = {phone for phone in phones if phone}
    if not phones:
        return set()
    return set(
        OptOut.objects.filter(tenant_id=tenant_id, phone__in=phones).values_list("phone", flat=True)
    )


def _draft(
    *,
    message: Message,
    template: MessageTemplate,
    contact: ContactCard,
    values: dict,
    opted_out: set[str] | None = None,
) -> Message:
    """Fill in recipient, text and timing of an unsaved message, or say why it is skipped;
    `opted_out` holds the numbers of a batch that replied STOP (None: look this one up)."""
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
    if opted_out is None:
        phones = {message.recipient} if message.channel in PHONE_CHANNELS else set()
        opted_out = _opted_out_of(tenant_id=tenant.pk, phones=phones)
    if message.channel in PHONE_CHANNELS and message.recipient in opted_out:
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
    if not message.is_test:  # a test is asked for now, by the person it goes to
        _hold_for_quiet_hours(message)
    return message


def _hold_for_quiet_hours(message: Message, *, at: datetime | None = None) -> None:
    until = quiet_hours_end(
        tenant=message.tenant,
        phone=_phone_of(message),
        at=at or timezone.now(),
        contact=_card_of(message),
    )
    if until:
        message.status = Status.SCHEDULED
        message.send_after = message.next_attempt_at = until
        message.quiet_hours_hold = True


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
        _kick_dispatch([message])
    return message


def _insert_all(messages: list[tuple[Message, str]]) -> list[Message]:
    """Insert the batch in two statements (messages, their first history rows); if one of them
    exists already (a replay, a racing worker), one by one, keeping the rows that exist."""
    try:
        with transaction.atomic():
            Message.objects.bulk_create([message for message, _ in messages])
            MessageStatusChange.objects.bulk_create(
                [
                    _change(message, from_status="", note=message.status_reason or note)
                    for message, note in messages
                ]
            )
    except IntegrityError:
        for message, _ in messages:
            message.pk, message._state.adding = None, True
        return [_insert_once(message, note=note) for message, note in messages]
    _kick_dispatch([message for message, _ in messages if message.status == Status.PENDING])
    return [message for message, _ in messages]


@dataclass(frozen=True)
class Notice:
    """One notification to make (see notify)."""

    kind: str
    contact: ContactCard
    context: dict
    dedup_key: str
    invoice_id: str = ""
    channels: Sequence[str] | None = None
    tracking: Sequence[TrackingTag] = ()
    is_test: bool = False


def _messages_of(
    notice: Notice, *, tenant: Tenant, book: TemplateBook, opted_out: set[str]
) -> list[tuple[Message, str]]:
    contact = notice.contact
    choice = book.choose(
        kind=notice.kind,
        contact=contact,
        reminder_stage=str(notice.context.get("reminder_stage") or ""),
        tracking=notice.tracking,
        channels=notice.channels,
    )
    values = rendering.template_values(
        contact=contact, context=notice.context, tenant_country=tenant.default_country
    )

    def blank(channel: str, template: MessageTemplate | None) -> Message:
        return Message(
            tenant=tenant,
            kind=notice.kind,
            channel=channel,
            dedup_key=notice.dedup_key,
            template=template,
            contact_id=contact.contact_id,
            contact_name=contact.name,
            invoice_id=notice.invoice_id,
            is_test=notice.is_test,
            xero_tenant_id=contact.xero_tenant_id,
            template_values=values,
            # The invoice's tracking rides with the card, so a fallback email picks its template
            # by the same segments as the text it replaces.
            contact_card={
                **contact_card_stored(contact),
                "tracking": [asdict(tag) for tag in notice.tracking],
            },
        )

    if not choice.templates:
        logger.info("notify tenant=%s kind=%s: %s", tenant.pk, notice.kind, choice.problem)
        return [(_skip(blank(Channel.NONE, None), choice.problem, choice.reason), "")]
    return [
        (
            _draft(
                message=blank(channel, template),
                template=template,
                contact=contact,
                values=values,
                opted_out=opted_out,
            ),
            "Created",
        )
        for channel, template in sorted(choice.templates.items())
    ]


def notify_many(*, tenant: Tenant, notices: Sequence[Notice]) -> list[Message]:
    """notify() for a batch of notifications: the templates, preferences and opt-outs of all of
    them read at once, their messages inserted together, their dispatch kicked once. Returns
    the messages in the order of `notices`, each notice's channels in order."""
    if not notices:
        return []
    book = TemplateBook(
        tenant=tenant,
        kinds={notice.kind for notice in notices},
        contact_ids={notice.contact.contact_id for notice in notices},
    )
    opted_out = _opted_out_of(
        tenant_id=tenant.pk,
        phones={
            phone_choose(notice.contact, default_country=tenant.default_country).e164
            for notice in notices
        },
    )
    drafts = [
        draft
        for notice in notices
        for draft in _messages_of(notice, tenant=tenant, book=book, opted_out=opted_out)
    ]
    return _insert_all(drafts)


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
    is_test: bool = False,
) -> list[Message]:
    """One Message per channel the contact gets (their own, else the tenant's default; exactly
    `channels` when given) that has an active template; a repeated call sends nothing new.

    `tracking` is the invoice's line-item tracking options, for tracking segments. A test
    (`is_test`, to a staff member's own number) is logged and sent like any other message but
    is never held for quiet hours and never counted in reports.
    """
    notice = Notice(
        kind=kind,
        contact=contact,
        context=context,
        dedup_key=dedup_key,
        invoice_id=invoice_id,
        channels=channels,
        tracking=tracking,
        is_test=is_test,
    )
    return notify_many(tenant=tenant, notices=[notice])


def messages_cancel_many(*, tenant: Tenant, reasons: dict[str, str]) -> int:
    """Cancel waiting messages whose key starts with one of the prefixes, each with its reason
    (e.g. invoices got paid): one statement finds them all."""
    if not reasons:
        return 0
    starts = Q()
    for prefix in reasons:
        starts |= Q(dedup_key__startswith=prefix)
    waiting = Message.objects.filter(starts, tenant=tenant, status__in=_OPEN)
    cancelled = 0
    for message in waiting:
        reason = next(r for prefix, r in reasons.items() if message.dedup_key.startswith(prefix))
        cancelled += _cancel(message, leaving=_OPEN, reason=reason)
    return cancelled


def messages_cancel(*, tenant: Tenant, dedup_prefix: str, reason: str) -> int:
    """Cancel waiting messages whose key starts with the prefix (e.g. an invoice got paid)."""
    return messages_cancel_many(tenant=tenant, reasons={dedup_prefix: reason})
