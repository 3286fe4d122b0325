from decimal import Decimal

from django import forms

from sandbox.models import Contact, ContactGroup, TwilioFault


class ReplyForm(forms.Form):
    body = forms.CharField(label="Reply", max_length=1600, help_text='e.g. "PAID INV-0003", "STOP"')


class FaultForm(forms.ModelForm):
    class Meta:
        model = TwilioFault
        fields = [
            "to_number",
            "http_status",
            "error_code",
            "message",
            "message_created",
            "remaining",
        ]


class InvoiceCreateForm(forms.Form):
    contact = forms.ModelChoiceField(queryset=Contact.objects.select_related("organisation"))
    total = forms.DecimalField(
        label="Total", min_value=Decimal("0.01"), decimal_places=2, initial=Decimal("485.00")
    )
    due_in_days = forms.IntegerField(label="Due in (days, negative = overdue)", initial=14)
    description = forms.CharField(max_length=200, initial="Services")
    approve = forms.BooleanField(label="Approve straight away", required=False)


class AmountForm(forms.Form):
    amount = forms.DecimalField(label="Amount", min_value=Decimal("0.01"), decimal_places=2)


class ContactForm(forms.Form):
    name = forms.CharField(max_length=200)
    email = forms.EmailField(required=False)
    mobile_country = forms.CharField(label="Mobile country code", required=False, max_length=10)
    mobile_area = forms.CharField(label="Mobile area code", required=False, max_length=10)
    mobile_number = forms.CharField(label="Mobile number", required=False, max_length=50)
    default_country = forms.CharField(label="Phone country code", required=False, max_length=10)
    default_area = forms.CharField(label="Phone area code", required=False, max_length=10)
    default_number = forms.CharField(label="Phone number", required=False, max_length=50)
    groups = forms.ModelMultipleChoiceField(
        queryset=ContactGroup.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )
    unreachable = forms.BooleanField(
        label="Handset unreachable (texts end undelivered, 30003)", required=False
    )

    def __init__(self, data=None, *, contact: Contact):
        super().__init__(data, initial=self.initial_for(contact))
        self.fields["groups"].queryset = ContactGroup.objects.filter(
            organisation=contact.organisation
        )

    @staticmethod
    def initial_for(contact: Contact) -> dict:
        initial = {
            "name": contact.name,
            "email": contact.email,
            "groups": list(contact.groups.all()),
            "unreachable": contact.unreachable,
        }
        for phone in contact.phones:
            prefix = {"MOBILE": "mobile", "DEFAULT": "default"}.get(phone.get("PhoneType"))
            if prefix:
                initial[f"{prefix}_country"] = phone.get("PhoneCountryCode", "")
                initial[f"{prefix}_area"] = phone.get("PhoneAreaCode", "")
                initial[f"{prefix}_number"] = phone.get("PhoneNumber", "")
        return initial

    def phones(self) -> list[dict]:
        phones = []
        for prefix, phone_type in (("default", "DEFAULT"), ("mobile", "MOBILE")):
            number = self.cleaned_data[f"{prefix}_number"]
            if number:
                phones.append(
                    {
                        "PhoneType": phone_type,
                        "PhoneNumber": number,
                        "PhoneAreaCode": self.cleaned_data[f"{prefix}_area"],
                        "PhoneCountryCode": self.cleaned_data[f"{prefix}_country"],
                    }
                )
        return phones
