"""A new tenant set up whole, and background reads for the dashboard: whether Xero's own invoice
reminders are on.

Xero can email its own overdue reminders (GET /InvoiceReminders/Settings, FACTS.md "Xero:
accounting API"); with Dunwell's on as well, customers are chased twice. One call per
organisation a day is plenty for a setting people rarely change.
"""

import logging
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from billing_events.reminders import reminder_defaults_create
from connections.models import Membership, Tenant, XeroConnection
from connections.selectors import connections_active
from connections.services import tenant_create
from connections.xero import XeroClient, XeroError
from dashboard.models import XeroInvoiceReminders
from messaging.services import templates_create_defaults

logger = logging.getLogger(__name__)

CHECK_EVERY = timedelta(hours=24)
RETRY_AFTER_ERROR = timedelta(hours=1)
BATCH = 50


@transaction.atomic
def tenant_open(*, name: str, owner_email: str, **fields) -> tuple[Tenant, Membership]:
    """A new tenant ready to use: the tenant and its owner (connections), the default message
    templates (messaging) and the default reminder schedule (billing_events). What
    `createtenant` and `seed_demo` call; each layer sets up only its own part."""
    tenant, membership = tenant_create(name=name, owner_email=owner_email, **fields)
    templates_create_defaults(tenant=tenant)
    reminder_defaults_create(tenant=tenant)
    return tenant, membership


def invoice_reminders_check(*, connection: XeroConnection) -> XeroInvoiceReminders:
    """Ask Xero, then store the answer (never inside a transaction: see XeroClient)."""
    now = timezone.now()
    try:
        reminders = XeroClient(connection).get_invoice_reminder_settings()
    except XeroError as error:
        logger.warning(
            "invoice reminders check failed connection=%s status=%s", connection.pk, error.status
        )
        row, _ = XeroInvoiceReminders.objects.update_or_create(
            connection=connection,
            defaults={"next_check_at": now + RETRY_AFTER_ERROR, "last_error": str(error)},
        )
        return row
    row, _ = XeroInvoiceReminders.objects.update_or_create(
        connection=connection,
        defaults={
            "enabled": bool(reminders.get("Enabled")),
            "checked_at": now,
            "next_check_at": now + CHECK_EVERY,
            "last_error": "",
        },
    )
    return row


def invoice_reminders_check_due() -> int:
    """Hourly: check organisations never checked (new connections) or due again."""
    now = timezone.now()
    due = connections_active().filter(
        Q(invoice_reminders__isnull=True) | Q(invoice_reminders__next_check_at__lte=now)
    )
    checked = 0
    for connection in due.order_by("pk")[:BATCH]:
        invoice_reminders_check(connection=connection)
        checked += 1
    return checked
