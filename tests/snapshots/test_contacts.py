"""Xero's free-text phones become E.164: MOBILE first, then DEFAULT."""

import pytest

from snapshots.contacts import ContactCard, phone_choose


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
