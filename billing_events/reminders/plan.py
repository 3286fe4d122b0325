"""Which reminders fall on a day: the one decision the sweep and the preview share."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Q

from billing_events.models import (
    OrganisationSync,
    ReminderPause,
    ReminderSent,
    ReminderSettings,
    ReminderStage,
)
from billing_events.reminders.schedule import reminder_defaults_create
from billing_events.schedules import Schedule, schedule_choose
from billing_events.selectors import reminder_schedules
from connections.models import Tenant, XeroConnection
from snapshots.contacts import ContactCard
from snapshots.models import ContactSnapshot, InvoiceSnapshot
from snapshots.selectors import OPEN_SALES_INVOICE, contact_card, invoice_tracking

# How far ahead the preview looks by default, and the sweep fetches missing contacts.
PREVIEW_HORIZON = timedelta(days=30)

SEND, SKIP = "send", "skip"
PAUSED = "Paused"
EXCLUDED = "In an excluded contact group"
BELOW_MINIMUM = "Below the stage's minimum amount"
REMINDED_YESTERDAY = "Postponed: a reminder went yesterday"


@dataclass(frozen=True)
class Occurrence:
    key: str  # the stage key, or "<stage key>:repeat:<n>"
    stage: ReminderStage
    day: date


@dataclass(frozen=True)
class Sent:
    occurrence: str
    scheduled_on: date
    sent_on: date


def occurrences_for(*, stages, due_date: date) -> list[Occurrence]:
    found = []
    for stage in stages:
        first = due_date + timedelta(days=stage.offset_days)
        found.append(Occurrence(stage.key, stage, first))
        if stage.repeat_every_days:
            for n in range(1, stage.repeat_times + 1):
                day = first + timedelta(days=stage.repeat_every_days * n)
                found.append(Occurrence(f"{stage.key}:repeat:{n}", stage, day))
    return sorted(found, key=lambda o: (o.day, o.stage.offset_days))


def occurrence_due(
    *,
    occurrences: list[Occurrence],
    sent: list[Sent],
    today: date,
    skip_missed: bool,
    starts_on: date | None = None,
) -> tuple[Occurrence | None, str]:
    """The occurrence to send today, or (the one held back, why), or (None, "").

    `starts_on` is the day the organisation was imported: a stage that fell due before Dunwell
    was connected was not missed by an outage, it is the past, and is never caught up.
    """
    last = max(sent, key=lambda s: s.sent_on, default=None)
    if last and last.sent_on >= today:
        return None, ""
    done = {s.occurrence for s in sent}
    floor = max((s.scheduled_on for s in sent), default=date.min)
    if starts_on:
        floor = max(floor, starts_on - timedelta(days=1))
    due = [o for o in occurrences if floor < o.day <= today and o.key not in done]
    if not due:
        return None, ""
    chosen = due[-1]
    if skip_missed and chosen.day != today:
        return None, ""
    late = chosen.day != today or (last is not None and last.sent_on != last.scheduled_on)
    if last and last.sent_on == today - timedelta(days=1) and late:
        return chosen, REMINDED_YESTERDAY
    return chosen, ""


@dataclass
class PlanItem:
    invoice: InvoiceSnapshot
    contact: ContactCard
    occurrence: Occurrence
    action: str  # SEND or SKIP
    reason: str = ""
    schedule: Schedule | None = None

    @property
    def days_overdue(self) -> int:
        return (self.occurrence.day - self.invoice.due_date).days


@dataclass
class _Book:
    """Everything one organisation's plan needs, read once."""

    tenant: Tenant
    xero_tenant_id: str
    settings: ReminderSettings
    invoices: list[InvoiceSnapshot]
    contacts: dict[str, ContactSnapshot]
    pauses: list[ReminderPause]
    sent: dict[str, list[Sent]] = field(default_factory=dict)
    starts_on: date | None = None
    schedules: list[Schedule] = field(default_factory=list)
    gone: dict = field(default_factory=dict)
    connection: XeroConnection | None = None


def _open_invoices(*, tenant: Tenant, xero_tenant_ids, stages, until: date):
    earliest_offset = min((s.offset_days for s in stages), default=0)
    return InvoiceSnapshot.objects.filter(
        OPEN_SALES_INVOICE,
        tenant=tenant,
        xero_tenant_id__in=xero_tenant_ids,
        due_date__lte=until - timedelta(days=earliest_offset),
    ).order_by("due_date", "number", "invoice_id")


def _book(*, connection, until: date, invoice_ids=None) -> _Book:
    return _books(
        tenant=connection.tenant, connections=[connection], until=until, invoice_ids=invoice_ids
    )[connection.xero_tenant_id]


def _books(*, tenant: Tenant, connections, until: date, invoice_ids=None) -> dict[str, _Book]:
    """The book of each of these organisations of one tenant, read in one query per kind of
    row whatever their number (the tenant's settings and schedules are shared)."""
    by_id = {connection.xero_tenant_id: connection for connection in connections}
    settings = reminder_defaults_create(tenant=tenant)
    schedules, gone = reminder_schedules(tenant=tenant)
    invoices = _open_invoices(
        tenant=tenant,
        xero_tenant_ids=list(by_id),
        stages=[stage for schedule in schedules for stage in schedule.stages],
        until=until,
    )
    if invoice_ids is not None:
        invoices = invoices.filter(invoice_id__in=invoice_ids)
    invoices = list(invoices)
    ids = [invoice.invoice_id for invoice in invoices]
    contact_ids = {invoice.contact_id for invoice in invoices}
    sent = defaultdict(lambda: defaultdict(list))
    for row in ReminderSent.objects.filter(xero_tenant_id__in=by_id, invoice_id__in=ids):
        sent[row.xero_tenant_id][row.invoice_id].append(
            Sent(row.occurrence, row.scheduled_on, row.sent_on)
        )
    contacts = defaultdict(dict)
    for contact in ContactSnapshot.objects.filter(
        xero_tenant_id__in=by_id, contact_id__in=contact_ids
    ):
        contacts[contact.xero_tenant_id][contact.contact_id] = contact
    pauses = list(
        ReminderPause.objects.filter(tenant=tenant).filter(
            Q(contact_id__in=contact_ids) | Q(invoice_id__in=ids)
        )
    )
    imported = dict(
        OrganisationSync.objects.filter(xero_tenant_id__in=by_id).values_list(
            "xero_tenant_id", "imported_at"
        )
    )
    return {
        xero_tenant_id: _Book(
            tenant=tenant,
            connection=connection,
            xero_tenant_id=xero_tenant_id,
            settings=settings,
            invoices=[i for i in invoices if i.xero_tenant_id == xero_tenant_id],
            contacts=contacts[xero_tenant_id],
            pauses=pauses,
            sent=sent[xero_tenant_id],
            starts_on=local_date(connection=connection, at=imported[xero_tenant_id])
            if imported.get(xero_tenant_id)
            else None,
            schedules=schedules,
            gone=gone,
        )
        for xero_tenant_id, connection in by_id.items()
    }


def _is_paused(book: _Book, invoice: InvoiceSnapshot, day: date) -> bool:
    return any(
        (pause.invoice_id == invoice.invoice_id or pause.contact_id == invoice.contact_id)
        and (pause.resume_on is None or day < pause.resume_on)
        for pause in book.pauses
    )


def _skip_reason(book: _Book, invoice: InvoiceSnapshot, stage: ReminderStage, day: date) -> str:
    if _is_paused(book, invoice, day):
        return PAUSED
    snapshot = book.contacts.get(invoice.contact_id)
    if snapshot and set(snapshot.group_ids) & set(book.settings.excluded_group_ids):
        return EXCLUDED
    if stage.minimum_amount_due is not None and invoice.amount_due < stage.minimum_amount_due:
        return BELOW_MINIMUM
    return ""


def _card(book: _Book, invoice: InvoiceSnapshot) -> ContactCard:
    snapshot = book.contacts.get(invoice.contact_id)
    if snapshot is None:
        return ContactCard(
            contact_id=invoice.contact_id,
            name=invoice.contact_id,
            xero_tenant_id=invoice.xero_tenant_id,
        )
    return contact_card(snapshot=snapshot, organisation=book.connection)


def schedule_for(book: _Book, invoice: InvoiceSnapshot) -> tuple[Schedule, str]:
    """The schedule this invoice follows, and why (billing_events/schedules.py)."""
    return schedule_choose(
        schedules=book.schedules,
        contact=_card(book, invoice),
        tracking=invoice_tracking(snapshot=invoice),
        gone=book.gone,
    )


def reminder_plan(book: _Book, *, day: date) -> list[PlanItem]:
    """What the sweep of `day` does with each open invoice (those with nothing due are left out)."""
    items = []
    for invoice in book.invoices:
        if invoice.due_date is None:
            continue
        schedule, _ = schedule_for(book, invoice)
        occurrence, held_back = occurrence_due(
            occurrences=occurrences_for(stages=schedule.stages, due_date=invoice.due_date),
            sent=book.sent.get(invoice.invoice_id, []),
            today=day,
            skip_missed=book.settings.skip_missed,
            starts_on=book.starts_on,
        )
        if occurrence is None:
            continue
        reason = held_back or _skip_reason(book, invoice, occurrence.stage, day)
        action = SKIP if reason else SEND
        items.append(PlanItem(invoice, _card(book, invoice), occurrence, action, reason, schedule))
    return items


def local_date(*, connection, at: datetime) -> date:
    return at.astimezone(ZoneInfo(connection.timezone)).date()
