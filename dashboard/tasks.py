"""django-q2 kicks; the XeroInvoiceReminders rows say what is due."""

from dashboard import services


def invoice_reminders_check_due_task() -> int:
    return services.invoice_reminders_check_due()
