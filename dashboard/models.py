from django.db import models
from django.utils import timezone

from connections.models import XeroConnection


class XeroInvoiceReminders(models.Model):
    """Whether Xero's own invoice reminder emails are on for an organisation, as last read.

    Read in the background (dashboard.services), never while a page renders: a page view must
    not spend the organisation's Xero call budget or wait on Xero.
    """

    connection = models.OneToOneField(
        XeroConnection, on_delete=models.CASCADE, related_name="invoice_reminders"
    )
    enabled = models.BooleanField(null=True, help_text="Unknown until the first check succeeds.")
    checked_at = models.DateTimeField(null=True, blank=True, help_text="Last successful read.")
    next_check_at = models.DateTimeField(default=timezone.now)
    last_error = models.TextField(blank=True)

    class Meta:
        verbose_name = "Xero invoice reminder setting"
        verbose_name_plural = "Xero invoice reminder settings"

    def __str__(self):
        state = {True: "on", False: "off", None: "unknown"}[self.enabled]
        return f"Xero reminders {state} for {self.connection}"
