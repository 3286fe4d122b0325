"""Recipients: Xero's free-text phones become E.164, and contacts without one are listed."""

import pytest

from messaging.contacts import ContactCard, phone_choose
from messaging.models import Message
from messaging.services import notify


def _card(*phones):
    return ContactCard(contact_id="c1", name="Someone", phones=tuple(phones))


def _mobile(number, area="", country=""):
    return {"PhoneType": "MOBILE", "PhoneNumber": number, "PhoneAreaCode": area,
            "PhoneCountryCode": country}  # fmt: skip


@pytest.mark.parametrize(
    ("phone", "expected"),
    [
        (_mobile("123 4567", "021", "64"), "+64211234567"),  # country present, leading 0
        (_mobile("123 4567", "21", "+64"), "+64211234567"),
        (_mobile("1234567", "(021)"), "+64211234567"),  # no country: the tenant's default
        (_mobile("021-123-4567"), "+64211234567"),
        (_mobile("+64 21 123 4567", "09", "1"), "+64211234567"),  # + in the number wins
        (_mobile("0064 21 123 4567"), "+64211234567"),
        (_mobile("0412 345 678", "", "61"), "+61412345678"),  # Australian mobile
        (_mobile("07911 123456", "", "44"), "+447911123456"),
    ],
)
def test_xero_phone_shapes_become_e164(phone, expected):
    assert phone_choose(_card(phone), default_country="NZ").e164 == expected


def test_mobile_is_preferred_and_default_is_the_fallback():
    default = {"PhoneType": "DEFAULT", "PhoneNumber": "09 555 0100"}
    assert phone_choose(_card(default), default_country="NZ").e164 == "+6495550100"
    both = _card(default, _mobile("021 123 4567"))
    assert phone_choose(both, default_country="NZ").e164 == "+64211234567"


def test_a_contact_without_a_usable_phone_is_skipped_with_the_reason(
    tenant_a, staff_client, invoice_context
):
    nobody = ContactCard(contact_id="c-none", name="No Phone Ltd",
                         phones=({"PhoneType": "FAX", "PhoneNumber": "09 555 0100"},))  # fmt: skip
    broken = ContactCard(contact_id="c-bad", name="=Bad Number", phones=(_mobile("12"),))
    for card in (nobody, broken):
        key = f"invoice:{card.contact_id}:issued"
        (message,) = notify(tenant=tenant_a, kind="invoice_issued", contact=card,
                            context=invoice_context, dedup_key=key)  # fmt: skip
        assert message.status == Message.Status.SKIPPED
    assert message.status_reason == "The mobile phone number in Xero is not a valid number."
    page = staff_client.get("/messaging/contacts-needing-phone/").content.decode()
    assert "No Phone Ltd" in page
    assert "No mobile or default phone number in Xero." in page
    csv = staff_client.get("/messaging/contacts-needing-phone.csv").content.decode()
    assert "'=Bad Number,c-bad,The mobile phone number in Xero is not a valid number." in csv
