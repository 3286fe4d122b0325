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
    xero_tenant_id = models.CharField(max_length=64, db_index=True)
    event_category = models.CharField(max_length=32)
    event_type = models.CharField(max_length=32)
    resource_id = models.CharField(max_length=64)
    resource_url = models.URLField(max_length=500, blank=True)
    event_date = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.TextField(blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["xero_tenant_id", "next_attempt_at"],
                condition=Q(status="pending"),
                name="xeroevent_pending",
            ),
        ]

    def __str__(self):
        return f"{self.event_category} {self.event_type} {self.resource_id}"
