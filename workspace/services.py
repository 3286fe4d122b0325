"""Writes of the collections workspace: a person pauses, resumes or sends the next reminder of
one invoice. Each goes through billing_events' own services and is recorded with who did it."""

from datetime import date, datetime

from django.db import transaction

from billing_events.reminders import (
    SendNowRefused,
    reminder_pause_create,
    reminder_pauses_end,
    reminder_send_now,
)
from connections.models import Tenant
from connections.selectors import connections_active
from messaging.models import Message
from snapshots.models import InvoiceSnapshot
from workspace.models import InvoiceAction


def _action_record(
    *, invoice: InvoiceSnapshot, kind: str, by_user, note: str = "", pause=None
) -> None:
    InvoiceAction.objects.create(
        tenant=invoice.tenant,
        xero_tenant_id=invoice.xero_tenant_id,
        invoice_id=invoice.invoice_id,
        contact_id=invoice.contact_id,
        kind=kind,
        note=note,
        pause=pause,
        by_user=by_user,
    )


def invoice_pause(*, invoice: InvoiceSnapshot, resume_on: date | None, by_user) -> None:
    until = f"until {resume_on:%-d %b %Y}" if resume_on else "until resumed"
    with transaction.atomic():
        pause = reminder_pause_create(
            tenant=invoice.tenant,
            invoice_id=invoice.invoice_id,
            resume_on=resume_on,
            label=invoice.number,
            note=f"Paused by {by_user.email}",
        )
        _action_record(
            invoice=invoice,
            kind=InvoiceAction.Kind.PAUSED,
            by_user=by_user,
            note=until,
            pause=pause,
        )


def invoice_resume(*, invoice: InvoiceSnapshot, by_user) -> int:
    """End the invoice's own pauses; a pause of the whole contact stays (its page ends it)."""
    with transaction.atomic():
        ended = reminder_pauses_end(tenant=invoice.tenant, invoice_id=invoice.invoice_id)
        if ended:
            _action_record(invoice=invoice, kind=InvoiceAction.Kind.RESUMED, by_user=by_user)
    return ended


def invoice_reminder_send_now(
    *, tenant: Tenant, invoice: InvoiceSnapshot, occurrence_key: str, by_user, as_of: datetime
) -> list[Message]:
    """Send the step staff confirmed now (billing_events.reminders.reminder_send_now decides
    and refuses with SendNowRefused); record who sent it."""
    connection = (
        connections_active().filter(tenant=tenant, xero_tenant_id=invoice.xero_tenant_id).first()
    )
    if connection is None:
        raise SendNowRefused("Reconnect this organisation to Xero first: nothing was sent.")
    step = reminder_send_now(
        connection=connection,
        invoice_id=invoice.invoice_id,
        occurrence_key=occurrence_key,
        as_of=as_of,
    )
    label = step.occurrence.stage.label
    _action_record(invoice=invoice, kind=InvoiceAction.Kind.SENT_NEXT, by_user=by_user, note=label)
    dedup_key = f"invoice:{invoice.invoice_id}:reminder:{step.occurrence.key}"
    return list(Message.objects.filter(tenant=tenant, dedup_key=dedup_key))
