import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.timezone import now

from connections.fields import EncryptedTextField


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not a known time zone (e.g. Pacific/Auckland).")


def validate_country(value: str) -> None:
    if len(value) != 2 or not value.isalpha() or not value.isupper():
        raise ValidationError(f"{value!r} is not a two-letter country code (e.g. NZ, AU, GB, US).")


class Tenant(models.Model):
    """A Dunwell customer: one accounts team, possibly served by several Xero organisations."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=60, unique=True)
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    default_country = models.CharField(
        max_length=2,
        default="NZ",
        validators=[validate_country],
        help_text="Used to read phone numbers that have no country code.",
    )
    quiet_hours_start = models.TimeField(
        default="21:00", help_text="No message reaches a person after this local time…"
    )
    quiet_hours_end = models.TimeField(default="08:00", help_text="…until this local time.")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=now, editable=False)
    # Set when an owner saves the settings page; the home checklist asks for it once.
    settings_reviewed_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Set by the onboarding wizard (dashboard/onboarding.py): "Looks good" on the default
    # templates and reminder schedule, and the test message: when Twilio accepted it, its SID
    # and last status (with the error code of a failure), and when it was delivered.
    templates_reviewed_at = models.DateTimeField(null=True, blank=True, editable=False)
    test_message_sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    test_message_sid = models.CharField(max_length=34, blank=True, editable=False)
    test_message_status = models.CharField(max_length=20, blank=True, editable=False)
    test_message_error = models.CharField(max_length=20, blank=True, editable=False)
    test_message_delivered_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Membership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        STAFF = "staff", "Staff"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.STAFF)
    mobile = models.CharField(
        "Your mobile",
        max_length=20,
        blank=True,
        help_text="E.164. Where “send me this step as a test” goes.",
    )
    created_at = models.DateTimeField(default=now, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "tenant"], name="membership_unique_user_tenant")
        ]

    def __str__(self):
        return f"{self.user} in {self.tenant} ({self.role})"

    @property
    def is_owner(self) -> bool:
        return self.role == self.Role.OWNER


def every_channel() -> list[str]:
    # messaging.models.SENDING_CHANNELS, spelled out: connections never imports messaging.
    return ["sms", "whatsapp", "email"]


class MessagingSettings(models.Model):
    """A tenant's own Twilio and SendGrid accounts, and how customers are reached by default.
    Secrets are encrypted at rest."""

    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, related_name="messaging")
    twilio_account_sid = models.CharField("Twilio Account SID", max_length=64, blank=True)
    twilio_auth_token = EncryptedTextField("Twilio Auth Token", blank=True)
    twilio_api_key_sid = models.CharField(
        "Twilio API key SID",
        max_length=64,
        blank=True,
        help_text="Optional, instead of the Auth Token.",
    )
    twilio_api_key_secret = EncryptedTextField("Twilio API key secret", blank=True)
    twilio_messaging_service_sid = models.CharField(
        "Messaging Service SID", max_length=64, blank=True
    )
    twilio_from_number = models.CharField("From number", max_length=32, blank=True)
    whatsapp_from = models.CharField("WhatsApp sender", max_length=40, blank=True)
    sendgrid_api_key = EncryptedTextField("SendGrid API key", blank=True)
    sendgrid_from_email = models.EmailField("SendGrid From email", blank=True)
    validity_period_seconds = models.PositiveIntegerField(
        default=4 * 3600,
        help_text="Twilio drops a message it could not deliver within this time (1–36,000 s).",
    )
    # A contact without channels or a language of their own (messaging.ContactPreference) gets
    # these; a channel is used only when it also has an active template.
    default_channels = models.JSONField(default=every_channel, blank=True)
    default_language = models.CharField(
        max_length=2, blank=True, help_text="Blank: the templates without a language."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "messaging settings"

    def __str__(self):
        return f"Messaging settings of {self.tenant}"


class XeroGrant(models.Model):
    """One user's OAuth consent: a token pair that may reach several organisations.

    Xero rotates the refresh token on every refresh (FACTS.md "Xero: OAuth 2.0"), so the pair is
    only ever replaced by `connections.services.grant_refresh`, under a row lock.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        NEEDS_RECONNECT = "needs_reconnect", "Needs reconnecting"

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="xero_grants")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    access_token = EncryptedTextField()
    refresh_token = EncryptedTextField()
    expires_at = models.DateTimeField(help_text="When the access token stops working.")
    scopes = models.TextField(blank=True)
    auth_event_id = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    last_refreshed_at = models.DateTimeField(
        default=now, help_text="When Xero last issued this refresh token."
    )
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=now, editable=False)

    def __str__(self):
        return f"Xero grant {self.pk} of {self.tenant}"


class XeroConnection(models.Model):
    """One Xero organisation attached to one tenant, reached through one grant."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        NEEDS_RECONNECT = "needs_reconnect", "Needs reconnecting"
        DISCONNECTED = "disconnected", "Disconnected"

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="xero_connections")
    grant = models.ForeignKey(XeroGrant, on_delete=models.PROTECT, related_name="connections")
    xero_tenant_id = models.CharField("Xero tenantId", max_length=64)
    connection_id = models.CharField("Xero connection id", max_length=64)
    name = models.CharField(max_length=200)
    country_code = models.CharField(max_length=2, blank=True)
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    currency = models.CharField(max_length=3, blank=True)
    # What customers read (texts, replies, the /pay/ page, the email From name); the tenant's
    # own name is for staff only. Blank: the organisation's name in Xero.
    customer_name = models.CharField(
        "Name customers see",
        max_length=200,
        blank=True,
        help_text="Blank: the organisation's name in Xero.",
    )
    reply_signature = models.CharField(
        max_length=200,
        blank=True,
        help_text="Ends automatic replies, e.g. “Wattle Catering accounts, 02 9000 0000”. "
        "Blank: the name customers see.",
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    min_limit_remaining = models.PositiveIntegerField(null=True, blank=True)
    day_limit_remaining = models.PositiveIntegerField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    connected_at = models.DateTimeField(default=now)
    disconnected_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            # An organisation belongs to one tenant at a time. Disconnected rows stay as history,
            # so the uniqueness covers the live ones only.
            models.UniqueConstraint(
                fields=["xero_tenant_id"],
                condition=~models.Q(status="disconnected"),
                name="xeroconnection_unique_live_xero_tenant",
            )
        ]

    def __str__(self):
        return self.name

    @property
    def name_for_customers(self) -> str:
        return self.customer_name or self.name

    @property
    def signature_for_customers(self) -> str:
        return self.reply_signature or self.name_for_customers


class XeroRateBudget(models.Model):
    """The row each organisation's callers lock to take from its shared call budget."""

    xero_tenant_id = models.CharField(max_length=64, unique=True)
    # After a 429 every worker holds off until Xero's Retry-After has passed.
    blocked_until = models.DateTimeField(null=True, blank=True)
    blocked_reason = models.CharField(max_length=20, blank=True)

    def __str__(self):
        return f"Call budget of {self.xero_tenant_id}"


class XeroCall(models.Model):
    """One call made (or in flight) to an organisation: the sliding log behind the rate limits."""

    xero_tenant_id = models.CharField(max_length=64)
    started_at = models.DateTimeField(default=now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["xero_tenant_id", "started_at"], name="xerocall_window")]

    def __str__(self):
        return f"Call to {self.xero_tenant_id} at {self.started_at:%Y-%m-%d %H:%M:%S}"


class Invitation(models.Model):
    """An owner's invitation for someone to join the tenant as staff, by a single-use link.

    Only a SHA-256 of the link's token is stored, so the database never holds a usable link; the
    owner sees the link once, when it is made. Accepting claims the row with a conditional UPDATE.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=now, editable=False)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="accepted_invitations",
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # One open invitation per address: inviting again replaces the old link.
            models.UniqueConstraint(
                fields=["tenant", "email"],
                condition=models.Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="invitation_one_open_per_email",
            )
        ]

    def __str__(self):
        return f"Invitation of {self.email} to {self.tenant}"

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= now()

    @property
    def is_open(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None and not self.is_expired
