from django import forms


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label="What is this token for?",
        max_length=100,
        help_text="For example “Accounts dashboard”. Only you and the owners see it.",
    )
