"""What the next 30 days will send, by the very code that sends (reminder_plan)."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from billing_events.models import (
    SweepRun,
)
from billing_events.reminders.plan import SEND, Sent, _book, local_date, reminder_plan
from connections.models import Tenant
from connections.selectors import Organisation, connections_active
from messaging.selectors import contact_unreachable_reason
from snapshots.selectors import invoice_tracking


@dataclass(frozen=True)
class PreviewItem:
    day: date
    organisation: Organisation
    invoice_id: str
    invoice_number: str
    contact_name: str
    stage: str
    occurrence: str
    amount_due: Decimal
    currency: str
    sends: bool
    reason: str = ""
    schedule: str = ""  # which schedule the invoice follows (billing_events/schedules.py)


def reminders_preview(
    *, tenant: Tenant, days: int = 30, as_of: datetime, organisation: str = ""
) -> dict[date, list[PreviewItem]]:
    """Per local day, the reminders the schedule would send, and those it would skip and why;
    only those of `organisation` (a Xero tenantId) when given.

    Assumes every open invoice stays unpaid and the sweep runs each day; a day whose run is
    done already shows only what is still to come.
    """
    by_day: dict[date, list[PreviewItem]] = defaultdict(list)
    connections = connections_active().filter(tenant=tenant)
    if organisation:
        connections = connections.filter(xero_tenant_id=organisation)
    for connection in connections:
        today = local_date(connection=connection, at=as_of)
        last = today + timedelta(days=days - 1)
        book = _book(connection=connection, until=last)
        done_today = SweepRun.objects.filter(
            xero_tenant_id=connection.xero_tenant_id, local_date=today, status=SweepRun.Status.DONE
        ).exists()
        for offset in range(int(done_today), days):
            day = today + timedelta(days=offset)
            for item in reminder_plan(book, day=day):
                if item.action == SEND:
                    book.sent.setdefault(item.invoice.invoice_id, []).append(
                        Sent(item.occurrence.key, item.occurrence.day, day)
                    )
                    reason = contact_unreachable_reason(
                        tenant=tenant,
                        kind="reminder",
                        contact=item.contact,
                        reminder_stage=item.occurrence.stage.key,
                        tracking=invoice_tracking(snapshot=item.invoice),
                    )
                elif item.occurrence.day == day:
                    reason = item.reason
                else:
                    continue  # a late stage still held back: said on its own day already
                by_day[day].append(
                    PreviewItem(
                        day=day,
                        organisation=Organisation(connection.xero_tenant_id, connection.name),
                        invoice_id=item.invoice.invoice_id,
                        invoice_number=item.invoice.number,
                        contact_name=item.contact.name,
                        stage=item.occurrence.stage.label,
                        occurrence=item.occurrence.key,
                        amount_due=item.invoice.amount_due,
                        currency=item.invoice.currency,
                        sends=not reason,
                        reason=reason,
                        schedule=item.schedule.label,
                    )
                )
    return dict(sorted(by_day.items()))
