"""One row of the Invoices list: its state, last message and the words for its next step
(from the reminder sweep's own plan, never re-derived here); the CSV export."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from billing_events.models import ReminderPause
from billing_events.reminders import (
    BELOW_MINIMUM,
    EXCLUDED,
    PAUSED,
    NextStep,
    reminder_next_steps,
)
from connections.models import Tenant, XeroConnection
from messaging.models import Message
from messaging.selectors import (
    Reach,
    contacts_reach,
)
from snapshots.models import ContactSnapshot, InvoiceSnapshot, XeroContactGroup
from snapshots.selectors import (
    contact_card,
    organisations_today,
)
from workspace.selectors.invoices import (
    STATE_LABELS,
    InvoiceFilters,
    invoice_filters_resolve,
    invoices_page,
)

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


def and_join(words: list[str]) -> str:
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
    channels = and_join(reach.channel_labels) if reach else ""
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
