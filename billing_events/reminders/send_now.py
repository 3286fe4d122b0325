"""Send an invoice's next reminder now, at a person's request, on the sweep's own path."""

from datetime import datetime

from billing_events.reminders.next_step import EVERY_DUE_DATE, NextStep, _next_step
from billing_events.reminders.plan import SEND, PlanItem, _book, _card, local_date
from billing_events.reminders.sweep import _recheck, _reminders_send
from connections.xero import XeroClient


class SendNowRefused(Exception):
    """The next reminder cannot go now; the message says why, in words for staff."""


def reminder_send_now(
    *, connection, invoice_id: str, occurrence_key: str, as_of: datetime
) -> NextStep:
    """Send the invoice's next reminder now, on the sweep's path: re-checked against Xero,
    recorded as that stage's occurrence (so the sweep never sends it again) and handed to
    notify() under the sweep's dedup key, which applies opt-outs and quiet hours.

    `occurrence_key` is the step staff confirmed: a second click, or a click on a page shown
    before another reminder went, finds it sent or no longer next and sends nothing.
    Returns the step sent; its messages carry the dedup key `invoice:<id>:reminder:<key>`.
    """
    day = local_date(connection=connection, at=as_of)
    _recheck(connection=connection, client=XeroClient(connection), invoice_ids=[invoice_id])
    book = _book(connection=connection, until=EVERY_DUE_DATE, invoice_ids=[invoice_id])
    if not book.invoices:
        raise SendNowRefused("Xero says this invoice is no longer open: nothing was sent.")
    invoice = book.invoices[0]
    sent = book.sent.get(invoice_id, [])
    if any(s.sent_on >= day for s in sent):
        raise SendNowRefused("A reminder for this invoice already went today.")
    step = _next_step(book, invoice, first_day=day)
    if step.occurrence is None or step.occurrence.key != occurrence_key:
        raise SendNowRefused("That reminder is no longer the next one: nothing was sent.")
    if step.reason:
        raise SendNowRefused(f"{step.reason}: nothing was sent.")
    item = PlanItem(invoice, _card(book, invoice), step.occurrence, SEND, schedule=step.schedule)
    if not _reminders_send(connection=connection, items=[item], day=day):
        raise SendNowRefused("That reminder was sent already.")
    return step
