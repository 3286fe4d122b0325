"""The tenant's reminder schedule: the default one, staff edits, and pauses of a contact or an
invoice.
"""

from datetime import date

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.text import slugify

from billing_events.models import (
    ReminderPause,
    ReminderSettings,
    ReminderStage,
)
from connections.models import Tenant
from snapshots.models import ContactSnapshot
from snapshots.selectors import invoice_number_choose, segment_names_fill

# (key, label, offset days, alert the team, repeat every, repeat times)
DEFAULT_STAGES = (
    ("due_soon", "Due soon", -7, False, None, 0),
    ("due_today", "Due today", 0, False, None, 0),
    ("overdue_1", "1 day overdue", 1, False, None, 0),
    ("overdue_7", "7 days overdue", 7, True, None, 0),
    ("overdue_14", "14 days overdue", 14, True, None, 0),
    ("overdue_30", "30 days overdue", 30, True, 14, 2),
)


def stage_key_make(*, stage: ReminderStage, taken: set[str]) -> str:
    """A key nobody types: the day in words ("7_days_overdue"), numbered if already taken.

    It is fixed once made: sent reminders (ReminderSent, dedup keys) and stage-specific
    templates name the step by it, so changing the day later keeps it."""
    base = slugify(stage.day_words).replace("-", "_")[:24]
    key, number = base, 2
    while key in taken:
        key, number = f"{base}_{number}", number + 1
    return key


def reminder_defaults_create(*, tenant: Tenant) -> ReminderSettings:
    """The default schedule, created once per tenant (safe to call again: stages a tenant
    deleted are not brought back)."""
    settings, created = ReminderSettings.objects.get_or_create(tenant=tenant)
    if created:
        ReminderStage.objects.bulk_create(
            [
                ReminderStage(
                    tenant=tenant,
                    key=key,
                    label=label,
                    offset_days=offset,
                    alert_team=alert,
                    repeat_every_days=every,
                    repeat_times=times,
                )
                for key, label, offset, alert, every, times in DEFAULT_STAGES
            ],
            ignore_conflicts=True,
        )
        settings.refresh_from_db()  # the field defaults as typed ("09:00"), read back as values
    return settings


def reminder_pause_create(
    *,
    tenant: Tenant,
    contact_id: str = "",
    invoice_id: str = "",
    xero_tenant_id: str = "",
    resume_on: date | None = None,
    label: str = "",
    reason: str = ReminderPause.Reason.STAFF,
    note: str = "",
    by_user=None,
) -> ReminderPause:
    return ReminderPause.objects.create(
        tenant=tenant,
        contact_id=contact_id,
        invoice_id=invoice_id,
        xero_tenant_id=xero_tenant_id,
        resume_on=resume_on,
        label=label,
        reason=reason,
        note=note,
        created_by=by_user,
    )


def reminder_pause_add(
    *,
    tenant: Tenant,
    invoice_number: str = "",
    contact_name: str = "",
    resume_on=None,
    organisation: str = "",
) -> ReminderPause:
    """Pause one invoice (by number) or one contact (by name) of this tenant, in `organisation`
    (a Xero tenantId) when given. Raises InvoiceNumberAmbiguous when several organisations have
    an invoice of that number and none was given; never pauses one of them silently."""
    if invoice_number:
        invoice = invoice_number_choose(
            tenant=tenant, number=invoice_number, organisation=organisation
        )
        if invoice is None:
            raise ValidationError(f"No sales invoice {invoice_number} in Xero.")
        return reminder_pause_create(
            tenant=tenant,
            invoice_id=invoice.invoice_id,
            xero_tenant_id=invoice.organisation.id,
            resume_on=resume_on,
            label=invoice.number,
        )
    contacts = ContactSnapshot.objects.filter(tenant=tenant, name__iexact=contact_name)
    if organisation:
        contacts = contacts.filter(xero_tenant_id=organisation)
    if len({row.xero_tenant_id for row in contacts}) > 1:
        raise ValidationError(
            f"Several of your organisations have a contact named {contact_name}: "
            "choose the organisation."
        )
    contact = contacts.first()
    if contact is None:
        raise ValidationError(f"No contact named {contact_name} in Xero.")
    return reminder_pause_create(
        tenant=tenant,
        contact_id=contact.contact_id,
        xero_tenant_id=contact.xero_tenant_id,
        resume_on=resume_on,
        label=contact.name,
    )


SCHEDULE_CONFLICT = (
    "Two stages have the same key, or the same number of days in one schedule (the same segment)."
)


class ScheduleConflict(Exception):
    """Two stages would share a key, or a number of days within one schedule."""


def reminder_schedule_replace(
    *, tenant: Tenant, values: dict, stages: list[dict]
) -> ReminderSettings:
    """Replace the settings and the whole list of stages at once (the REST API's PUT).

    Stages are named by their key everywhere they matter (sent reminders, templates), never by
    row id, so the old rows are deleted and the new ones inserted: swapping two stages' days can
    never trip the unique constraints halfway, and a real clash (the constraints decide) saves
    nothing.
    """
    settings = reminder_defaults_create(tenant=tenant)
    for name, value in values.items():
        setattr(settings, name, value)
    settings.full_clean(exclude=["tenant"])
    rows = [ReminderStage(tenant=tenant, **stage) for stage in stages]
    taken = {row.key for row in rows if row.key}
    for row in rows:
        if not row.key:  # left out: made as the builder makes it
            row.key = stage_key_make(stage=row, taken=taken)
            taken.add(row.key)
        segment_names_fill(row, tenant=tenant)
        row.full_clean(exclude=["tenant"], validate_unique=False, validate_constraints=False)
    try:
        with transaction.atomic():
            settings.save()
            ReminderStage.objects.filter(tenant=tenant).delete()
            ReminderStage.objects.bulk_create(rows)
    except IntegrityError:
        raise ScheduleConflict(SCHEDULE_CONFLICT) from None
    return settings


def reminder_pauses_end(*, tenant: Tenant, invoice_id: str) -> int:
    """Resume one invoice's reminders: its own pauses end (a pause of its contact stays)."""
    deleted, _ = ReminderPause.objects.filter(tenant=tenant, invoice_id=invoice_id).delete()
    return deleted
