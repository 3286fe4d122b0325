from collections.abc import Sequence

from django import forms

from connections.forms_organisations import organisation_field_add
from connections.models import MessagingSettings
from connections.selectors import Organisations
from messaging.languages import DEFAULT_LABEL, language_choices, language_name
from messaging.models import (
    SENDING_CHANNELS,
    Channel,
    Kind,
    Message,
    MessageTemplate,
    channel_labels,
)
from messaging.services import SECRET_FIELDS
from snapshots.forms import SegmentFormMixin
from snapshots.selectors import SegmentChoices

CHANNEL_CHOICES = [(channel.value, channel.label) for channel in SENDING_CHANNELS]


class MessagingSettingsForm(forms.ModelForm):
    """Secrets are write-only: never rendered back, and left blank to keep the stored value."""

    class Meta:
        model = MessagingSettings
        fields = [
            "twilio_account_sid",
            "twilio_auth_token",
            "twilio_api_key_sid",
            "twilio_api_key_secret",
            "twilio_messaging_service_sid",
            "twilio_from_number",
            "whatsapp_from",
            "sendgrid_api_key",
            "sendgrid_from_email",
            "validity_period_seconds",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in SECRET_FIELDS:
            if name not in self.fields:  # a form showing only some of the settings
                continue
            stored = bool(getattr(self.instance, name, ""))
            self.fields[name] = forms.CharField(
                label=self.fields[name].label,
                required=False,
                widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
                help_text="Stored (encrypted). Leave blank to keep it." if stored else "",
            )
        if "validity_period_seconds" in self.fields:
            self.fields["validity_period_seconds"].min_value = 1
            self.fields["validity_period_seconds"].max_value = 36_000


class TestMessageForm(forms.Form):
    phone = forms.CharField(label="Your mobile number", max_length=32)


class MessageFilterForm(forms.Form):
    status = forms.ChoiceField(
        choices=[("", "Any status"), *Message.Status.choices], required=False
    )
    kind = forms.ChoiceField(choices=[("", "Any kind"), *Kind.choices], required=False)
    channel = forms.ChoiceField(choices=[("", "Any channel"), *Channel.choices], required=False)
    contact = forms.CharField(
        label="Contact", required=False, max_length=100, help_text="Name, phone or email."
    )
    invoice = forms.CharField(label="Invoice number", required=False, max_length=100)
    date_from = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label="To", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, organisations: Organisations, **kwargs):
        super().__init__(*args, **kwargs)
        organisation_field_add(self, organisations=organisations)
        self.order_fields(["organisation"])  # first: it narrows every other filter

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", "The end date is before the start date.")
        return cleaned


class BulkResendForm(MessageFilterForm):
    """The filters again, plus the newest message the confirmation page counted."""

    up_to = forms.IntegerField(min_value=0, widget=forms.HiddenInput)


class MessageTemplateForm(SegmentFormMixin, forms.ModelForm):
    """Validation is the model's (MessageTemplate.clean): errors name the line and variable."""

    language = forms.ChoiceField(
        choices=language_choices,
        required=False,
        help_text=MessageTemplate._meta.get_field("language").help_text,
    )

    class Meta:
        model = MessageTemplate
        fields = [
            "kind",
            "channel",
            "reminder_stage",
            "language",
            "subject",
            "body",
            "content_sid",
            "content_variables",
            "fallback_to_email",
            "is_active",
        ]
        labels = {"body": "Message", "is_active": "Active (send messages with this template)"}
        widgets = {
            "body": forms.Textarea(attrs={"rows": 7, "spellcheck": "true"}),
            "content_variables": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, segments: SegmentChoices, **kwargs):
        super().__init__(*args, **kwargs)
        self.segment_fields_add(segments=segments)

    def clean(self):
        cleaned = super().clean()
        self.segment_apply(cleaned)
        return cleaned


class TemplateWhyForm(forms.Form):
    invoice = forms.CharField(
        label="Invoice number", max_length=255, help_text="An invoice from Xero, e.g. INV-0142."
    )
    kind = forms.ChoiceField(
        label="Message kind", choices=Kind.choices, initial=Kind.INVOICE_ISSUED
    )

    def __init__(self, *args, organisations: Organisations, **kwargs):
        # Shown beside the template form in the editor: its ids must not clash ("id_kind").
        kwargs.setdefault("auto_id", "why_%s")
        super().__init__(*args, **kwargs)
        organisation_field_add(self, organisations=organisations, empty_label="Ask if several")


class TwilioCredentialsForm(MessagingSettingsForm):
    """The onboarding wizard's Twilio step: the account and one sender."""

    class Meta(MessagingSettingsForm.Meta):
        fields = [
            "twilio_account_sid",
            "twilio_auth_token",
            "twilio_api_key_sid",
            "twilio_api_key_secret",
            "twilio_messaging_service_sid",
            "twilio_from_number",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["twilio_account_sid"].required = True

    def clean(self):
        cleaned = super().clean()
        if not (cleaned.get("twilio_messaging_service_sid") or cleaned.get("twilio_from_number")):
            raise forms.ValidationError(
                "Enter a Messaging Service SID or a From number: Twilio needs a sender."
            )
        secret = (
            cleaned.get("twilio_auth_token")
            or cleaned.get("twilio_api_key_secret")
            or self.instance.twilio_auth_token
            or self.instance.twilio_api_key_secret
        )
        if not secret:
            raise forms.ValidationError(
                "Enter your Auth Token (or an API key SID and secret) from the Twilio console."
            )
        return cleaned


class SendGridForm(MessagingSettingsForm):
    """The onboarding wizard's optional email step."""

    class Meta(MessagingSettingsForm.Meta):
        fields = ["sendgrid_api_key", "sendgrid_from_email"]


def _language_field(languages, *, label: str, current: str, help_text: str) -> forms.ChoiceField:
    """A choice among the tenant's template languages (and the current one, should its last
    template have gone)."""
    return forms.ChoiceField(
        label=label,
        required=False,
        choices=language_choices({*languages, current}),
        help_text=help_text,
    )


class ChannelDefaultsForm(forms.ModelForm):
    """What a contact gets when staff set nothing for them. The language is offered only when
    the tenant has templates in more than one."""

    default_channels = forms.MultipleChoiceField(
        label="Channels",
        choices=CHANNEL_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        help_text="A channel is used only when it has an active template for the message.",
        error_messages={"required": "Choose at least one channel."},
    )

    class Meta:
        model = MessagingSettings
        fields = ["default_channels", "default_language"]

    def __init__(self, *args, languages: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        if len(languages) > 1:
            self.fields["default_language"] = _language_field(
                languages,
                label="Language",
                current=self.instance.default_language,
                help_text="For contacts without a language of their own; templates in it are "
                "used where they exist, the default-language ones elsewhere.",
            )
        else:
            del self.fields["default_language"]


class ContactPreferenceForm(forms.Form):
    channels = forms.MultipleChoiceField(
        choices=CHANNEL_CHOICES, required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, languages: list[str], defaults: MessagingSettings, **kwargs):
        super().__init__(*args, **kwargs)
        default_channels = ", ".join(channel_labels(defaults.default_channels))
        self.fields["channels"].help_text = f"None ticked: your defaults ({default_channels})."
        if len(languages) > 1:
            default_language = (
                f"your default, {language_name(defaults.default_language)}"
                if defaults.default_language
                else "the templates written without a language"
            )
            self.fields["language"] = _language_field(
                languages,
                label="Language",
                current=self.initial.get("language", ""),
                help_text=f"“{DEFAULT_LABEL}” is {default_language}.",
            )


class InboundAnswerForm(forms.Form):
    """A person's answer to a customer's text. `token` is made when the page is drawn and
    becomes the send's dedup key, so submitting the same form twice sends once."""

    body = forms.CharField(
        label="Your answer",
        max_length=1600,  # Twilio's limit for one message (FACTS.md "Send")
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    token = forms.RegexField(regex=r"^[A-Za-z0-9_-]{16,64}$", widget=forms.HiddenInput)


class InboundAssignForm(forms.Form):
    member = forms.ChoiceField(label="Assigned to", required=False)

    def __init__(self, *args, members: Sequence, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member"].choices = [("", "Nobody")] + [
            (str(m.pk), m.user.get_full_name() or m.user.get_username()) for m in members
        ]
