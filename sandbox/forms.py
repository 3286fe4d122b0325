from decimal import Decimal

from django import forms

from sandbox.models import Contact, ContactGroup, TrackingOption, TwilioFault


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
    tracking_option = forms.ModelChoiceField(
        label="Tracking option on the line item",
        queryset=TrackingOption.objects.filter(
            status="ACTIVE", category__status="ACTIVE"
        ).select_related("category__organisation"),
        required=False,
        help_text="One of the contact's organisation's options.",
    )
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
    street_city = forms.CharField(label="Street address: city", required=False, max_length=255)
    street_region = forms.CharField(label="Street address: region", required=False, max_length=255)
    street_country = forms.CharField(
        label="Street address: country", required=False, max_length=50, help_text="Free text."
    )
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
        for address in contact.addresses:
            if address.get("AddressType") == "STREET":
                initial["street_city"] = address.get("City", "")
                initial["street_region"] = address.get("Region", "")
                initial["street_country"] = address.get("Country", "")
        for phone in contact.phones:
            prefix = {"MOBILE": "mobile", "DEFAULT": "default"}.get(phone.get("PhoneType"))
            if prefix:
                initial[f"{prefix}_country"] = phone.get("PhoneCountryCode", "")
                initial[f"{prefix}_area"] = phone.get("PhoneAreaCode", "")
                initial[f"{prefix}_number"] = phone.get("PhoneNumber", "")
        return initial

    def addresses(self, contact: Contact) -> list[dict]:
        """The contact's addresses with its STREET address as typed (others kept)."""
        kept = [a for a in contact.addresses if a.get("AddressType") != "STREET"]
        street = {
            "City": self.cleaned_data["street_city"],
            "Region": self.cleaned_data["street_region"],
            "Country": self.cleaned_data["street_country"],
        }
        return [{"AddressType": "STREET", **street}, *kept] if any(street.values()) else kept

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
