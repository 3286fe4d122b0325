"""Where a Xero contact is, for country and region segments (snapshots/segments.py).

Xero's Address.Country is free text ("New Zealand", "NZ", "U.K."), so it is turned into an ISO
3166 code with pycountry; Region is kept as written and compared without regard to case. The
STREET address wins over the POBOX one. A contact without a usable address is placed by the
country of its phone number, which phonenumbers knows (a local number is read as messaging reads
it to text it: snapshots.contacts.phone_region).
"""

import pycountry

from snapshots.contacts import ContactCard, phone_country

ADDRESS_PREFERENCE = ("STREET", "POBOX")

# Names people type that pycountry does not know; everything else goes through its lookup
# (ISO codes, official and common names, any case).
_ALIASES = {
    "UK": "GB",
    "GREAT BRITAIN": "GB",
    "BRITAIN": "GB",
    "ENGLAND": "GB",
    "SCOTLAND": "GB",
    "WALES": "GB",
    "NORTHERN IRELAND": "GB",
    "AOTEAROA": "NZ",
    "AMERICA": "US",
    "UNITED STATES OF AMERICA": "US",
}


def country_code(text: str) -> str:
    """The ISO 3166 alpha-2 code of a country as someone typed it; "" when it names none."""
    cleaned = " ".join(str(text or "").replace(".", "").split()).upper()
    if not cleaned:
        return ""
    if cleaned in _ALIASES:
        return _ALIASES[cleaned]
    try:
        return pycountry.countries.lookup(cleaned).alpha_2
    except LookupError:
        return ""


def contact_location(
    *, addresses: list, phones: list[dict], organisation_country: str, tenant_country: str
) -> tuple[str, str, str]:
    """(country code, region, source) of a Xero contact; source is "address" or "phone"."""
    by_type: dict[str, dict] = {}
    for address in addresses or []:
        if isinstance(address, dict):
            by_type.setdefault(str(address.get("AddressType") or "").upper(), address)
    for address_type in ADDRESS_PREFERENCE:
        address = by_type.get(address_type) or {}
        country = country_code(address.get("Country") or "")
        if country:
            return country, str(address.get("Region") or "").strip()[:100], "address"
    card = ContactCard(
        contact_id="", name="", phones=tuple(phones), organisation_country=organisation_country
    )
    country = phone_country(card, default_country=tenant_country)
    return (country, "", "phone") if country else ("", "", "")
