from django import forms

from alerts.models import AlertSettings
from snapshots.contacts import mobile_card, phone_choose


class AlertSettingsForm(forms.ModelForm):
    class Meta:
        model = AlertSettings
        fields = [
            "webhook_silence_hours",
            "failure_percent",
            "failure_minimum",
            "sender_error_count",
            "api_budget_percent",
            "sms_phone",
            "weekly_summary",
        ]

    def __init__(self, *args, tenant, **kwargs):
        super().__init__(*args, **kwargs)
        self.tenant = tenant

    def clean_sms_phone(self) -> str:
        phone = self.cleaned_data["sms_phone"].strip()
        if not phone:
            return ""
        choice = phone_choose(mobile_card(phone), default_country=self.tenant.default_country)
        if choice.e164 is None:
            raise forms.ValidationError(
                f"“{phone}” is not a mobile number we can text. Give it with its country code, "
                "e.g. +64 21 123 4567."
            )
        return choice.e164
