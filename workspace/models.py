from django.conf import settings
from django.db import models
from django.utils import timezone


class InvoiceAction(models.Model):
    """Something a person did to one invoice from the workspace: who, what, when.

    The pause itself is billing_events' ReminderPause and the reminder a Message; this row is
    the "who did what" the invoice's timeline shows beside them.
    """

    class Kind(models.TextChoices):
        PAUSED = "paused", "Paused reminders"
        RESUMED = "resumed", "Resumed reminders"
        SENT_NEXT = "sent_next", "Sent the next reminder now"

    tenant = models.ForeignKey("connections.Tenant", on_delete=models.CASCADE, related_name="+")
    xero_tenant_id = models.CharField(max_length=64)
    invoice_id = models.CharField("Xero InvoiceID", max_length=64)
    contact_id = models.CharField("Xero ContactID", max_length=64, blank=True)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    note = models.CharField(max_length=300, blank=True)
    # The pause this action made, while it lasts: the timeline tells it once, as this action.
    pause = models.ForeignKey(
        "billing_events.ReminderPause",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["tenant", "invoice_id"], name="invoiceaction_invoice"),
            models.Index(fields=["tenant", "contact_id"], name="invoiceaction_contact"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} on {self.invoice_id}"
