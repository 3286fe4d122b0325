from django import forms

from connections.models import MessagingSettings
from messaging.models import Channel, Kind, Message
from messaging.services import SECRET_FIELDS


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
            stored = bool(getattr(self.instance, name, ""))
            self.fields[name] = forms.CharField(
                label=self.fields[name].label,
                required=False,
                widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
                help_text="Stored (encrypted). Leave blank to keep it." if stored else "",
            )
        self.fields["validity_period_seconds"].min_value = 1
        self.fields["validity_period_seconds"].max_value = 36_000


class TestMessageForm(forms.Form):
    phone = forms.CharField(label="Your mobile number", max_length=32)


class MessageFilterForm(forms.Form):
    status = forms.ChoiceField(
        choices=[("", "Any status"), *Message.Status.choices], required=False
    )
    channel = forms.ChoiceField(choices=[("", "Any channel"), *Channel.choices], required=False)
    kind = forms.ChoiceField(choices=[("", "Any kind"), *Kind.choices], required=False)
    search = forms.CharField(label="Search", required=False, max_length=100)
