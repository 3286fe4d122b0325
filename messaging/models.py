import re
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from connections.models import Tenant
from messaging import rendering
from messaging.languages import language_name, language_validate
from snapshots.segments import SegmentFields


class Kind(models.TextChoices):
    INVOICE_ISSUED = "invoice_issued", "Invoice issued"
    PAYMENT_RECEIVED = "payment_received", "Payment received"
    CREDIT_NOTE_ISSUED = "credit_note_issued", "Credit note issued"
    REMINDER = "reminder", "Reminder"
    TEAM_OVERDUE_ALERT = "team_overdue_alert", "Overdue alert to the team"
    REPLY_PAYMENT_LINK = "reply_payment_link", "Reply with payment link"
    # Answers to a customer's text, sent back as TwiML.
    REPLY_PAID_THANKS = "reply_paid_thanks", "Reply: invoice already paid"
    REPLY_NOT_FOUND = "reply_not_found", "Reply: invoice not found"
    REPLY_HELP = "reply_help", "Reply to HELP"
    # A person's answer to a customer's text, written in the inbox (no template).
    REPLY_STAFF = "reply_staff", "Reply from staff"


class Channel(models.TextChoices):
    SMS = "sms", "SMS"
    WHATSAPP = "whatsapp", "WhatsApp"
    EMAIL = "email", "Email"
    # A notification for which no template is active is logged once on this pseudo-channel, so
    # the send log says "nothing sent, and why" instead of staying silent.
    NONE = "none", "No channel"


SENDING_CHANNELS = (Channel.SMS, Channel.WHATSAPP, Channel.EMAIL)
PHONE_CHANNELS = (Channel.SMS, Channel.WHATSAPP)
# Answers to a customer's text, sent back in the webhook's TwiML: no API call, no status report.
TWIML_REPLY_KINDS = (
    Kind.REPLY_PAYMENT_LINK,
    Kind.REPLY_PAID_THANKS,
    Kind.REPLY_NOT_FOUND,
    Kind.REPLY_HELP,
)


def channel_labels(channels) -> list[str]:
    """ "SMS", "WhatsApp", "Email" for those of `channels`, always in that order."""
    return [channel.label for channel in SENDING_CHANNELS if channel in channels]


_CONTENT_SID = re.compile(r"HX[0-9a-fA-F]{32}")


class MessageTemplate(SegmentFields):
    """What to say for one kind of event on one channel, optionally for one segment (a Xero
    contact group, a tracking option, a country) and in one language: snapshots/segments.py and
    messaging/languages.py pick among them."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="message_templates")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    channel = models.CharField(max_length=10, choices=Channel.choices[:3])
    reminder_stage = models.CharField(
        max_length=40, blank=True, help_text="Reminders only. Blank: any stage."
    )
    subject = models.CharField(max_length=300, blank=True, help_text="Email only.")
    body = models.TextField(blank=True)
    content_sid = models.CharField(
        "WhatsApp ContentSid",
        max_length=34,
        blank=True,
        help_text="The approved WhatsApp template (HX…) in your Twilio account.",
    )
    content_variables = models.JSONField(
        "WhatsApp variables",
        default=dict,
        blank=True,
        help_text='Template placeholder number → text, e.g. {"1": "{{ first_name }}"}.',
    )
    language = models.CharField(
        max_length=2,
        blank=True,
        validators=[language_validate],
        help_text="For contacts who prefer this language. Blank: your default language.",
    )
    fallback_to_email = models.BooleanField(
        "Email if not delivered",
        default=False,
        help_text="SMS and WhatsApp: when the text ends undelivered or failed, send the same "
        "notification once by email (with the active email template).",
    )
    is_active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["kind", "channel", "contact_group_name", "reminder_stage", "language"]
        constraints = [
            models.UniqueConstraint(
                "tenant",
                "kind",
                "channel",
                "contact_group_id",
                "tracking_option_id",
                "country",
                Lower("region"),
                "reminder_stage",
                "language",
                name="messagetemplate_unique_rule",
            )
        ]

    def __str__(self):
        language = f" · {self.language_name}" if self.language else ""
        kind, channel = self.get_kind_display(), self.get_channel_display()
        return f"{kind} · {channel} · {self.segment.label}{language}"

    @property
    def language_name(self) -> str:
        return language_name(self.language)

    def clean(self):
        errors = self.segment_errors()
        for field in ("subject", "body"):
            problems = rendering.template_errors(getattr(self, field), kind=self.kind)
            if problems:
                errors[field] = problems
        if self.reminder_stage and self.kind != Kind.REMINDER:
            errors["reminder_stage"] = ["Only reminder templates have a stage."]
        if self.channel == Channel.EMAIL and not self.subject.strip():
            errors["subject"] = errors.get("subject", []) + ["An email needs a subject."]
        if self.fallback_to_email and self.channel not in PHONE_CHANNELS:
            errors["fallback_to_email"] = [
                "Only an SMS or WhatsApp template can fall back to email."
            ]
        if self.channel == Channel.WHATSAPP:
            errors.update(self._whatsapp_errors())
        elif not self.body.strip():
            errors["body"] = errors.get("body", []) + ["The message is empty."]
        if errors:
            raise ValidationError(errors)

    def _whatsapp_errors(self) -> dict:
        # Business-initiated WhatsApp needs a Meta-approved template (FACTS.md "WhatsApp").
        errors = {}
        if not _CONTENT_SID.fullmatch(self.content_sid):
            errors["content_sid"] = ["A WhatsApp template needs a ContentSid like HX… (34 chars)."]
        if not isinstance(self.content_variables, dict):
            return {**errors, "content_variables": ['Give a JSON object, e.g. {"1": "…"}.']}
        problems = []
        for key, text in self.content_variables.items():
            if not str(key).isdigit() or not isinstance(text, str):
                problems.append(f"“{key}”: keys are placeholder numbers and values are text.")
                continue
            problems += [
                f"Variable {key}: {p}" for p in rendering.template_errors(text, kind=self.kind)
            ]
        if problems:
            errors["content_variables"] = problems
        return errors


# The dedup key of the one later try of a text whose handset was unreachable (30003).
UNREACHABLE_RETRY_SUFFIX = ":unreachable-retry"


def _callback_token() -> str:
    return secrets.token_urlsafe(24)


class Message(models.Model):
    """The send log: one row per notification and channel, written before anything is sent."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SCHEDULED = "scheduled", "Scheduled"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        DELIVERED = "delivered", "Delivered"
        UNDELIVERED = "undelivered", "Undelivered"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped"
        CANCELLED = "cancelled", "Cancelled"

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="messages")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    dedup_key = models.CharField(max_length=200)
    template = models.ForeignKey(
        MessageTemplate, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recipient = models.CharField(max_length=254, blank=True)  # E.164 or an email address
    contact_id = models.CharField("Xero ContactID", max_length=64, blank=True)
    contact_name = models.CharField(max_length=255, blank=True)
    invoice_id = models.CharField("Xero InvoiceID", max_length=64, blank=True)
    # The Xero organisation (tenantId) of the contact and invoice; blank for texts to the team.
    xero_tenant_id = models.CharField("Xero tenantId", max_length=64, blank=True)
    subject = models.CharField(max_length=300, blank=True)
    body = models.TextField(blank=True)
    content_sid = models.CharField(max_length=34, blank=True)
    content_variables = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    status_reason = models.TextField(blank=True, help_text="Why it was skipped or cancelled.")
    provider_id = models.CharField("Twilio SID / SendGrid id", max_length=100, blank=True)
    provider_status = models.CharField(max_length=20, blank=True)
    error_code = models.CharField(max_length=20, blank=True)
    error_message = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.TextField(blank=True)
    send_after = models.DateTimeField(null=True, blank=True)
    # Whether quiet hours set send_after (rather than the later retry of an unreachable
    # handset), so the send log says what a scheduled message waits for.
    quiet_hours_hold = models.BooleanField("Held by quiet hours", default=False)
    # Set when the provider may or may not have the message (5xx, timeout, a dead worker):
    # it is reconciled with Twilio before anything is sent again (FACTS.md "Which failures…").
    is_ambiguous = models.BooleanField(default=False)
    # A staff member's "send me this step as a test": logged like any text, counted in no report.
    is_test = models.BooleanField(
        default=False, help_text="Sent to a staff member to try a template; never counted."
    )
    callback_token = models.CharField(max_length=64, unique=True, default=_callback_token)
    resend_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="resends"
    )
    # A person's answer from the inbox: who wrote it, and the customer's text it answers.
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    in_reply_to = models.ForeignKey(
        "InboundMessage", null=True, blank=True, on_delete=models.SET_NULL, related_name="answers"
    )
    fallback_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="fallbacks",
        help_text="The text this email stands in for, after it was not delivered.",
    )  # fmt: skip
    # What notify() filled the template with, and the contact as it was then: the email
    # fallback sends the same notification on another channel from these (no secrets in them).
    template_values = models.JSONField(default=dict, blank=True)
    contact_card = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            # The idempotency point (docs/architecture.md invariant 1): notify() inserts and relies
            # on this; it never checks first.
            models.UniqueConstraint(
                fields=["tenant", "dedup_key", "channel"], name="message_unique_dedup"
            )
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status__in=["pending", "scheduled", "sending"]),
                name="message_due",
            ),
            models.Index(fields=["tenant", "contact_id"], name="message_contact"),
            # An invoice's messages, newest first: its last one on the Invoices page, its timeline.
            models.Index(fields=["tenant", "invoice_id", "created_at"], name="message_invoice"),
            models.Index(
                fields=["tenant", "xero_tenant_id", "-created_at"], name="message_organisation"
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} by {self.get_channel_display()} ({self.status})"

    @property
    def can_resend(self) -> bool:
        return self.status in (self.Status.FAILED, self.Status.UNDELIVERED)

    @property
    def is_unreachable_retry(self) -> bool:
        return self.dedup_key.endswith(UNREACHABLE_RETRY_SUFFIX)


class MessageStatusChange(models.Model):
    """Audit trail: every status a message passed through, and who or what moved it."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=12, blank=True)
    to_status = models.CharField(max_length=12)
    provider_status = models.CharField(max_length=20, blank=True)
    error_code = models.CharField(max_length=20, blank=True)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"{self.from_status or '—'} → {self.to_status}"


class OptOut(models.Model):
    """A phone number that must not be messaged: Twilio error 21610 or an inbound STOP."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="opt_outs")
    phone = models.CharField(max_length=32, help_text="E.164")
    source = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "phone"], name="optout_unique_phone")
        ]

    def __str__(self):
        return f"Opt-out {self.phone}"


class InboundMessage(models.Model):
    """A text a customer sent to the tenant's number: what it said and what Dunwell did."""

    class Intent(models.TextChoices):
        STOP = "stop", "Opt out (STOP)"
        START = "start", "Opt back in (START)"
        HELP = "help", "Asked for help"
        PAID = "paid", "Asked about an invoice (PAID …)"
        OTHER = "other", "Needs a person"

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="inbound_messages")
    message_sid = models.CharField("Twilio MessageSid", max_length=64)
    channel = models.CharField(max_length=10, choices=Channel.choices[:2])
    from_phone = models.CharField(max_length=32, help_text="E.164")
    to = models.CharField(max_length=64)
    body = models.TextField(blank=True)
    intent = models.CharField(max_length=10, choices=Intent.choices)
    invoice_number = models.CharField(max_length=255, blank=True)
    contact_names = models.CharField(max_length=500, blank=True)
    # The Xero contact whose number sent it, and the invoice it is about (the last one Dunwell
    # texted that number about, or the one staff recorded a promise for).
    contact_id = models.CharField("Xero ContactID", max_length=64, blank=True)
    invoice_id = models.CharField("Xero InvoiceID", max_length=64, blank=True)
    # The Xero organisations (tenantIds) of those contacts, or of the invoice asked about.
    xero_tenant_ids = models.JSONField(default=list, blank=True)
    reminders_paused_until = models.DateField(null=True, blank=True)
    # "I'll pay by …", as staff recorded it from this text (billing_events pauses the invoice).
    promised_by = models.DateField(null=True, blank=True)
    reply = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    handled_at = models.DateTimeField(null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    received_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-received_at", "-pk"]
        constraints = [
            # Twilio retries a webhook it got no answer to: the same MessageSid is one message.
            models.UniqueConstraint(
                fields=["tenant", "message_sid"], name="inboundmessage_unique_sid"
            )
        ]
        indexes = [
            # The navigation counts these on every page: texts waiting for a person.
            models.Index(
                fields=["tenant"],
                condition=Q(intent="other", handled_at__isnull=True),
                name="inboundmessage_unhandled",
            ),
            # Earlier texts from the same number, beside the one being answered.
            models.Index(fields=["tenant", "from_phone"], name="inboundmessage_phone"),
        ]

    def __str__(self):
        return f"{self.get_intent_display()} from {self.from_phone[:-4]}…"

    @property
    def needs_a_person(self) -> bool:
        return self.intent == self.Intent.OTHER and self.handled_at is None


class ContactPreference(models.Model):
    """How staff want one Xero contact reached; blank fields take the tenant's defaults."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="contact_preferences")
    contact_id = models.CharField("Xero ContactID", max_length=64)
    contact_name = models.CharField(max_length=255, blank=True)
    channels = models.JSONField(
        default=list, blank=True, help_text="Empty: the tenant's default channels."
    )
    language = models.CharField(
        max_length=2,
        blank=True,
        validators=[language_validate],
        help_text="Blank: the tenant's default language.",
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["contact_name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "contact_id"], name="contactpreference_unique_contact"
            )
        ]

    def __str__(self):
        return f"Preference of {self.contact_name or self.contact_id}"

    @property
    def channel_labels(self) -> list[str]:
        return channel_labels(self.channels)

    @property
    def language_name(self) -> str:
        return language_name(self.language)
