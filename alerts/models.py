from typing import NamedTuple

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from connections.models import Tenant


class Fix(NamedTuple):
    """Where a person puts an alert right, what the link says, and whether only owners may."""

    path: str
    label: str
    owner_only: bool


class Alert(models.Model):
    """One incident that needs a person: opened once, kept fresh while it lasts, then resolved.

    `alerts.services.alerts_check` raises an alert by inserting it and lets the partial unique
    constraint turn a repeat into nothing, so an incident is one row (and one email) however
    often, and however concurrently, the check runs.
    """

    class Kind(models.TextChoices):
        RECONNECT = "reconnect", "Xero needs reconnecting"
        WEBHOOKS_SILENT = "webhooks_silent", "Xero webhooks stopped arriving"
        FAILURE_RATE = "failure_rate", "Many messages failing"
        TWILIO_SENDER = "twilio_sender", "Twilio refuses a sender"
        TWILIO_AUTH = "twilio_auth", "Twilio refuses the credentials"
        API_BUDGET = "api_budget", "Xero API calls nearly used up"

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="alerts")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    subject = models.CharField(
        max_length=100,
        blank=True,
        help_text="What the alert is about within its kind (a Xero tenantId, a Twilio sender); "
        "blank when a tenant can have only one.",
    )
    title = models.CharField(max_length=200)
    detail = models.TextField(help_text="What happened and what to do, as the owners read it.")
    opened_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    notified_at = models.DateTimeField(
        null=True, blank=True, help_text="When the owners were emailed that it opened."
    )
    resolution_notified_at = models.DateTimeField(
        null=True, blank=True, help_text="When the owners were emailed that it was resolved."
    )
    texted_at = models.DateTimeField(
        null=True, blank=True, help_text="When it was texted to the tenant's alert phone."
    )

    class Meta:
        ordering = ["-opened_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "kind", "subject"],
                condition=Q(resolved_at__isnull=True),
                name="alert_one_open_per_subject",
            )
        ]
        indexes = [models.Index(fields=["resolved_at"], name="alert_resolved")]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.title}"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None

    @property
    def fix(self) -> Fix | None:
        url_name, label, owner_only = _FIXES.get(self.kind, ("", "", False))
        return Fix(reverse(url_name), label, owner_only) if url_name else None


# The page where each kind of alert is put right. Webhooks and the Xero call budget are the
# operator's (one Xero app per install), so their detail says whom to ask instead.
_FIXES = {
    Alert.Kind.RECONNECT: ("xero-connections", "Reconnect Xero", True),
    Alert.Kind.FAILURE_RATE: ("messaging:message-list", "See the send log", False),
    Alert.Kind.TWILIO_SENDER: ("messaging:settings", "Check the Twilio settings", True),
    Alert.Kind.TWILIO_AUTH: ("messaging:settings", "Enter the Twilio credentials", True),
}


class AlertSettings(models.Model):
    """A tenant's alert thresholds; a tenant without a row has the defaults."""

    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, related_name="alert_settings")
    webhook_silence_hours = models.PositiveIntegerField(
        "Webhook silence (hours)",
        default=6,
        validators=[MinValueValidator(1), MaxValueValidator(72)],
        help_text="Alert when no Xero webhook has arrived for this long although Dunwell's poll "
        "keeps finding changes. Xero turns a webhook off after 24 hours of failed deliveries.",
    )
    failure_percent = models.PositiveIntegerField(
        "Failed messages (%)",
        default=20,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text="Alert when at least this share of the last hour's messages failed or were "
        "undelivered…",
    )
    failure_minimum = models.PositiveIntegerField(
        "…and at least this many",
        default=5,
        validators=[MinValueValidator(1)],
        help_text="so that two failures out of three do not wake anyone.",
    )
    sender_error_count = models.PositiveIntegerField(
        "Sender refusals in an hour",
        default=3,
        validators=[MinValueValidator(1)],
        help_text="Alert when Twilio refuses or filters a sender (errors 21606, 30007, 30032, "
        "30034) this many times within an hour.",
    )
    api_budget_percent = models.PositiveIntegerField(
        "Xero API calls used (%)",
        default=80,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text="Alert when an organisation has used this share of its daily Xero API calls.",
    )
    sms_phone = models.CharField(
        "Also text alerts to",
        max_length=32,
        blank=True,
        help_text="Optional mobile number. Sent through your Twilio account, outside quiet hours.",
    )
    weekly_summary = models.BooleanField(
        "Email the owners a weekly summary",
        default=True,
        help_text="Every Monday morning: last week's messages, delivery rate, invoices paid "
        "after a reminder and contacts still missing a phone number.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "alert settings"

    def __str__(self):
        return f"Alert settings of {self.tenant}"


class WeeklySummary(models.Model):
    """The weekly summary of one tenant's week: the row that stops a second one."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="weekly_summaries")
    week_start = models.DateField(
        help_text="The Monday the summarised week began, in the tenant's time zone."
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-week_start"]
        verbose_name_plural = "weekly summaries"
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "week_start"], name="weeklysummary_one_per_week"
            )
        ]

    def __str__(self):
        return f"Weekly summary of {self.tenant} for the week of {self.week_start}"
