"""A customer's promise to pay an invoice by a day, recorded by staff from their text.

A promise is a ReminderPause of the invoice (reason PROMISE) whose `resume_on` is the day after
the promised one: the daily sweep already skips paused invoices (reminders/plan.py), so nothing
goes until then, and if the invoice is still unpaid the next day the latest stage due is caught
up once, as after any pause. A paid invoice leaves the sweep altogether. One promise per
invoice: a new one replaces the last.
"""

from datetime import date, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction

from billing_events.models import ReminderPause
from billing_events.reminders import reminder_pause_create
from billing_events.selectors import invoices_promisable
from messaging.models import InboundMessage

# How far ahead a promise may reach: further than this is a payment plan, not a promise.
PROMISE_HORIZON = timedelta(days=90)


def payment_promise_record(
    *,
    inbound: InboundMessage,
    invoice_id: str,
    promised_by: date,
    note: str,
    by_user: AbstractBaseUser,
    today: date,
) -> ReminderPause:
    """Record that the customer who sent `inbound` promised to pay the invoice by `promised_by`:
    its reminders pause until then (`today` is the tenant's local day)."""
    tenant = inbound.tenant
    invoice = next(
        (i for i in invoices_promisable(tenant=tenant, contact_id=inbound.contact_id)
         if i.invoice_id == invoice_id),
        None,
    )  # fmt: skip
    if invoice is None:
        raise ValidationError("Choose one of their unpaid invoices.")
    if promised_by < today:
        raise ValidationError("The promised day has passed; choose today or a later day.")
    if promised_by > today + PROMISE_HORIZON:
        raise ValidationError("A promise reaches 90 days at most; pause the invoice instead.")
    with transaction.atomic():
        ReminderPause.objects.filter(
            tenant=tenant, invoice_id=invoice_id, reason=ReminderPause.Reason.PROMISE
        ).delete()
        pause = reminder_pause_create(
            tenant=tenant,
            invoice_id=invoice_id,
            xero_tenant_id=invoice.xero_tenant_id,
            resume_on=promised_by + timedelta(days=1),
            label=invoice.number,
            reason=ReminderPause.Reason.PROMISE,
            note=note,
            by_user=by_user,
        )
        inbound.invoice_id, inbound.promised_by = invoice_id, promised_by
        inbound.save(update_fields=["invoice_id", "promised_by"])
    return pause
