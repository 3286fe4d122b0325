"""Reads of the collections workspace: every invoice across the tenant's organisations, one
invoice's story and one customer's.

The invoice list is read in a fixed number of queries whatever the size of the ledger: one for
the page (keyset paging, never a count), one aggregate for the totals, and a few per
organisation for the next steps, which come from the reminder sweep's own plan
(billing_events.reminders.reminder_next_steps) — never re-derived here.
"""

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db.models import Exists, F, OuterRef, Q, QuerySet, Sum
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan, TupleLessThan
from django.utils import timezone

from billing_events.models import ReminderPause, ReminderSent
from billing_events.reminders import (
    BELOW_MINIMUM,
    EXCLUDED,
    PAUSED,
    NextStep,
    reminder_next_steps,
)
from connections.models import Tenant, XeroConnection
from messaging.models import InboundMessage, Message, OptOut
from messaging.rendering import sms_size
from messaging.selectors import (
    PHONE_PROBLEMS,
    RESENDABLE,
    Reach,
    contact_unreachable_reason,
    contacts_reach,
)
from messaging.services import quiet_hours_end
from snapshots.contacts import ContactCard, phone_choose
from snapshots.models import ContactSnapshot, CreditNoteSnapshot, InvoiceSnapshot, XeroContactGroup
from snapshots.selectors import (
    OPEN_SALES_INVOICE,
    contact_card,
    invoice_tracking,
    invoices_overdue_q,
    organisations_today,
)
from workspace.models import InvoiceAction

PAGE_SIZE = 50
# Paid and voided invoices stay on the list this long after Xero last changed them (the time
# of the change that closed them: snapshots keep no payment times).
RECENTLY_CLOSED = timedelta(days=30)
# A customer's text that needs a person counts for this long after it came.
REPLY_NEEDS_PERSON_FOR = timedelta(days=30)

STATE_LABELS = {
    "awaiting": "Awaiting payment",
    "part_paid": "Part paid",
    "overdue": "Overdue",
    "paid": "Paid",
    "voided": "Voided",
}
# (first, last) days overdue of each bucket; None: no upper end.
BUCKETS = {"1-7": (1, 7), "8-30": (8, 30), "31-60": (31, 60), "61-": (61, None)}
# sort key → (field, descending). Xero gives every approved invoice a due date, so the keyset
# never meets a NULL among the invoices listed here.
SORTS = {
    "due": ("due_date", False),
    "-due": ("due_date", True),
    "amount": ("amount_due", False),
    "-amount": ("amount_due", True),
    "number": ("number", False),
}


@dataclass(frozen=True)
class InvoiceFilters:
    q: str = ""
    organisation: str = ""
    state: str = ""
    overdue: str = ""
    group: str = ""
    needs_person: bool = False
    # The invoices that need a person, once read (invoice_filters_resolve): a page and its
    # totals share one reading of the send log.
    needing: frozenset[str] | None = None
    sort: str = "due"


# --- the list ---------------------------------------------------------------------------------


def _listed(*, tenant: Tenant, as_of: datetime) -> QuerySet[InvoiceSnapshot]:
    """Every open sales invoice, and those paid or voided in the last 30 days."""
    recently = Q(status__in=["PAID", "VOIDED"], updated_date_utc__gte=as_of - RECENTLY_CLOSED)
    return InvoiceSnapshot.objects.filter(
        Q(status="AUTHORISED") | recently, tenant=tenant, type="ACCREC"
    )


def _days_overdue_q(today: dict[str, date], first: int, last: int | None) -> Q:
    """Invoices due between `last` and `first` days before their organisation's today."""
    q = Q(pk__in=[])
    for xero_tenant_id, day in today.items():
        bounds = {"due_date__lte": day - timedelta(days=first)}
        if last is not None:
            bounds["due_date__gte"] = day - timedelta(days=last)
        org = ~Q(xero_tenant_id__in=[x for x in today if x]) if not xero_tenant_id else None
        q |= Q(org or Q(xero_tenant_id=xero_tenant_id), **bounds)
    return q


def _state_q(state: str, overdue: Q) -> Q:
    authorised = Q(status="AUTHORISED")
    return {
        "open": authorised,
        "overdue": overdue,
        "part_paid": authorised & Q(amount_paid__gt=0) & ~overdue,
        "awaiting": authorised & Q(amount_paid=0) & ~overdue,
        "paid": Q(status="PAID"),
        "voided": Q(status="VOIDED"),
    }[state]


def _needs_person_ids(*, tenant: Tenant, as_of: datetime) -> set[str]:
    """InvoiceIDs whose last message failed or found no usable phone, or that the customer
    texted back about (from a number Dunwell texted about the invoice) something only a person
    can answer and nobody has marked handled — read from the send log's side in two queries:
    its failures and the recent replies are few, however many invoices there are."""
    texts = Message.objects.filter(tenant=tenant).order_by()
    newer = texts.filter(invoice_id=OuterRef("invoice_id"), created_at__gt=OuterRef("created_at"))
    failed_last = (
        texts.filter(Q(status__in=RESENDABLE) | Q(error_code__in=PHONE_PROBLEMS))
        .exclude(invoice_id="")
        .exclude(Exists(newer))
    )
    replies = InboundMessage.objects.filter(
        tenant=tenant,
        intent=InboundMessage.Intent.OTHER,
        handled_at__isnull=True,
        received_at__gte=as_of - REPLY_NEEDS_PERSON_FOR,
    )
    replied_about = texts.filter(recipient__in=replies.values("from_phone")).exclude(invoice_id="")
    return {
        *failed_last.values_list("invoice_id", flat=True),
        *replied_about.values_list("invoice_id", flat=True),
    }


def invoice_filters_resolve(
    *, tenant: Tenant, filters: InvoiceFilters, as_of: datetime
) -> InvoiceFilters:
    """The filters with what they need read once for a whole request (the page, its totals,
    every batch of the CSV)."""
    if not filters.needs_person or filters.needing is not None:
        return filters
    return replace(filters, needing=frozenset(_needs_person_ids(tenant=tenant, as_of=as_of)))


def invoices_filtered(
    *, tenant: Tenant, filters: InvoiceFilters, as_of: datetime, invoices: QuerySet | None = None
) -> QuerySet[InvoiceSnapshot]:
    """The invoices the list shows for these filters (of `invoices`, by default every invoice
    the list shows), unordered."""
    today = organisations_today(tenant=tenant, as_of=as_of)
    if invoices is None:
        invoices = _listed(tenant=tenant, as_of=as_of)
    if filters.organisation:
        invoices = invoices.filter(xero_tenant_id=filters.organisation)
    if filters.state:
        invoices = invoices.filter(_state_q(filters.state, invoices_overdue_q(today=today)))
    if filters.overdue in BUCKETS:
        invoices = invoices.filter(
            OPEN_SALES_INVOICE, _days_overdue_q(today, *BUCKETS[filters.overdue])
        )
    if filters.group:
        # ContactGroupIDs are GUIDs: a match in the JSON text is a match of the id.
        members = ContactSnapshot.objects.filter(tenant=tenant, group_ids__icontains=filters.group)
        invoices = invoices.filter(contact_id__in=members.values("contact_id"))
    if filters.q:
        invoices = invoices.filter(
            Q(number__icontains=filters.q)
            | Q(contact_id__in=_contact_ids_named(tenant=tenant, name=filters.q))
        )
    if filters.needs_person:
        needing = filters.needing
        if needing is None:
            needing = _needs_person_ids(tenant=tenant, as_of=as_of)
        invoices = invoices.filter(invoice_id__in=needing)
    return invoices


# Up to this many contacts matching a search are named to the database as a list, so it can
# combine the number's and the contacts' indexes (a bitmap OR) instead of walking every invoice;
# a search that matches more is left a subquery (then matches are many and a page fills fast).
NAMED_CONTACTS_LISTED = 500


def _contact_ids_named(*, tenant: Tenant, name: str):
    named = ContactSnapshot.objects.filter(tenant=tenant, name__icontains=name)
    ids = list(named.values_list("contact_id", flat=True)[: NAMED_CONTACTS_LISTED + 1])
    return ids if len(ids) <= NAMED_CONTACTS_LISTED else named.values("contact_id")


def cursor_encode(value, pk: int) -> str:
    raw = json.dumps([str(value), pk]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _cursor_decode(cursor: str, field_name: str):
    """(value, pk) from a cursor, or None for one that is not ours (then the first page)."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value, pk = json.loads(raw)
        parse = {"due_date": date.fromisoformat, "amount_due": Decimal}.get(field_name, str)
        return parse(value), int(pk)
    except (ValueError, TypeError, ArithmeticError):
        return None


def _ordered(invoices: QuerySet, sort: str) -> tuple[QuerySet, str, bool]:
    field_name, descending = SORTS.get(sort, SORTS["due"])
    order = [f"-{field_name}", "-pk"] if descending else [field_name, "pk"]
    return invoices.order_by(*order), field_name, descending


def invoices_page(
    *, tenant: Tenant, filters: InvoiceFilters, as_of: datetime, after: str = "",
    size: int | None = None,
) -> tuple[list[InvoiceSnapshot], str]:  # fmt: skip
    """One page after the cursor, and the cursor of the next page ("" on the last).

    Keyset paging: the page starts where the last one ended, (sort value, pk) > cursor, on an
    index — as fast at page 2,000 as at page 1 — and n + 1 rows tell whether more follow.
    """
    invoices, field_name, descending = _ordered(
        invoices_filtered(tenant=tenant, filters=filters, as_of=as_of), filters.sort
    )
    position = _cursor_decode(after, field_name) if after else None
    if position:
        compare = TupleLessThan if descending else TupleGreaterThan
        invoices = invoices.filter(compare(Tuple(F(field_name), F("pk")), position))
    size = size or PAGE_SIZE
    rows = list(invoices[: size + 1])
    if len(rows) <= size:
        return rows, ""
    last = rows[size - 1]
    return rows[:size], cursor_encode(getattr(last, field_name), last.pk)


@dataclass(frozen=True)
class CurrencyTotal:
    currency: str
    outstanding: Decimal
    overdue: Decimal


def invoice_totals(
    *, tenant: Tenant, filters: InvoiceFilters, as_of: datetime
) -> list[CurrencyTotal]:
    """Outstanding and overdue per currency of the filtered invoices, in one aggregate query."""
    # Only open invoices count, so the totals start from them: an index-only scan of the open
    # ones (invoicesnapshot_open_totals) rather than every row the list shows.
    open_invoices = InvoiceSnapshot.objects.filter(OPEN_SALES_INVOICE, tenant=tenant)
    invoices = invoices_filtered(
        tenant=tenant, filters=filters, as_of=as_of, invoices=open_invoices
    )
    return _totals(invoices, today=organisations_today(tenant=tenant, as_of=as_of))


def _totals(invoices: QuerySet, *, today: dict[str, date]) -> list[CurrencyTotal]:
    rows = (
        invoices.filter(OPEN_SALES_INVOICE)
        .values("currency")
        .annotate(
            outstanding=Sum("amount_due"),
            overdue=Sum("amount_due", filter=invoices_overdue_q(today=today)),
        )
        .order_by("currency")
    )
    return [
        CurrencyTotal(row["currency"], row["outstanding"], row["overdue"] or Decimal(0))
        for row in rows
    ]


# --- one row of the list, and the words for its next step --------------------------------------


@dataclass(frozen=True)
class NextStepView:
    text: str
    goes: bool  # a reminder will go; False: the text says why none will
    when: datetime | None = None
    note: str = ""  # a caution beside a step that goes (Xero's own reminders are on)


@dataclass
class InvoiceRow:
    invoice: InvoiceSnapshot
    organisation: str
    contact_name: str
    state: str
    days_overdue: int
    last_message: Message | None
    next_step: NextStepView | None
    step: NextStep | None = None  # what the words were made from (open invoices only)

    @property
    def state_label(self) -> str:
        return STATE_LABELS.get(self.state, self.invoice.status.title())


def invoice_state(invoice: InvoiceSnapshot, *, today: date) -> str:
    if invoice.status == "PAID":
        return "paid"
    if invoice.status != "AUTHORISED":
        return "voided"
    if invoice.amount_due > 0 and invoice.due_date and invoice.due_date < today:
        return "overdue"
    return "part_paid" if invoice.amount_paid > 0 else "awaiting"


# How a pause holding the next reminder is told, by ReminderPause.reason; a new kind of pause
# says itself here.
PAUSE_WORDS = {
    ReminderPause.Reason.STAFF: ("Paused until {day}", "Paused until someone resumes them"),
    ReminderPause.Reason.REPLY: ("Paused after their reply until {day}", "Paused after a reply"),
    # resume_on is the day after the promised one: reminders start again if it was not kept.
    ReminderPause.Reason.PROMISE: ("Promised to pay: reminders resume {day}", "Promised to pay"),
}
SKIP_WORDS = {
    EXCLUDED: "None: the contact is in an excluded group",
    BELOW_MINIMUM: "None: below the stage's minimum amount",
}


def _and_join(words: list[str]) -> str:
    return " and ".join(filter(None, [", ".join(words[:-1]), words[-1]])) if words else ""


def _day_words(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b}"


def next_step_words(
    *, step: NextStep, reach: Reach | None, xero_reminders_on: bool, zone: str
) -> NextStepView:
    """The next step of one open invoice in words: which reminder goes when (the run's start
    in the organisation's zone, told in `zone`, the tenant's) on which channel, or why none
    will."""
    if step.reason == PAUSED:
        dated, open_ended = PAUSE_WORDS.get(step.paused_reason, PAUSE_WORDS["staff"])
        text = dated.format(day=_day_words(step.paused_until)) if step.paused_until else open_ended
        return NextStepView(text, goes=False)
    if step.occurrence is None or step.reason:
        words = SKIP_WORDS.get(step.reason, f"None: {step.reason[:1].lower()}{step.reason[1:]}")
        return NextStepView(words, goes=False)
    if reach and reach.unreachable_reason:
        reason = reach.unreachable_reason
        return NextStepView(f"None: {reason[:1].lower()}{reason[1:]}", goes=False)
    channels = _and_join(reach.channel_labels) if reach else ""
    at = step.at.astimezone(ZoneInfo(zone))
    text = f"{step.occurrence.stage.label} · {_day_words(at.date())} {at:%H:%M}"
    note = "Xero also emails its own reminders for this organisation" if xero_reminders_on else ""
    return NextStepView(f"{text}{f' · {channels}' if channels else ''}", True, step.at, note)


def _contacts_of(*, tenant: Tenant, invoices) -> dict[tuple[str, str], ContactSnapshot]:
    contacts = ContactSnapshot.objects.filter(
        tenant=tenant, contact_id__in={i.contact_id for i in invoices}
    )
    return {(c.xero_tenant_id, c.contact_id): c for c in contacts}


def _last_messages(*, tenant: Tenant, invoices) -> dict[str, Message]:
    messages = (
        Message.objects.filter(tenant=tenant, invoice_id__in=[i.invoice_id for i in invoices])
        .exclude(channel="none")
        .order_by("-created_at", "-pk")
        .only("invoice_id", "kind", "channel", "status", "created_at", "error_code", "is_ambiguous")
    )
    last = {}
    for message in messages:
        last.setdefault(message.invoice_id, message)
    return last


def invoice_rows(*, tenant: Tenant, invoices: list[InvoiceSnapshot], as_of: datetime):
    """Everything a row shows, for a page of invoices, in a fixed number of queries."""
    today = organisations_today(tenant=tenant, as_of=as_of)
    connections = {
        c.xero_tenant_id: c
        for c in XeroConnection.objects.filter(tenant=tenant).select_related("invoice_reminders")
    }
    contacts = _contacts_of(tenant=tenant, invoices=invoices)
    cards = {
        contact_id: contact_card(snapshot=snapshot, organisation=connections.get(xero_tenant_id))
        for (xero_tenant_id, contact_id), snapshot in contacts.items()
    }
    reach = contacts_reach(tenant=tenant, kind="reminder", contacts=list(cards.values()))
    steps = reminder_next_steps(tenant=tenant, invoices=invoices, as_of=as_of)
    last_messages = _last_messages(tenant=tenant, invoices=invoices)
    rows = []
    for invoice in invoices:
        connection = connections.get(invoice.xero_tenant_id)
        day = today.get(invoice.xero_tenant_id, today[""])
        state = invoice_state(invoice, today=day)
        contact = contacts.get((invoice.xero_tenant_id, invoice.contact_id))
        step = steps.get(invoice.invoice_id)
        rows.append(
            InvoiceRow(
                invoice=invoice,
                organisation=connection.name if connection else "",
                contact_name=contact.name if contact else "",
                state=state,
                days_overdue=(day - invoice.due_date).days if state == "overdue" else 0,
                last_message=last_messages.get(invoice.invoice_id),
                next_step=next_step_words(
                    step=step,
                    reach=reach.get(invoice.contact_id),
                    xero_reminders_on=_xero_reminders_on(connection),
                    zone=tenant.timezone,
                )
                if step and connection
                else None,
                step=step,
            )
        )
    return rows


def _xero_reminders_on(connection: XeroConnection) -> bool:
    # Read in the background by the dashboard's daily check (dashboard.services), stored on a
    # row of its own beside the connection; unknown counts as off.
    reminders = getattr(connection, "invoice_reminders", None)
    return bool(reminders and reminders.enabled)


def invoice_filter_choices(*, tenant: Tenant) -> tuple[list, list]:
    """The organisations and contact groups the filters offer."""
    organisations = list(
        XeroConnection.objects.filter(tenant=tenant)
        .exclude(status=XeroConnection.Status.DISCONNECTED)
        .order_by("name")
        .values_list("xero_tenant_id", "name")
    )
    groups = list(
        XeroContactGroup.objects.filter(tenant=tenant, status=XeroContactGroup.Status.ACTIVE)
        .order_by("name")
        .values_list("group_id", "name")
    )
    return organisations, groups


def invoices_csv_rows(
    *, tenant: Tenant, filters: InvoiceFilters, as_of: datetime, batch: int = 500
) -> Iterator[list[str]]:
    """The filtered list as CSV rows, header first, read a keyset page at a time."""
    yield [
        "Organisation", "Invoice", "Contact", "Currency", "Amount due", "Total", "Due date",
        "Days overdue", "State", "Last message", "Last message status", "Next step",
    ]  # fmt: skip
    filters, after = invoice_filters_resolve(tenant=tenant, filters=filters, as_of=as_of), ""
    while True:
        page, after = invoices_page(
            tenant=tenant, filters=filters, as_of=as_of, after=after, size=batch
        )
        for row in invoice_rows(tenant=tenant, invoices=page, as_of=as_of):
            message = row.last_message
            yield [
                row.organisation, row.invoice.number, row.contact_name, row.invoice.currency,
                f"{row.invoice.amount_due:.2f}", f"{row.invoice.total:.2f}",
                row.invoice.due_date.isoformat() if row.invoice.due_date else "",
                str(row.days_overdue or ""), row.state_label,
                message.get_kind_display() if message else "",
                message.get_status_display() if message else "",
                row.next_step.text if row.next_step else "",
            ]  # fmt: skip
        if not after:
            return


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


def _payment_entries(messages: list[Message], invoices) -> list[TimelineEntry]:
    """One entry per payment Dunwell announced (its receipt's dedup key names the PaymentID):
    the amount from the receipt, at the time Dunwell saw it."""
    seen = {}
    for message in messages:
        if message.kind == "payment_received":
            seen.setdefault(message.dedup_key, message)
    return [
        TimelineEntry(
            at=message.created_at,
            kind="payment",
            title=f"Payment of {message.template_values.get('payment_amount', '')} in Xero",
            invoice=invoices.get(message.invoice_id),
        )
        for message in seen.values()
    ]


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
    entries += _payment_entries(messages, by_id)
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
    return _totals(invoices, today=organisations_today(tenant=tenant, as_of=as_of))


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
        channels=_and_join(reach.channel_labels),
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
