from django import forms

STATES = [
    ("", "Any state"),
    ("open", "Open (not paid)"),
    ("awaiting", "Awaiting payment"),
    ("part_paid", "Part paid"),
    ("overdue", "Overdue"),
    ("paid", "Paid"),
    ("voided", "Voided"),
]
BUCKETS = [
    ("", "Any"),
    ("1-7", "1–7 days"),
    ("8-30", "8–30 days"),
    ("31-60", "31–60 days"),
    ("61-", "More than 60 days"),
]
SORTS = [
    ("due", "Due date, oldest first"),
    ("-due", "Due date, newest first"),
    ("-amount", "Amount due, largest first"),
    ("amount", "Amount due, smallest first"),
    ("number", "Invoice number"),
]


class InvoiceFilterForm(forms.Form):
    q = forms.CharField(label="Search", required=False, max_length=100,
                        help_text="Invoice number or contact name")  # fmt: skip
    organisation = forms.ChoiceField(label="Organisation", required=False)
    state = forms.ChoiceField(label="State", choices=STATES, required=False)
    overdue = forms.ChoiceField(label="Days overdue", choices=BUCKETS, required=False)
    group = forms.ChoiceField(label="Contact group", required=False)
    needs_person = forms.BooleanField(label="Needs a person", required=False)
    sort = forms.ChoiceField(label="Sort by", choices=SORTS, required=False)

    def __init__(self, *args, organisations, groups, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].choices = [("", "All organisations"), *organisations]
        self.fields["group"].choices = [("", "Any group"), *groups]
        if len(organisations) < 2:
            del self.fields["organisation"]
        if not groups:
            del self.fields["group"]


class PauseForm(forms.Form):
    resume_on = forms.DateField(
        label="Resume on",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Blank: until someone resumes them.",
    )


class SendNextForm(forms.Form):
    occurrence = forms.CharField(widget=forms.HiddenInput, max_length=60)
