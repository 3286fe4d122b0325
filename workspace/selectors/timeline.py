"""One invoice's story and one customer's: the timeline of what Dunwell saw and did, the
invoice page's actions and the customer page."""

from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db.models import F, Q
from django.utils import timezone

from billing_events.models import ReminderPause, ReminderSent
from billing_events.reminders import (
    PAUSED,
    NextStep,
)
from connections.models import Tenant
from messaging.models import InboundMessage, Message, OptOut
from messaging.rendering import sms_size
from messaging.selectors import (
    contact_unreachable_reason,
    contacts_reach,
)
from messaging.services import quiet_hours_end
from snapshots.contacts import ContactCard, phone_choose
from snapshots.models import ContactSnapshot, CreditNoteSnapshot, InvoiceSnapshot
from snapshots.selectors import (
    contact_card,
    invoice_tracking,
    organisations_today,
)
from workspace.models import InvoiceAction
from workspace.selectors.invoices import CurrencyTotal, totals_by_currency
from workspace.selectors.rows import and_join, invoice_rows

# --- one invoice, one customer: the timeline ----------------------------------------------------


@dataclass
class TimelineEntry:
    at: datetime
    kind: str  # for the page's styling: xero, payment, message, reply, pause, person
    title: str
    detail: str = ""
    by: str = ""
    invoice: InvoiceSnapshot | None = None
    message: Message | None = None
    segments: int | None = None  # SMS only: what the text cost, in segments
    history: list = field(default_factory=list)  # the message's status changes, oldest first
    date_only: bool = False  # Xero gave a day, not a moment


CAUSAL_ORDER = {"xero": 0, "payment": 1, "person": 2, "pause": 3, "message": 4, "reply": 5}


def _message_entry(message: Message, invoices: dict[str, InvoiceSnapshot]) -> TimelineEntry:
    channel = message.get_channel_display()
    title = f"{message.get_kind_display()} by {channel}"
    if message.kind == "payment_received" and message.template_values.get("payment_amount"):
        title = f"Receipt for {message.template_values['payment_amount']} by {channel}"
    is_text = message.channel == "sms" and bool(message.body)
    return TimelineEntry(
        at=message.created_at,
        kind="message",
        title=title,
        detail=message.error_message or message.status_reason,
        invoice=invoices.get(message.invoice_id),
        message=message,
        segments=sms_size(message.body).segments if is_text else None,
        history=list(message.status_changes.all()),
    )


def _payment_entries(
    messages: list[Message], invoices: dict[str, InvoiceSnapshot], zone: ZoneInfo
) -> list[TimelineEntry]:
    """One entry per payment, with its amount and date as Xero lists them on the invoice. Xero
    gives a payment a day, not a time: it stands at the start of that day, before what Dunwell did
    about it. A row written before payments were kept falls back on the receipts Dunwell sent
    (their dedup key names the PaymentID), at the time Dunwell saw them."""
    entries, listed = [], set()
    for invoice in invoices.values():
        for payment in invoice.payments:
            listed.add(f"payment:{payment['payment_id']}:receipt")
            day = date.fromisoformat(payment["date"]) if payment["date"] else None
            amount = Decimal(payment["amount"])
            entries.append(
                TimelineEntry(
                    at=datetime.combine(day, time.min, tzinfo=zone)
                    if day
                    else invoice.updated_date_utc or timezone.now(),
                    kind="payment",
                    title=f"Payment of {invoice.currency} {amount:,.2f} in Xero",
                    invoice=invoice,
                    date_only=day is not None,
                )
            )
    receipts = {}
    for message in messages:
        if message.kind == "payment_received" and message.dedup_key not in listed:
            receipts.setdefault(message.dedup_key, message)
    entries += [
        TimelineEntry(
            at=message.created_at,
            kind="payment",
            title=f"Payment of {message.template_values.get('payment_amount', '')} in Xero",
            invoice=invoices.get(message.invoice_id),
        )
        for message in receipts.values()
    ]
    return entries


def _xero_entries(invoice: InvoiceSnapshot) -> list[TimelineEntry]:
    entries = [
        TimelineEntry(
            at=invoice.first_seen_at,
            kind="xero",
            title=f"{invoice.number or 'Invoice'} for {invoice.currency} {invoice.total:,.2f} "
            "seen in Xero",
            detail=f"Due {invoice.due_date:%-d %b %Y}" if invoice.due_date else "",
            invoice=invoice,
        )
    ]
    closed = {"PAID": "Paid in full in Xero", "VOIDED": "Voided in Xero"}.get(invoice.status)
    if closed and invoice.updated_date_utc:
        entries.append(
            TimelineEntry(at=invoice.updated_date_utc, kind="xero", title=closed, invoice=invoice)
        )
    return entries


def _pause_entry(pause: ReminderPause, invoices: dict) -> TimelineEntry:
    until = f"until {pause.resume_on:%-d %b %Y}" if pause.resume_on else "until resumed"
    return TimelineEntry(
        at=pause.created_at,
        kind="pause",
        title=f"Reminders paused {until}",
        detail=pause.note or pause.get_reason_display(),
        invoice=invoices.get(pause.invoice_id),
    )


def _action_entry(action: InvoiceAction, invoices: dict) -> TimelineEntry:
    who = (action.by_user.get_full_name() or action.by_user.email) if action.by_user else ""
    by = f"by {who or 'a former member'}"
    return TimelineEntry(
        at=action.created_at,
        kind="person",
        title=action.get_kind_display(),
        detail=action.note,
        by=by,
        invoice=invoices.get(action.invoice_id),
    )


def _reply_entry(reply: InboundMessage) -> TimelineEntry:
    return TimelineEntry(
        at=reply.received_at,
        kind="reply",
        title=f"They replied by {reply.get_channel_display()}",
        detail=reply.body,
        by=reply.get_intent_display(),
    )


def timeline(
    *, tenant: Tenant, invoices: list[InvoiceSnapshot], contact_id: str, whole_contact=False
) -> list[TimelineEntry]:
    """Everything Dunwell saw and did for these invoices of one contact, newest first: what
    Xero said (approved, payments, paid, voided, the contact's credit notes), every message with
    its status history and cost, the customer's replies, pauses, and who did what. With
    `whole_contact`, also the messages to the contact about no invoice (credit notes)."""
    by_id = {invoice.invoice_id: invoice for invoice in invoices}
    ids = list(by_id)
    about = (
        Q(invoice_id__in=ids) | Q(contact_id=contact_id) if whole_contact else Q(invoice_id__in=ids)
    )
    messages = list(
        Message.objects.filter(about, tenant=tenant)
        .exclude(channel="none")
        .prefetch_related("status_changes")
    )
    recipients = {m.recipient for m in messages if m.channel in ("sms", "whatsapp") and m.recipient}
    organisations = {invoice.xero_tenant_id for invoice in invoices}
    entries = [entry for invoice in invoices for entry in _xero_entries(invoice)]
    entries += _payment_entries(messages, by_id, ZoneInfo(tenant.timezone))
    entries += [_message_entry(message, by_id) for message in messages]
    entries += [
        TimelineEntry(
            at=note.first_seen_at,
            kind="xero",
            title=f"Credit note {note.number} for {note.currency} {note.total:,.2f}",
            detail="Issued to this customer in Xero",
        )  # fmt: skip
        for note in CreditNoteSnapshot.objects.filter(
            tenant=tenant,
            xero_tenant_id__in=organisations,
            contact_id=contact_id,
            type="ACCRECCREDIT",
        )  # fmt: skip
    ]
    entries += [
        _reply_entry(reply)
        for reply in InboundMessage.objects.filter(tenant=tenant, from_phone__in=recipients)
    ]
    actions = list(
        InvoiceAction.objects.filter(tenant=tenant, invoice_id__in=ids).select_related("by_user")
    )
    entries += [_action_entry(action, by_id) for action in actions]
    told = {action.pause_id for action in actions}
    entries += [
        _pause_entry(pause, by_id)
        for pause in ReminderPause.objects.filter(tenant=tenant).filter(
            Q(invoice_id__in=ids) | Q(contact_id=contact_id)
        )
        if pause.pk not in told
    ]
    # Newest first; of two things at one instant, the effect above its cause.
    return sorted(entries, key=lambda entry: (entry.at, CAUSAL_ORDER[entry.kind]), reverse=True)


def customer_invoices(*, tenant: Tenant, contact_id: str) -> list[InvoiceSnapshot]:
    """The contact's sales invoices Dunwell knows, newest due first (drafts and deleted aside)."""
    return list(
        InvoiceSnapshot.objects.filter(
            tenant=tenant,
            type="ACCREC",
            contact_id=contact_id,
            status__in=["AUTHORISED", "PAID", "VOIDED"],
        ).order_by(F("due_date").desc(nulls_last=True), "-pk")  # fmt: skip
    )


def customer_totals(*, tenant: Tenant, contact_id: str, as_of: datetime) -> list[CurrencyTotal]:
    """The contact's outstanding and overdue per currency, in one aggregate query."""
    invoices = InvoiceSnapshot.objects.filter(tenant=tenant, contact_id=contact_id)
    return totals_by_currency(invoices, today=organisations_today(tenant=tenant, as_of=as_of))


def contact_snapshot_of(*, tenant: Tenant, contact_id: str) -> ContactSnapshot | None:
    return (
        ContactSnapshot.objects.filter(tenant=tenant, contact_id=contact_id)
        .order_by("-last_seen_at", "-pk")
        .first()
    )


# --- the invoice page's actions -----------------------------------------------------------------


def invoice_pauses(*, tenant: Tenant, invoice: InvoiceSnapshot) -> list[ReminderPause]:
    """The pauses holding this invoice now: its own, and its contact's."""
    today = organisations_today(tenant=tenant, as_of=timezone.now()).get(invoice.xero_tenant_id)
    return list(
        ReminderPause.objects.filter(tenant=tenant)
        .filter(Q(invoice_id=invoice.invoice_id) | Q(contact_id=invoice.contact_id))
        .filter(Q(resume_on__isnull=True) | Q(resume_on__gt=today or date.min))
    )


@dataclass(frozen=True)
class SendNextPreview:
    """What "send the next reminder now" would do: the step, or why it cannot go."""

    occurrence_key: str = ""
    stage_label: str = ""
    refusal: str = ""
    quiet_until: datetime | None = None  # set when quiet hours hold the text until then
    channels: str = ""  # in words: "SMS and Email"


def send_next_preview(
    *, tenant: Tenant, invoice: InvoiceSnapshot, step: NextStep | None, as_of: datetime
) -> SendNextPreview | None:
    """From the invoice's next step (reminder_next_steps); None for an invoice that is not open
    (or whose organisation is not connected)."""
    if step is None:
        return None
    if step.occurrence is None:
        return SendNextPreview(refusal=f"{step.reason}: there is no next reminder to send.")
    key, label = step.occurrence.key, step.occurrence.stage.label
    today = organisations_today(tenant=tenant, as_of=as_of).get(invoice.xero_tenant_id)
    if ReminderSent.objects.filter(
        xero_tenant_id=invoice.xero_tenant_id, invoice_id=invoice.invoice_id, sent_on__gte=today
    ).exists():
        return SendNextPreview(key, label, "A reminder for this invoice already went today.")
    if step.reason == PAUSED:
        return SendNextPreview(key, label, "Reminders are paused: resume them first.")
    if step.reason:
        return SendNextPreview(key, label, f"{step.reason}: it would not be sent.")
    snapshot = contact_snapshot_of(tenant=tenant, contact_id=invoice.contact_id)
    card = contact_card(snapshot=snapshot) if snapshot else ContactCard(invoice.contact_id, "")
    unreachable = contact_unreachable_reason(
        tenant=tenant, kind="reminder", contact=card, reminder_stage=step.occurrence.stage.key,
        tracking=invoice_tracking(snapshot=invoice),
    )  # fmt: skip
    if unreachable:
        return SendNextPreview(key, label, f"{unreachable}: it would not be sent.")
    phone = phone_choose(card, default_country=tenant.default_country).e164
    reach = contacts_reach(tenant=tenant, kind="reminder", contacts=[card])[card.contact_id]
    return SendNextPreview(
        key, label, quiet_until=quiet_hours_end(tenant=tenant, phone=phone or "", at=as_of),
        channels=and_join(reach.channel_labels),
    )  # fmt: skip


def sent_words(*, messages: list[Message], tenant: Tenant) -> str:
    """What became of a reminder sent now, per channel, in the tenant's time."""
    zone = ZoneInfo(tenant.timezone)
    parts = []
    for message in messages:
        channel = message.get_channel_display()
        if message.status == Message.Status.SCHEDULED and message.send_after:
            local = message.send_after.astimezone(zone)
            parts.append(f"{channel} goes at {local:%H:%M} on {local:%a} {local.day} {local:%b} "
                         "(after the recipient’s quiet hours)")  # fmt: skip
        elif message.status == Message.Status.SKIPPED:
            parts.append(f"{channel} not sent: {message.status_reason}")
        else:
            parts.append(f"{channel} is on its way")
    return "Reminder sent now. " + "; ".join(parts) + "." if parts else "Nothing was sent."


# --- the customer page --------------------------------------------------------------------------


def customer_page(*, tenant: Tenant, profile, as_of: datetime) -> dict:
    """The customer's invoices (as list rows), totals per currency, what Xero holds about them,
    how they are reached, and their timeline across invoices."""
    invoices = customer_invoices(tenant=tenant, contact_id=profile.contact_id)
    snapshot = contact_snapshot_of(tenant=tenant, contact_id=profile.contact_id)
    card = contact_card(snapshot=snapshot) if snapshot else None
    reach = (
        contacts_reach(tenant=tenant, kind="reminder", contacts=[card])[card.contact_id]
        if card
        else None
    )
    opted_out = bool(
        profile.phone
        and profile.phone.e164
        and OptOut.objects.filter(tenant=tenant, phone=profile.phone.e164).exists()
    )
    return {
        "rows": invoice_rows(tenant=tenant, invoices=invoices, as_of=as_of),
        "totals": customer_totals(tenant=tenant, contact_id=profile.contact_id, as_of=as_of),
        "snapshot": snapshot,
        "reach": reach,
        "opted_out": opted_out,
        "timeline": timeline(
            tenant=tenant, invoices=invoices, contact_id=profile.contact_id, whole_contact=True
        ),
    }
