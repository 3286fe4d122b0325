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


class OrganisationFilterForm(forms.Form):
    """A list's organisation filter on its own (inbox, reminders): empty with one organisation.

    `organisation` in cleaned_data is "" for every organisation, and a choice is validated
    against the tenant's own organisations, so another tenant's id is refused.
    """

    def __init__(self, *args, organisations: Organisations, **kwargs):
        super().__init__(*args, **kwargs)
        organisation_field_add(self, organisations=organisations)

    @property
    def chosen(self) -> str:
        """The Xero tenantId chosen; "" for every organisation (or a refused choice)."""
        return self.cleaned_data.get("organisation", "") if self.is_valid() else ""
