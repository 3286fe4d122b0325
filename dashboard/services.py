"""Background reads for the dashboard: whether Xero's own invoice reminders are on.

Xero can email its own overdue reminders (GET /InvoiceReminders/Settings, FACTS.md "Xero:
accounting API"); with Dunwell's on as well, customers are chased twice. One call per
organisation a day is plenty for a setting people rarely change.
"""

import logging
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from connections.models import XeroConnection
from connections.selectors import connections_active
from connections.xero import XeroClient, XeroError
from dashboard.models import XeroInvoiceReminders

logger = logging.getLogger(__name__)

CHECK_EVERY = timedelta(hours=24)
RETRY_AFTER_ERROR = timedelta(hours=1)
BATCH = 50


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
