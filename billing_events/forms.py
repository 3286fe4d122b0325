from collections.abc import Sequence

from django import forms

from billing_events.models import ReminderSettings, ReminderStage
from connections.forms_organisations import organisation_field_add
from connections.selectors import Organisations
from snapshots.forms import SegmentFormMixin
from snapshots.selectors import SegmentChoices


class ReminderSettingsForm(forms.ModelForm):
    excluded_groups = forms.CharField(
        label="Excluded Xero contact group IDs",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="One ContactGroupID per line: these contacts never get reminders.",
    )

    class Meta:
        model = ReminderSettings
        fields = ["send_time", "skip_missed", "reply_pause_days", "team_phones", "team_emails"]
        widgets = {
            "send_time": forms.TimeInput(attrs={"type": "time"}),
            "team_phones": forms.Textarea(attrs={"rows": 2}),
            "team_emails": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["excluded_groups"].initial = "\n".join(self.instance.excluded_group_ids)

    def save(self, commit=True):
        lines = self.cleaned_data["excluded_groups"].splitlines()
        self.instance.excluded_group_ids = [line.strip() for line in lines if line.strip()]
        return super().save(commit=commit)


class StageForm(SegmentFormMixin, forms.ModelForm):
    """A stage of the default schedule, or (with "Applies to") of one segment's schedule."""

    def __init__(self, *args, segments: SegmentChoices, **kwargs):
        super().__init__(*args, **kwargs)
        self.segment_fields_add(segments=segments)
        self.order_fields(["applies_to", "region"])

    def clean(self):
        cleaned = super().clean()
        self.segment_apply(cleaned)
        return cleaned


StageFormSet = forms.modelformset_factory(
    ReminderStage,
    form=StageForm,
    fields=[
        "label",
        "key",
        "offset_days",
        "minimum_amount_due",
        "repeat_every_days",
        "repeat_times",
        "alert_team",
        "is_active",
    ],
    extra=1,
    can_delete=True,
)


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
