"""State of the offline Xero, Twilio and SendGrid. Never a real customer's data.

Xero's side: demo organisations with their contacts, invoices, payments and credit notes; the
OAuth grants, codes and tokens issued to Dunwell; the connections (organisations the grant may
reach); the calls made, for the 60-per-minute limit. Twilio's side: accounts, messages, opt-outs
and injected failures. Outgoing webhooks and callbacks wait in `OutboundHook` until delivered.
"""

import uuid
from decimal import Decimal

from django.db import models
from django.utils.timezone import now


class Organisation(models.Model):
    """A Xero organisation ("tenant" in Xero's words; `tenant_id` goes in Xero-tenant-id)."""

    tenant_id = models.UUIDField(unique=True, default=uuid.uuid4)
    organisation_id = models.UUIDField(default=uuid.uuid4)
    name = models.CharField(max_length=200)
    short_code = models.CharField(max_length=10)
    country_code = models.CharField(max_length=2)
    version = models.CharField(max_length=10, help_text="Xero's edition by region: NZ, AU, UK…")
    timezone = models.CharField(max_length=60, help_text="Xero's Windows-style name (FACTS.md).")
    base_currency = models.CharField(max_length=3)
    invoice_reminders_enabled = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class ContactGroup(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="groups")
    group_id = models.UUIDField(unique=True, default=uuid.uuid4)
    name = models.CharField(max_length=100)
    status = models.CharField(max_length=10, default="ACTIVE")

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class TrackingCategory(models.Model):
    """A Xero tracking category (e.g. Region): Status ACTIVE, ARCHIVED or DELETED."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="tracking_categories"
    )
    category_id = models.UUIDField(unique=True, default=uuid.uuid4)
    name = models.CharField(max_length=100)
    status = models.CharField(max_length=10, default="ACTIVE")

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "tracking categories"

    def __str__(self):
        return self.name


class TrackingOption(models.Model):
    """An option of a tracking category (e.g. North), put on invoice line items."""

    category = models.ForeignKey(TrackingCategory, on_delete=models.CASCADE, related_name="options")
    option_id = models.UUIDField(unique=True, default=uuid.uuid4)
    name = models.CharField(max_length=100)
    status = models.CharField(max_length=10, default="ACTIVE")

    class Meta:
        ordering = ["category__name", "name"]

    def __str__(self):
        return f"{self.category.name}: {self.name}"


class Contact(models.Model):
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="contacts"
    )
    contact_id = models.UUIDField(unique=True, default=uuid.uuid4)
    name = models.CharField(max_length=200)
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    email = models.EmailField(blank=True)
    # Xero Phones[] entries as Xero stores them: free text, often partial (FACTS.md).
    phones = models.JSONField(default=list, blank=True)
    # Xero Addresses[] entries (AddressType STREET or POBOX, City, Region, PostalCode, Country
    # as free text).
    addresses = models.JSONField(default=list, blank=True)
    groups = models.ManyToManyField(ContactGroup, blank=True, related_name="contacts")
    unreachable = models.BooleanField(
        default=False, help_text="Texts to this contact's numbers end undelivered (30003)."
    )
    updated_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Invoice(models.Model):
    class Status(models.TextChoices):
        DRAFT = "DRAFT"
        SUBMITTED = "SUBMITTED"
        AUTHORISED = "AUTHORISED"
        PAID = "PAID"
        VOIDED = "VOIDED"
        DELETED = "DELETED"

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="invoices"
    )
    invoice_id = models.UUIDField(unique=True, default=uuid.uuid4)
    invoice_number = models.CharField(max_length=30)
    type = models.CharField(max_length=10, default="ACCREC")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="invoices")
    reference = models.CharField(max_length=100, blank=True)
    description = models.CharField(max_length=200, default="Services")
    date = models.DateField()
    due_date = models.DateField()
    total = models.DecimalField(max_digits=12, decimal_places=2)
    total_tax = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    amount_paid = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    amount_credited = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    fully_paid_on = models.DateField(null=True, blank=True)
    online_token = models.CharField(max_length=40, default="")
    # On its (single) line item: LineItems[].Tracking[] in Xero.
    tracking_options = models.ManyToManyField(TrackingOption, blank=True, related_name="invoices")
    updated_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["organisation", "invoice_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "invoice_number"], name="sandbox_invoice_number_unique"
            )
        ]

    def __str__(self):
        return self.invoice_number

    @property
    def amount_due(self) -> Decimal:
        return self.total - self.amount_paid - self.amount_credited


class Payment(models.Model):
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="payments"
    )
    payment_id = models.UUIDField(unique=True, default=uuid.uuid4)
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="payments")
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    date = models.DateField()
    reference = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=10, default="AUTHORISED")
    updated_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["updated_at"]

    def __str__(self):
        return f"{self.amount} on {self.invoice}"


class CreditNote(models.Model):
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="credit_notes"
    )
    credit_note_id = models.UUIDField(unique=True, default=uuid.uuid4)
    credit_note_number = models.CharField(max_length=30)
    type = models.CharField(max_length=15, default="ACCRECCREDIT")
    status = models.CharField(max_length=10, default="AUTHORISED")
    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="credit_notes")
    invoice = models.ForeignKey(
        Invoice, on_delete=models.CASCADE, null=True, blank=True, related_name="credit_notes"
    )
    total = models.DecimalField(max_digits=12, decimal_places=2)
    date = models.DateField()
    reference = models.CharField(max_length=100, blank=True)
    updated_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["updated_at"]

    def __str__(self):
        return self.credit_note_number


# --- Xero identity ------------------------------------------------------------------------------


class Grant(models.Model):
    """One user's consent (Xero's "auth event"): its tokens reach the connected organisations."""

    auth_event_id = models.UUIDField(unique=True, default=uuid.uuid4)
    client_id = models.CharField(max_length=100)
    scope = models.TextField()
    created_at = models.DateTimeField(default=now)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"Grant {self.auth_event_id}"


class Connection(models.Model):
    """An organisation the app may reach; one per organisation, like Xero's per user and app."""

    connection_id = models.UUIDField(unique=True, default=uuid.uuid4)
    organisation = models.OneToOneField(
        Organisation, on_delete=models.CASCADE, related_name="connection"
    )
    auth_event_id = models.UUIDField()
    created_at = models.DateTimeField(default=now)
    updated_at = models.DateTimeField(default=now)

    def __str__(self):
        return f"Connection to {self.organisation}"


class AuthorizationCode(models.Model):
    code = models.CharField(max_length=64, unique=True)
    grant = models.ForeignKey(Grant, on_delete=models.CASCADE, related_name="codes")
    redirect_uri = models.TextField()
    code_challenge = models.CharField(max_length=128, blank=True)
    created_at = models.DateTimeField(default=now)
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"Code for {self.grant}"


class AccessToken(models.Model):
    token = models.TextField()
    token_hash = models.CharField(max_length=64, unique=True)
    grant = models.ForeignKey(Grant, on_delete=models.CASCADE, related_name="access_tokens")
    expires_at = models.DateTimeField()

    def __str__(self):
        return f"Access token of {self.grant}"


class RefreshToken(models.Model):
    token = models.CharField(max_length=64, unique=True)
    grant = models.ForeignKey(Grant, on_delete=models.CASCADE, related_name="refresh_tokens")
    created_at = models.DateTimeField(default=now)
    # Set when a refresh used this token: it stays usable for Xero's 30-minute grace (FACTS.md).
    replaced_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"Refresh token of {self.grant}"


class ApiCall(models.Model):
    """One accounting API call, counted against the organisation's per-minute and daily limits."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE)
    made_at = models.DateTimeField(default=now, db_index=True)

    def __str__(self):
        return f"{self.organisation} at {self.made_at}"


class Sequence(models.Model):
    """Xero's webhook event sequence numbers (firstEventSequence / lastEventSequence)."""

    name = models.CharField(max_length=30, unique=True)
    value = models.BigIntegerField(default=0)

    def __str__(self):
        return f"{self.name} = {self.value}"


# --- Twilio and SendGrid ------------------------------------------------------------------------


class TwilioAccount(models.Model):
    account_sid = models.CharField(max_length=34, unique=True)
    auth_token = models.CharField(max_length=32)
    api_key_sid = models.CharField(max_length=34, blank=True)
    api_key_secret = models.CharField(max_length=32, blank=True)
    from_number = models.CharField(max_length=20)
    messaging_service_sid = models.CharField(max_length=34, blank=True)
    friendly_name = models.CharField(max_length=100, default="Sandbox account")

    def __str__(self):
        return self.friendly_name


class SmsMessage(models.Model):
    class Direction(models.TextChoices):
        OUTBOUND = "outbound-api"
        OUTBOUND_REPLY = "outbound-reply"
        INBOUND = "inbound"

    account = models.ForeignKey(TwilioAccount, on_delete=models.CASCADE, related_name="messages")
    sid = models.CharField(max_length=34, unique=True)
    direction = models.CharField(max_length=20, choices=Direction.choices)
    to = models.CharField(max_length=40, db_index=True)
    from_number = models.CharField(max_length=40, db_index=True)
    messaging_service_sid = models.CharField(max_length=34, blank=True)
    body = models.TextField(blank=True)
    content_sid = models.CharField(max_length=34, blank=True)
    content_variables = models.TextField(blank=True)
    status = models.CharField(max_length=20)
    error_code = models.PositiveIntegerField(null=True, blank=True)
    status_callback = models.TextField(blank=True)
    validity_period = models.PositiveIntegerField(null=True, blank=True)
    num_segments = models.PositiveIntegerField(default=1)
    date_created = models.DateTimeField(default=now)
    date_sent = models.DateTimeField(null=True, blank=True)
    date_updated = models.DateTimeField(default=now)

    class Meta:
        ordering = ["date_created", "pk"]

    def __str__(self):
        return self.sid


class OptOut(models.Model):
    """A number that texted STOP: Twilio refuses later sends with 21610 (FACTS.md)."""

    account = models.ForeignKey(TwilioAccount, on_delete=models.CASCADE, related_name="opt_outs")
    number = models.CharField(max_length=40)
    created_at = models.DateTimeField(default=now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "number"], name="sandbox_optout_unique")
        ]

    def __str__(self):
        return self.number


class TwilioFault(models.Model):
    """A failure to inject into Messages.json create, for reliability tests and demos."""

    to_number = models.CharField(max_length=40, blank=True, help_text="Blank: every number.")
    http_status = models.PositiveIntegerField(default=429)
    error_code = models.PositiveIntegerField(default=20429)
    message = models.CharField(max_length=200, default="Too Many Requests")
    # Twilio may have created the message although it answered 5xx (FACTS.md, "ambiguous").
    message_created = models.BooleanField(default=False)
    remaining = models.PositiveIntegerField(null=True, blank=True, help_text="Blank: forever.")
    created_at = models.DateTimeField(default=now)

    def __str__(self):
        return f"{self.http_status}/{self.error_code} for {self.to_number or 'every number'}"


class Email(models.Model):
    message_id = models.CharField(max_length=40, unique=True)
    from_email = models.CharField(max_length=200)
    to = models.JSONField(default=list)
    subject = models.CharField(max_length=300, blank=True)
    text = models.TextField(blank=True)
    html = models.TextField(blank=True)
    payload = models.JSONField()
    created_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return self.subject


class OutboundHook(models.Model):
    """A webhook or callback waiting to be POSTed; rows are the truth, the thread is a kick."""

    class Kind(models.TextChoices):
        XERO_EVENTS = "xero_events", "Xero webhook"
        XERO_ITR = "xero_itr", "Xero intent to receive"
        TWILIO_STATUS = "twilio_status", "Twilio status callback"
        TWILIO_INBOUND = "twilio_inbound", "Twilio inbound message"

    class Status(models.TextChoices):
        PENDING = "pending"
        SENDING = "sending"
        SENT = "sent"
        FAILED = "failed"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    url = models.TextField(blank=True, help_text="Blank: only apply the message status.")
    body = models.BinaryField()
    content_type = models.CharField(max_length=60)
    headers = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    max_attempts = models.PositiveIntegerField(default=1)
    next_attempt_at = models.DateTimeField(default=now)
    last_error = models.TextField(blank=True)
    response_status = models.PositiveIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True)
    response_set_cookie = models.BooleanField(default=False)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=now)
    summary = models.CharField(max_length=200, blank=True)
    message = models.ForeignKey(
        SmsMessage, on_delete=models.CASCADE, null=True, blank=True, related_name="hooks"
    )
    message_status = models.CharField(max_length=20, blank=True)
    run_id = models.UUIDField(null=True, blank=True, help_text="Intent-to-receive run.")
    expected_status = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status="pending"),
                name="sandbox_hook_pending",
            )
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.summary}"
