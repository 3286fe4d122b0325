"""Forms for the team's own pages: tenant settings, members, invitations.

Error messages are written for the accounts team, not for developers: they say what is wrong and
what to type instead.
"""

import zoneinfo
from functools import cache

import phonenumbers
from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password

from connections.models import Tenant

_ZONE_AREAS = (
    "Africa", "America", "Antarctica", "Arctic", "Asia", "Atlantic",
    "Australia", "Europe", "Indian", "Pacific",
)  # fmt: skip


@cache
def timezone_choices() -> tuple[tuple[str, str], ...]:
    """Canonical Area/City zones (legacy aliases such as "NZ" or "US/Pacific" left out), and UTC."""
    zones = sorted(z for z in zoneinfo.available_timezones() if z.split("/")[0] in _ZONE_AREAS)
    return (("UTC", "UTC"), *((z, z.replace("_", " ")) for z in zones))


@cache
def country_choices() -> tuple[tuple[str, str], ...]:
    """Every region phonenumbers knows, as "New Zealand (+64)", sorted by name."""
    choices = []
    # Imported here, not at the top: phonenumbers' geocoder loads ~90 MB of place names that
    # every web and django-q2 worker process would otherwise carry without ever rendering
    # this form (bench/RESULTS.md "Memory").
    from phonenumbers import geocoder

    for region in phonenumbers.SUPPORTED_REGIONS:
        example = phonenumbers.example_number(region)
        name = geocoder.country_name_for_number(example, "en") if example else ""
        code = phonenumbers.country_code_for_region(region)
        choices.append((region, f"{name or region} (+{code})"))
    return tuple(sorted(choices, key=lambda choice: choice[1]))


class _PlainLabels:
    """Labels without Django's trailing colon."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class TenantSettingsForm(_PlainLabels, forms.ModelForm):
    timezone = forms.ChoiceField(
        label="Time zone",
        help_text="Dates and times are shown, and messages scheduled, in this time zone.",
    )
    default_country = forms.ChoiceField(
        label="Default phone country",
        choices=country_choices,
        help_text="Used to read phone numbers in Xero that have no country code.",
    )

    class Meta:
        model = Tenant
        fields = ["name", "timezone", "default_country", "quiet_hours_start", "quiet_hours_end"]
        labels = {
            "name": "Team name",
            "quiet_hours_start": "Quiet hours start",
            "quiet_hours_end": "Quiet hours end",
        }
        help_texts = {
            "name": "Shown to your colleagues, and in invitation emails.",
            "quiet_hours_start": "No SMS or WhatsApp message goes to a customer after this time…",
            "quiet_hours_end": "…until this time the next morning.",
        }
        widgets = {
            "quiet_hours_start": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "quiet_hours_end": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        }
        error_messages = {
            "name": {"required": "Give your team a name, for example “Harbour Bakery accounts”."},
            "quiet_hours_start": {
                "required": "Enter the time quiet hours start, for example 21:00.",
                "invalid": "Enter a time like 21:00 (24-hour clock).",
            },
            "quiet_hours_end": {
                "required": "Enter the time quiet hours end, for example 08:00.",
                "invalid": "Enter a time like 08:00 (24-hour clock).",
            },
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        zones = timezone_choices()
        current = self.instance.timezone
        if current and current not in dict(zones):
            zones = ((current, current), *zones)
        self.fields["timezone"].choices = zones
        self.fields["timezone"].error_messages["invalid_choice"] = (
            "Pick your time zone from the list, for example Pacific/Auckland."
        )
        self.fields["default_country"].error_messages["invalid_choice"] = (
            "Pick a country from the list."
        )

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("quiet_hours_start"), cleaned.get("quiet_hours_end")
        if start is not None and start == end:
            self.add_error(
                "quiet_hours_end",
                "Quiet hours end at the same time they start, so there would be none. "
                "Pick an end time different from the start, for example 08:00.",
            )
        return cleaned


class InvitationForm(_PlainLabels, forms.Form):
    email = forms.EmailField(
        label="Colleague's email",
        error_messages={
            "required": "Enter your colleague's email address.",
            "invalid": "That does not look like an email address. Check it, e.g. sam@example.com.",
        },
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )


class NewAccountForm(_PlainLabels, forms.Form):
    """The invited person's first password, typed twice."""

    password1 = forms.CharField(
        label="Choose a password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label="Type it again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, email: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.email = email

    def clean(self):
        cleaned = super().clean()
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if first and second and first != second:
            self.add_error("password2", "The two passwords are different. Type the same one twice.")
        elif first:
            candidate = get_user_model()(username=self.email, email=self.email)
            try:
                validate_password(first, candidate)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned
