from django.db import models
from django.db.models import Q
from django.utils import timezone


class XeroDelivery(models.Model):
    """One POST from Xero, kept byte for byte for audit and replay."""

    raw_body = models.BinaryField()
    first_event_sequence = models.BigIntegerField(default=0)
    last_event_sequence = models.BigIntegerField(default=0)
    received_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name_plural = "Xero deliveries"

    def __str__(self):
        return f"Delivery {self.pk} ({self.first_event_sequence}–{self.last_event_sequence})"


class XeroEvent(models.Model):
    """The inbox: one row per event in a delivery, stored before Xero is answered."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        PROCESSED = "processed", "Processed"
        IGNORED = "ignored", "Ignored"
        FAILED = "failed", "Failed"

    delivery = models.ForeignKey(XeroDelivery, on_delete=models.CASCADE, related_name="events")
    # Null when no active connection knows the organisation: such events are stored as ignored.
    tenant = models.ForeignKey(
        "connections.Tenant",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="xero_events",
    )
    xero_tenant_id = models.CharField(max_length=64, db_index=True)
    event_category = models.CharField(max_length=32)
    event_type = models.CharField(max_length=32)
    resource_id = models.CharField(max_length=64)
    resource_url = models.URLField(max_length=500, blank=True)
    event_date = models.DateTimeField(null=True, blank=True)
    # Credit note events carry {Type, Status} (xero-webhooks.yaml CreditNoteWebhookEvent).
    event_data = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.TextField(blank=True)
    # Set by the conditional UPDATE that claims a batch, so a worker reads back exactly its rows.
    claim_token = models.UUIDField(null=True, blank=True, editable=False)
    received_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["xero_tenant_id", "next_attempt_at"],
                condition=Q(status="pending"),
                name="xeroevent_pending",
            ),
            models.Index(fields=["claim_token"], name="xeroevent_claim"),
        ]

    def __str__(self):
        return f"{self.event_category} {self.event_type} {self.resource_id}"


class OrganisationSync(models.Model):
    """Per Xero organisation: when it was imported and polled, and how often to poll it.

    Keyed by the Xero tenant id (stable across reconnects), not by the connection row.
    """

    tenant = models.ForeignKey(
        "connections.Tenant", on_delete=models.CASCADE, related_name="organisation_syncs"
    )
    xero_tenant_id = models.CharField(max_length=64, unique=True)
    poll_interval_minutes = models.PositiveIntegerField(
        default=15, help_text="How often Xero is asked for changes a webhook may have missed."
    )
    imported_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Open sales invoices were imported, silently, at this time. "
        "Nothing that happened before it is announced.",
    )
    last_polled_at = models.DateTimeField(
        null=True, blank=True, help_text="Start of the last successful reconciliation poll."
    )
    next_poll_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        verbose_name = "organisation sync"

    def __str__(self):
        return f"Sync of {self.xero_tenant_id}"


class Snapshot(models.Model):
    """What Dunwell last saw of one Xero record; transitions are decided against it."""

    tenant = models.ForeignKey("connections.Tenant", on_delete=models.CASCADE, related_name="+")
    xero_tenant_id = models.CharField(max_length=64)
    updated_date_utc = models.DateTimeField(null=True, blank=True)
    first_seen_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True


class InvoiceSnapshot(Snapshot):
    invoice_id = models.CharField(max_length=64)
    type = models.CharField(max_length=16)
    status = models.CharField(max_length=16)
    number = models.CharField(max_length=255, blank=True)
    reference = models.CharField(max_length=255, blank=True)
    contact_id = models.CharField(max_length=64, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    total = models.DecimalField(max_digits=18, decimal_places=4, default=0)
    amount_due = models.DecimalField(max_digits=18, decimal_places=4, default=0)
    amount_paid = models.DecimalField(max_digits=18, decimal_places=4, default=0)
    due_date = models.DateField(null=True, blank=True)
    # Every PaymentID ever seen, deleted ones included: a payment removed and re-listed later
    # must not be announced again.
    payment_ids = models.JSONField(default=list, blank=True)
    online_invoice_url = models.URLField(max_length=500, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["xero_tenant_id", "invoice_id"], name="invoicesnapshot_unique"
            )
        ]
        indexes = [models.Index(fields=["tenant", "type", "status"], name="invoicesnapshot_open")]

    def __str__(self):
        return f"{self.type} {self.number or self.invoice_id} ({self.status})"


class CreditNoteSnapshot(Snapshot):
    credit_note_id = models.CharField(max_length=64)
    type = models.CharField(max_length=16)
    status = models.CharField(max_length=16)
    number = models.CharField(max_length=255, blank=True)
    reference = models.CharField(max_length=255, blank=True)
    contact_id = models.CharField(max_length=64, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    total = models.DecimalField(max_digits=18, decimal_places=4, default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["xero_tenant_id", "credit_note_id"], name="creditnotesnapshot_unique"
            )
        ]

    def __str__(self):
        return f"{self.type} {self.number or self.credit_note_id} ({self.status})"


class ContactSnapshot(Snapshot):
    contact_id = models.CharField(max_length=64)
    name = models.CharField(max_length=255, blank=True)
    first_name = models.CharField(max_length=255, blank=True)
    email = models.CharField(max_length=255, blank=True)
    # Xero Phones[] entries as received; messaging picks MOBILE, then DEFAULT (FACTS.md).
    phones = models.JSONField(default=list, blank=True)
    group_ids = models.JSONField(default=list, blank=True)
    group_names = models.JSONField(default=list, blank=True)
    archived = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["xero_tenant_id", "contact_id"], name="contactsnapshot_unique"
            )
        ]

    def __str__(self):
        return self.name or self.contact_id
