from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone

from billing_events.models import ReminderPause, ReminderSent, ReminderStage, XeroEvent
from billing_events.schedules import Schedule, schedule_choose, schedules_of
from connections.models import Tenant
from messaging.selectors import user_label
from snapshots.models import InvoiceSnapshot
from snapshots.selectors import (
    InvoiceSample,
    invoice_number_choose,
    invoice_preview_sample,
    segments_gone,
)


def events_oldest_pending_age() -> timedelta | None:
    oldest = (
        XeroEvent.objects.filter(status=XeroEvent.Status.PENDING)
        .order_by("received_at")
        .values_list("received_at", flat=True)
        .first()
    )
    return timezone.now() - oldest if oldest else None


@dataclass(frozen=True)
class InvoiceSegments:
    """What decides an invoice's templates and reminder schedule, for the editor's "why"."""

    sample: InvoiceSample
    schedule: Schedule
    schedule_reason: str


def invoice_segments(
    *, tenant: Tenant, number: str, today: date, organisation: str = ""
) -> InvoiceSegments | None:
    """The tenant's sales invoice with this number (any case; in `organisation` when given): its
    contact and tracking options, and the reminder schedule it follows and why; None if there is
    no such invoice. Raises InvoiceNumberAmbiguous when several organisations have one."""
    found = invoice_number_choose(tenant=tenant, number=number, organisation=organisation)
    if found is None:
        return None
    sample = invoice_preview_sample(tenant=tenant, today=today, invoice_id=found.invoice_id)
    schedules, gone = reminder_schedules(tenant=tenant)
    schedule, reason = schedule_choose(
        schedules=schedules, contact=sample.contact, tracking=sample.tracking, gone=gone
    )
    return InvoiceSegments(sample=sample, schedule=schedule, schedule_reason=reason)


def reminder_pauses(*, tenant: Tenant, organisation: str = "") -> QuerySet[ReminderPause]:
    """The tenant's pauses, newest first; those of `organisation` (a Xero tenantId) when given."""
    pauses = ReminderPause.objects.filter(tenant=tenant)
    return pauses.filter(xero_tenant_id=organisation) if organisation else pauses


def reminder_schedules(*, tenant: Tenant) -> tuple[list[Schedule], dict]:
    """The tenant's schedules of active stages, and the xero_refs among their segments that
    were archived or deleted in Xero (those schedules match nothing; segments_gone)."""
    schedules = schedules_of(ReminderStage.objects.filter(tenant=tenant, is_active=True))
    return schedules, segments_gone(tenant=tenant, refs={s.segment.xero_ref for s in schedules})


# --- for the weekly summary -------------------------------------------------------------------


@dataclass(frozen=True)
class PaidAfterReminder:
    invoice_number: str
    reminded_at: datetime
    paid_at: datetime


def invoices_paid_after_reminder(
    *, tenant: Tenant, paid_from: datetime, paid_until: datetime
) -> list[PaidAfterReminder]:
    """Sales invoices paid in [paid_from, paid_until) after a reminder, with the last reminder
    sent before the payment, in one query.

    Paid at: the UpdatedDateUTC of the snapshot that says PAID — Xero's time for the change that
    paid it (snapshots keep no payment times).
    """
    last_reminder = ReminderSent.objects.filter(
        tenant=tenant,
        xero_tenant_id=OuterRef("xero_tenant_id"),
        invoice_id=OuterRef("invoice_id"),
        created_at__lte=OuterRef("updated_date_utc"),
    ).order_by("-created_at")
    paid = (
        InvoiceSnapshot.objects.filter(
            tenant=tenant,
            type="ACCREC",
            status="PAID",
            updated_date_utc__gte=paid_from,
            updated_date_utc__lt=paid_until,
        )
        .annotate(reminded_at=Subquery(last_reminder.values("created_at")[:1]))
        .filter(reminded_at__isnull=False)
        .order_by("updated_date_utc", "number")
    )
    return [
        PaidAfterReminder(invoice_number=number, reminded_at=reminded_at, paid_at=paid_at)
        for number, reminded_at, paid_at in paid.values_list(
            "number", "reminded_at", "updated_date_utc"
        )
    ]


# --- promises to pay (billing_events/promises.py records them) -------------------------------


@dataclass(frozen=True)
class Promise:
    invoice_id: str
    invoice_number: str
    promised_by: date
    resumes_on: date  # the day after: reminders start again if it is still unpaid
    note: str
    recorded_at: datetime
    recorded_by: str  # the staff member's name, "" when not known


def _promise(pause: ReminderPause) -> Promise:
    return Promise(
        invoice_id=pause.invoice_id,
        invoice_number=pause.label,
        promised_by=pause.promised_by,
        resumes_on=pause.resume_on,
        note=pause.note,
        recorded_at=pause.created_at,
        recorded_by=user_label(pause.created_by),
    )


def promises_for_invoices(
    *, tenant: Tenant, invoice_ids, on: date | None = None
) -> dict[str, Promise]:
    """Each invoice's promise to pay (InvoiceID → Promise), in one query. With `on` (a local
    day), only promises still holding its reminders that day."""
    pauses = ReminderPause.objects.filter(
        tenant=tenant, reason=ReminderPause.Reason.PROMISE, invoice_id__in=list(invoice_ids)
    )
    if on is not None:
        pauses = pauses.filter(resume_on__gt=on)
    return {
        pause.invoice_id: _promise(pause)
        for pause in pauses.select_related("created_by").order_by("created_at", "pk")
    }


def promise_for_invoice(*, tenant: Tenant, invoice_id: str, on: date | None = None):
    """The invoice's promise to pay, or None (see promises_for_invoices)."""
    return promises_for_invoices(tenant=tenant, invoice_ids=[invoice_id], on=on).get(invoice_id)


def invoices_promisable(*, tenant: Tenant, contact_id: str) -> list[InvoiceSnapshot]:
    """The contact's open sales invoices, oldest due first: what a promise may be about."""
    if not contact_id:
        return []
    return list(
        InvoiceSnapshot.objects.filter(
            tenant=tenant,
            contact_id=contact_id,
            type="ACCREC",
            status="AUTHORISED",
            amount_due__gt=0,
        ).order_by("due_date", "number", "pk")
    )
