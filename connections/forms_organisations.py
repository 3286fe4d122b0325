"""The organisation filter and choice that lists and look-ups add once a tenant has several
Xero organisations (connections.selectors.Organisations)."""

from django import forms

from connections.selectors import Organisations


def organisation_field_add(
    form: forms.Form, *, organisations: Organisations, empty_label: str = "Every organisation"
) -> None:
    """Give the form an optional `organisation` choice (by Xero tenantId) when the tenant has
    several organisations; with one, the form stays as it was."""
    if not organisations.several:
        return
    form.fields["organisation"] = forms.ChoiceField(
        label="Organisation",
        required=False,
        choices=[("", empty_label), *organisations.choices],
    )
