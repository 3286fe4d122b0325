"""The accounts team's daily digest of invoices whose stage asks to alert the team."""

from datetime import date
from decimal import Decimal

from billing_events.models import (
    ReminderSent,
    SweepRun,
)
from billing_events.reminders.schedule import reminder_defaults_create
from connections.models import Tenant
from connections.selectors import connections_active
from messaging.services import notify
from snapshots.contacts import ContactCard
from snapshots.models import ContactSnapshot, InvoiceSnapshot


def _lines(value: str) -> list[str]:
    return [line.strip() for line in value.splitlines() if line.strip()]


def team_digest_send(*, tenant: Tenant, day: date) -> int:
    """One message per team recipient listing today's overdue reminders of stages that alert
    the team — sent once the last of the tenant's organisations has finished its run."""
    organisations = set(
        connections_active().filter(tenant=tenant).values_list("xero_tenant_id", flat=True)
    )
    finished = set(
        SweepRun.objects.filter(
            tenant=tenant, local_date=day, status=SweepRun.Status.DONE
        ).values_list("xero_tenant_id", flat=True)
    )
    if organisations - finished:
        return 0
    alerts = ReminderSent.objects.filter(tenant=tenant, sent_on=day, alert_team=True)
    invoices = {
        (i.xero_tenant_id, i.invoice_id): i
        for i in InvoiceSnapshot.objects.filter(
            tenant=tenant, invoice_id__in=alerts.values_list("invoice_id", flat=True)
        )
    }
    contacts = {
        (c.xero_tenant_id, c.contact_id): c.name
        for c in ContactSnapshot.objects.filter(
            tenant=tenant, contact_id__in=[i.contact_id for i in invoices.values()]
        )
    }
    overdue = [
        {
            "invoice_number": invoice.number,
            "contact_name": contacts.get((invoice.xero_tenant_id, invoice.contact_id), ""),
            "amount_due": invoice.amount_due,
            "currency": invoice.currency,
            "days_overdue": (day - invoice.due_date).days,
        }
        for invoice in sorted(invoices.values(), key=lambda i: (i.due_date, i.number))
        if invoice.status == "AUTHORISED" and invoice.amount_due > Decimal(0)
    ]
    if not overdue:
        return 0
    settings = reminder_defaults_create(tenant=tenant)
    recipients = [
        (
            "sms",
            ContactCard(
                contact_id="",
                name="Accounts team",
                phones=({"PhoneType": "MOBILE", "PhoneNumber": phone},),
            ),
            phone,
        )
        for phone in _lines(settings.team_phones)
    ] + [
        ("email", ContactCard(contact_id="", name="Accounts team", email=email), email)
        for email in _lines(settings.team_emails)
    ]
    for channel, card, address in recipients:
        notify(
            tenant=tenant,
            kind="team_overdue_alert",
            contact=card,
            context={"organisation_name": tenant.name, "overdue_invoices": overdue},
            dedup_key=f"team:{tenant.pk}:digest:{day.isoformat()}:{address}",
            channels=[channel],
        )
    return len(recipients)
