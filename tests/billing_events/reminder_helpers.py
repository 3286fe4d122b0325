"""Run the reminder machinery the way the schedule does, at a given local time."""

from datetime import datetime
from zoneinfo import ZoneInfo

import time_machine
from django.utils import timezone

from billing_events.models import ReminderSent
from billing_events.reminders import sweeps_due
from billing_events.services import connection_initial_import
from billing_events.tasks import sweep_run_task
from snapshots.models import InvoiceSnapshot


def local(zone: str, when: str) -> datetime:
    return datetime.fromisoformat(when).replace(tzinfo=ZoneInfo(zone))


def import_at(connection, when: str) -> None:
    """Snapshot the stand-in organisation's open invoices, as connecting it would."""
    with time_machine.travel(local(connection.timezone, when), tick=False):
        connection_initial_import(connection=connection)


def sweep_at(connection, when: str) -> None:
    """The once-a-minute schedule at this local time: every due run, to the end."""
    with time_machine.travel(local(connection.timezone, when), tick=False):
        for xero_tenant_id in sweeps_due(at=timezone.now()):
            sweep_run_task(xero_tenant_id)


def reminders_of(number: str) -> list[tuple[str, str]]:
    """(occurrence, local day sent) of one invoice, in order."""
    invoice_id = InvoiceSnapshot.objects.get(number=number).invoice_id
    return [
        (occurrence, sent_on.isoformat())
        for occurrence, sent_on in ReminderSent.objects.filter(invoice_id=invoice_id)
        .order_by("sent_on")
        .values_list("occurrence", "sent_on")
    ]
