"""One open invoice's next reminder step, from the sweep's own rules: which stage goes on which
day, or why none will (paused, excluded group, below the minimum, end of schedule). The
workspace pages show it; "send the next reminder now" sends it (send_now.py).
"""

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from billing_events.models import ReminderPause, SweepRun
from billing_events.reminders.plan import (
    BELOW_MINIMUM,
    PAUSED,
    Occurrence,
    _Book,
    _books,
    _skip_reason,
    local_date,
    occurrence_due,
    occurrences_for,
    schedule_for,
)
from billing_events.schedules import Schedule
from connections.models import Tenant
from connections.selectors import connections_active
from snapshots.models import InvoiceSnapshot


@dataclass(frozen=True)
class NextStep:
    """The next reminder the schedule gives an open invoice, from the sweep's own rules.

    `occurrence` is None when nothing is left to send (end of schedule); `reason` says why
    the occurrence will not go (paused, excluded group, below the minimum) — with
    `paused_until` for a pause that ends. `day` is the local day of that sweep.
    """

    occurrence: Occurrence | None
    day: date | None
    reason: str = ""
    paused_until: date | None = None
    paused_reason: str = ""  # ReminderPause.Reason of the pause that holds it longest
    schedule: Schedule | None = None
    at: datetime | None = None  # when that day's sweep starts, in the organisation's zone


END_OF_SCHEDULE = "End of schedule"
# Far enough ahead that the book holds every open invoice, whatever its due date.
EVERY_DUE_DATE = date(9000, 1, 1)
NO_DUE_DATE = "No due date in Xero"


def _pause_holding(book: _Book, invoice: InvoiceSnapshot, day: date) -> ReminderPause:
    """Of the pauses holding `invoice` on `day`, the one that lets go last (an open-ended one
    before any)."""
    holding = [
        pause
        for pause in book.pauses
        if (pause.invoice_id == invoice.invoice_id or pause.contact_id == invoice.contact_id)
        and (pause.resume_on is None or day < pause.resume_on)
    ]
    return max(holding, key=lambda pause: pause.resume_on or date.max)


def _next_step(book: _Book, invoice: InvoiceSnapshot, *, first_day: date) -> NextStep:
    if invoice.due_date is None:
        return NextStep(None, None, NO_DUE_DATE)
    schedule, _ = schedule_for(book, invoice)
    occurrences = occurrences_for(stages=schedule.stages, due_date=invoice.due_date)
    sent = book.sent.get(invoice.invoice_id, [])
    days = sorted({first_day, *(o.day for o in occurrences if o.day > first_day)})
    held: NextStep | None = None
    while days:
        day = days.pop(0)
        occurrence, held_back = occurrence_due(
            occurrences=occurrences,
            sent=sent,
            today=day,
            skip_missed=book.settings.skip_missed,
            starts_on=book.starts_on,
        )
        if occurrence is None:
            continue
        if held_back:  # a late stage the day after another reminder: the sweep waits a day
            days = sorted({day + timedelta(days=1), *days})
            continue
        reason = _skip_reason(book, invoice, occurrence.stage, day)
        if reason == PAUSED:
            pause = _pause_holding(book, invoice, day)
            return NextStep(occurrence, day, reason, pause.resume_on, pause.reason, schedule)
        if reason == BELOW_MINIMUM:  # a later stage may have no minimum
            held = held or NextStep(occurrence, day, reason, schedule=schedule)
            continue
        return NextStep(occurrence, day, reason, schedule=schedule)
    return held or NextStep(None, None, END_OF_SCHEDULE, schedule=schedule)


def reminder_next_steps(
    *, tenant: Tenant, invoices: list[InvoiceSnapshot], as_of: datetime
) -> dict[str, NextStep]:
    """InvoiceID → the next reminder step of each open invoice among `invoices` (others are
    left out), decided by the sweep's plan, in a fixed number of queries whatever their count.

    A day whose run is done already continues from the next day.
    """
    wanted = {
        (invoice.xero_tenant_id, invoice.invoice_id)
        for invoice in invoices
        if invoice.type == "ACCREC" and invoice.status == "AUTHORISED" and invoice.amount_due > 0
    }
    connections = list(
        connections_active().filter(
            tenant=tenant, xero_tenant_id__in={xero_tenant_id for xero_tenant_id, _ in wanted}
        )
    )
    today = {c.xero_tenant_id: local_date(connection=c, at=as_of) for c in connections}
    done_today = {
        (run.xero_tenant_id, run.local_date)
        for run in SweepRun.objects.filter(
            xero_tenant_id__in=today,
            local_date__in=set(today.values()),
            status=SweepRun.Status.DONE,
        )
    }
    books = _books(
        tenant=tenant,
        connections=connections,
        until=EVERY_DUE_DATE,
        invoice_ids=[invoice_id for _, invoice_id in wanted],
    )
    steps = {}
    for connection in connections:
        day = today[connection.xero_tenant_id]
        first_day = day + timedelta(days=int((connection.xero_tenant_id, day) in done_today))
        book = books[connection.xero_tenant_id]
        zone = ZoneInfo(connection.timezone)
        for invoice in book.invoices:
            step = _next_step(book, invoice, first_day=first_day)
            at = datetime.combine(step.day, book.settings.send_time, zone) if step.day else None
            steps[invoice.invoice_id] = replace(step, at=at)
    return steps
