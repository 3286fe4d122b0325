from django import forms

from connections.models import XeroConnection


class OrganisationNamesForm(forms.ModelForm):
    """How an organisation signs what customers read (texts, replies, /pay/, email)."""

    class Meta:
        model = XeroConnection
        fields = ["customer_name", "reply_signature"]
