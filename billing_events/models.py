from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from snapshots.segments import SegmentFields


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
    # Indexed by the composite indexes below, which lead with it; one of its own (two on
    # PostgreSQL, with the LIKE index) only cost the webhook's inserts.
    xero_tenant_id = models.CharField(max_length=64)
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
            # Only claimed rows: an event is stored unclaimed, and the claim is cleared after.
            models.Index(
                fields=["claim_token"],
                condition=Q(claim_token__isnull=False),
                name="xeroevent_claimed",
            ),
            # The newest webhook per organisation (alerts: has Xero gone quiet?).
            models.Index(fields=["xero_tenant_id", "received_at"], name="xeroevent_received"),
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
    newest_change_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="The newest UpdatedDateUTC among the records polls have found: a change in "
        "Xero that a working webhook would have announced.",
    )
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    # Tracking categories and contact groups cost a GET each: fetched by the poll every few hours,
    # or sooner when a record names one Dunwell has not seen (snapshots/segment_sync.py).
    segments_synced_at = models.DateTimeField(
        null=True, blank=True, help_text="Tracking categories and contact groups last fetched."
    )
    segments_refresh_due_at = models.DateTimeField(
        null=True, blank=True, help_text="Fetch them again at the first poll after this."
    )

    class Meta:
        verbose_name = "organisation sync"

    def __str__(self):
        return f"Sync of {self.xero_tenant_id}"


# --- reminders ------------------------------------------------------------------------------


class ReminderSettings(models.Model):
    """A tenant's reminder preferences; its stages are ReminderStage rows."""

    tenant = models.OneToOneField(
        "connections.Tenant", on_delete=models.CASCADE, related_name="reminder_settings"
    )
    send_time = models.TimeField(
        default="09:00",
        help_text="The daily reminder run starts at this time in each organisation's time zone.",
    )
    skip_missed = models.BooleanField(
        "Skip missed reminders",
        default=False,
        help_text="If Dunwell could not run on a reminder's day, drop it instead of sending the "
        "latest missed one (once) on the next run.",
    )
    reply_pause_days = models.PositiveIntegerField(
        default=3,
        help_text="A customer who texts back gets no reminders for this many days, so a person "
        "can answer first.",
    )
    excluded_group_ids = models.JSONField(
        "Excluded Xero contact groups",
        default=list,
        blank=True,
        help_text="ContactGroupIDs whose contacts never get reminders.",
    )
    team_phones = models.TextField(
        "Accounts team mobiles", blank=True, help_text="One per line: the daily overdue digest."
    )
    team_emails = models.TextField(
        "Accounts team emails", blank=True, help_text="One per line: the daily overdue digest."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "reminder settings"

    def __str__(self):
        return f"Reminder settings of {self.tenant}"


class ReminderStage(SegmentFields):
    """One step of a reminder schedule, `offset_days` from the invoice's due date.

    Stages without a segment are the default schedule; the stages of one segment are that
    segment's schedule, which replaces the default one for its invoices (billing_events/
    reminders.py). The key is unique across all schedules: it names the stage in dedup keys and
    picks the templates written for the stage; Dunwell makes it when the step is added and
    never shows it on the pages (billing_events/reminders/builder.py).
    """

    tenant = models.ForeignKey(
        "connections.Tenant", on_delete=models.CASCADE, related_name="reminder_stages"
    )
    key = models.SlugField(
        max_length=30,
        help_text="Names the stage in dedup keys and picks a reminder template with this stage.",
    )
    label = models.CharField(max_length=100)
    offset_days = models.IntegerField(help_text="Days after the due date; negative is before.")
    minimum_amount_due = models.DecimalField(
        max_digits=18,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Skip invoices with less than this still due.",
    )
    repeat_every_days = models.PositiveIntegerField(
        null=True, blank=True, help_text="Then again every this many days…"
    )
    repeat_times = models.PositiveIntegerField(default=0, help_text="…at most this many times.")
    alert_team = models.BooleanField(
        default=False, help_text="List the invoice in the accounts team's daily digest."
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["contact_group_name", "tracking_label", "country", "region", "offset_days"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "key"], name="reminderstage_unique_key"),
            models.UniqueConstraint(
                "tenant",
                "contact_group_id",
                "tracking_option_id",
                "country",
                Lower("region"),
                "offset_days",
                name="reminderstage_unique_offset",
            ),
        ]

    def clean(self):
        errors = self.segment_errors()
        if errors:
            raise ValidationError(errors)

    def __str__(self):
        return f"{self.label} ({self.offset_days:+d} days)"

    @property
    def phase(self) -> str:
        """ "before", "due" or "after": where the step sits on the schedule's timeline."""
        if self.offset_days < 0:
            return "before"
        return "due" if self.offset_days == 0 else "after"

    @property
    def day_words(self) -> str:
        """The step's day as staff say it: "3 days before due", "on the due date"."""
        days = abs(self.offset_days)
        count = f"{days} day{'' if days == 1 else 's'}"
        if self.offset_days < 0:
            return f"{count} before due"
        return f"{count} overdue" if self.offset_days else "on the due date"


class ReminderPause(models.Model):
    """Staff (or a customer's reply) holding back reminders for one contact or one invoice."""

    class Reason(models.TextChoices):
        STAFF = "staff", "Paused by staff"
        REPLY = "reply", "The customer replied"
        # One invoice, until the day the customer promised to pay by: `resume_on` is the day
        # after it, so reminders start again only if the promise was not kept.
        PROMISE = "promise", "Promised to pay"

    tenant = models.ForeignKey(
        "connections.Tenant", on_delete=models.CASCADE, related_name="reminder_pauses"
    )
    contact_id = models.CharField("Xero ContactID", max_length=64, blank=True)
    invoice_id = models.CharField("Xero InvoiceID", max_length=64, blank=True)
    # The organisation (Xero tenantId) of that contact or invoice, for the pauses list.
    xero_tenant_id = models.CharField("Xero tenantId", max_length=64, blank=True)
    label = models.CharField(max_length=255, blank=True, help_text="Contact name or invoice no.")
    resume_on = models.DateField(
        null=True, blank=True, help_text="Reminders start again on this day. Blank: indefinitely."
    )
    reason = models.CharField(max_length=10, choices=Reason.choices, default=Reason.STAFF)
    note = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(contact_id="") & ~Q(invoice_id=""))
                | (~Q(contact_id="") & Q(invoice_id="")),
                name="reminderpause_contact_xor_invoice",
            ),
            models.CheckConstraint(
                condition=~Q(reason="promise") | (~Q(invoice_id="") & Q(resume_on__isnull=False)),
                name="reminderpause_promise_has_invoice_and_day",
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "contact_id"], name="reminderpause_contact"),
            models.Index(fields=["tenant", "invoice_id"], name="reminderpause_invoice"),
        ]

    def __str__(self):
        until = f"until {self.resume_on}" if self.resume_on else "indefinitely"
        return f"Pause of {self.label or self.contact_id or self.invoice_id} {until}"

    @property
    def promised_by(self) -> date | None:
        """The day the customer promised to pay by (a promise only)."""
        if self.reason != self.Reason.PROMISE:
            return None
        return self.resume_on - timedelta(days=1)


class ReminderSent(models.Model):
    """One reminder occurrence handed to messaging: the record that stops a second one."""

    tenant = models.ForeignKey("connections.Tenant", on_delete=models.CASCADE, related_name="+")
    xero_tenant_id = models.CharField(max_length=64)
    invoice_id = models.CharField(max_length=64)
    # The stage key, with ":repeat:<n>" for a repeat — the tail of the message dedup key.
    occurrence = models.CharField(max_length=60)
    stage_key = models.CharField(max_length=30)
    scheduled_on = models.DateField(help_text="The local day the schedule named.")
    sent_on = models.DateField(help_text="The local day it was handed to messaging.")
    alert_team = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["xero_tenant_id", "invoice_id", "occurrence"],
                name="remindersent_unique_occurrence",
            )
        ]
        indexes = [models.Index(fields=["tenant", "sent_on"], name="remindersent_day")]

    def __str__(self):
        return f"Reminder {self.occurrence} for {self.invoice_id} on {self.sent_on}"


class SweepRun(models.Model):
    """The daily reminder run of one organisation: one row per local day, so never twice."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        PARTIAL = "partial", "More to do"
        DONE = "done", "Done"
        FAILED = "failed", "Failed, will retry"

    tenant = models.ForeignKey(
        "connections.Tenant", on_delete=models.CASCADE, related_name="sweep_runs"
    )
    xero_tenant_id = models.CharField(max_length=64)
    local_date = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    attempts = models.PositiveIntegerField(default=1)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.TextField(blank=True)
    reminders_sent = models.PositiveIntegerField(default=0)
    # Invoices Xero did not return on the re-check: not retried within this run.
    unconfirmed_invoice_ids = models.JSONField(default=list, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-local_date"]
        constraints = [
            models.UniqueConstraint(
                fields=["xero_tenant_id", "local_date"], name="sweeprun_unique_day"
            )
        ]

    def __str__(self):
        return f"Sweep of {self.xero_tenant_id} on {self.local_date} ({self.status})"
