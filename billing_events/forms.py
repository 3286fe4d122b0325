from collections.abc import Sequence

from django import forms

from billing_events.models import ReminderSettings, ReminderStage
from connections.forms_organisations import organisation_field_add
from connections.models import Membership
from connections.selectors import Organisations
from snapshots.contacts import mobile_card, phone_choose
from snapshots.forms import SegmentFormMixin
from snapshots.segments import GROUP
from snapshots.selectors import SegmentChoices


class ReminderSettingsForm(forms.ModelForm):
    excluded_groups = forms.MultipleChoiceField(
        label="Never remind these contact groups",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Contacts in a ticked Xero contact group get no reminders at all.",
    )

    class Meta:
        model = ReminderSettings
        fields = ["send_time", "skip_missed", "reply_pause_days", "team_phones", "team_emails"]
        labels = {
            "send_time": "Send reminders at",
            "reply_pause_days": "After a customer replies, wait (days)",
        }
        widgets = {
            "send_time": forms.TimeInput(attrs={"type": "time"}),
            "team_phones": forms.Textarea(attrs={"rows": 2}),
            "team_emails": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, segments: SegmentChoices, **kwargs):
        super().__init__(*args, **kwargs)
        # With several organisations each group says whose it is ("Corporate — Kauri Bakery").
        names = {k: segments.label((GROUP, k), name) for k, name in segments.groups}
        # A group no longer in Xero stays listed while excluded, so saving keeps it (or drops it).
        for group_id in self.instance.excluded_group_ids:
            names.setdefault(group_id, "A group no longer in Xero")
        field = self.fields["excluded_groups"]
        field.choices = sorted(names.items(), key=lambda item: item[1].casefold())
        field.initial = list(self.instance.excluded_group_ids)

    def save(self, commit=True):
        self.instance.excluded_group_ids = list(self.cleaned_data["excluded_groups"])
        return super().save(commit=commit)


WHEN_CHOICES = [
    ("before", "before the due date"),
    ("due", "on the due date"),
    ("after", "after the due date"),
]


class StepForm(SegmentFormMixin, forms.ModelForm):
    """One step of the default schedule, or (with "Applies to") of one segment's schedule.

    Its day is asked as words ("3 days · before the due date"), never as a signed number; the
    key is made by Dunwell (billing_events/reminders/builder.py)."""

    days = forms.IntegerField(label="Number of days", min_value=0, max_value=365, initial=7)
    when = forms.ChoiceField(label="When", choices=WHEN_CHOICES, initial="after")

    class Meta:
        model = ReminderStage
        fields = [
            "label",
            "minimum_amount_due",
            "repeat_every_days",
            "repeat_times",
            "alert_team",
            "is_active",
        ]
        labels = {
            "label": "Name",
            "minimum_amount_due": "Only if at least this much is due",
            "repeat_every_days": "Then repeat every (days)",
            "repeat_times": "Repeat at most (times)",
            "alert_team": "Also list the invoice in the team's daily digest",
            "is_active": "Send this step",
        }
        help_texts = {
            "label": "Shown on this page, the preview and the send log. Blank: the day in words.",
            "minimum_amount_due": "Blank: any amount.",
            "repeat_every_days": "Blank: once.",
            "repeat_times": "",
            "alert_team": "",
            "is_active": "Untick to keep the step but send nothing for it.",
        }

    def __init__(self, *args, segments: SegmentChoices, **kwargs):
        super().__init__(*args, **kwargs)
        self.segment_fields_add(segments=segments)
        self.fields["label"].required = False
        if self.instance.pk:
            offset = self.instance.offset_days
            self.initial["days"] = abs(offset)
            self.initial["when"] = self.instance.phase
        self.order_fields(["days", "when", "label", "applies_to", "region"])

    def clean(self):
        cleaned = super().clean()
        days, when = cleaned.get("days"), cleaned.get("when")
        if days is not None and when:
            if when == "due":
                days = 0
            elif days == 0:
                self.add_error("days", "Give at least 1 day, or choose “on the due date”.")
            self.instance.offset_days = -days if when == "before" else days
            if not cleaned.get("label"):
                cleaned["label"] = self.instance.label = self.instance.day_words.capitalize()
        self.segment_apply(cleaned)
        return cleaned


class MemberMobileForm(forms.ModelForm):
    """A staff member's own mobile, where their test texts go, kept as E.164."""

    class Meta:
        model = Membership
        fields = ["mobile"]

    def clean_mobile(self) -> str:
        typed = self.cleaned_data["mobile"].strip()
        if not typed:
            return ""
        tenant = self.instance.tenant
        # Read as phone_choose reads any number: without a country code, in the tenant's
        # default phone country.
        choice = phone_choose(mobile_card(typed), default_country=tenant.default_country)
        if choice.e164 is None:
            raise forms.ValidationError(
                f"“{typed}” is not a mobile number we can text. Write it with its country "
                f"code (e.g. +64 21 555 0100), or as a {tenant.default_country} number."
            )
        return choice.e164


class PauseForm(forms.Form):
    invoice_number = forms.CharField(
        label="Invoice number", required=False, help_text="Pause one invoice…"
    )
    contact_name = forms.CharField(
        label="Contact name", required=False, help_text="…or every invoice of one contact."
    )
    resume_on = forms.DateField(
        label="Resume on",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Blank: until someone removes the pause.",
    )

    def __init__(self, *args, organisations: Organisations, **kwargs):
        super().__init__(*args, **kwargs)
        organisation_field_add(
            self, organisations=organisations, empty_label="Ask if several have it"
        )

    def clean(self):
        data = super().clean()
        if bool(data.get("invoice_number")) == bool(data.get("contact_name")):
            raise forms.ValidationError("Give either an invoice number or a contact name.")
        return data


class PromiseForm(forms.Form):
    """A customer's promise to pay, recorded from their text."""

    invoice = forms.ChoiceField(label="Invoice")
    promised_by = forms.DateField(
        label="Promised to pay by",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="No reminders until then; they resume the day after if it is still unpaid.",
    )
    note = forms.CharField(label="Note (optional)", required=False, max_length=300)

    def __init__(self, *args, invoices: Sequence, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["invoice"].choices = [
            (i.invoice_id, f"{i.number} · {i.currency} {i.amount_due:,.2f} due") for i in invoices
        ]
