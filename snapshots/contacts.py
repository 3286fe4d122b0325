"""Who a message goes to, from the Xero contact as last seen (its snapshot).

A ContactCard is built from the contact snapshot (snapshots.selectors.contact_card); messaging
and billing_events both read it from this layer, below them both (docs/architecture.md
"Layers").
"""

import re
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import phonenumbers
from phonenumbers import timezone as phone_timezone


@dataclass(frozen=True)
class ContactCard:
    contact_id: str  # Xero ContactID
    name: str
    first_name: str = ""
    email: str = ""
    # Xero Phones[] entries as received: PhoneType, PhoneNumber, PhoneAreaCode, PhoneCountryCode
    phones: tuple[dict, ...] = ()
    group_ids: tuple[str, ...] = ()
    group_names: tuple[str, ...] = ()
    # ISO 3166 code and the address's Region, for country segments (snapshots/segments.py);
    # country_source says where the country came from: "address" or "phone".
    country: str = ""
    region: str = ""
    country_source: str = ""
    # The Xero organisation (tenantId) the contact belongs to; the send log shows and filters by it.
    xero_tenant_id: str = ""


def contact_card_stored(contact: ContactCard) -> dict:
    """The card as JSON, to keep on a Message (messaging.models.Message.contact_card)."""
    return asdict(contact)


def contact_card_restored(stored: dict, *, contact_id: str, name: str) -> ContactCard:
    """The card a Message kept; only the id and name for a row written before cards were kept.

    Keys the card no longer has are dropped, lists become tuples again."""
    known = {field.name for field in fields(ContactCard)}
    values = {"contact_id": contact_id, "name": name}
    for key, value in stored.items():
        if key in known:
            values[key] = tuple(value) if isinstance(value, list) else value
    return ContactCard(**values)


@dataclass(frozen=True)
class PhoneChoice:
    e164: str | None
    problem: str = ""  # "no_phone" or "invalid_phone" when e164 is None
    reason: str = ""


def mobile_card(phone: str) -> ContactCard:
    """A card for a number someone typed into Dunwell (their own mobile), not one from Xero."""
    return ContactCard(
        contact_id="", name="", phones=({"PhoneType": "MOBILE", "PhoneNumber": phone},)
    )


# Xero phones are free text and often partial (FACTS.md "Contact"): prefer MOBILE, else DEFAULT.
PHONE_PREFERENCE = ("MOBILE", "DEFAULT")


def _digits(value) -> str:
    return re.sub(r"\D", "", str(value or ""))


def _parse(entry: dict, default_country: str) -> phonenumbers.PhoneNumber | None:
    number = str(entry.get("PhoneNumber") or "").strip()
    area = _digits(entry.get("PhoneAreaCode"))
    country = _digits(entry.get("PhoneCountryCode")).removeprefix("00")
    # Country calling codes have 1–3 digits; anything longer is not one (and int() of thousands
    # of digits raises ValueError, not the parse error handled below).
    if not _digits(number) or len(country) > 3:
        return None
    try:
        if number.startswith("+") or number.startswith("00"):
            return phonenumbers.parse(number, default_country)  # already international
        national = area + _digits(number)
        if country:
            region = phonenumbers.region_code_for_country_code(int(country))
            if region != phonenumbers.UNKNOWN_REGION:
                # Parsing in the country's own region strips its trunk prefix (a leading 0).
                return phonenumbers.parse(national, region)
            return phonenumbers.parse(f"+{country}{national}", None)
        return phonenumbers.parse(national, default_country)
    except phonenumbers.NumberParseException:
        return None


def phone_choose(contact: ContactCard, *, default_country: str) -> PhoneChoice:
    """The contact's E.164 number, or why there is none (shown on the send log)."""
    by_type = {str(p.get("PhoneType", "")).upper(): p for p in contact.phones}
    candidates = [
        by_type[t] for t in PHONE_PREFERENCE if _digits(by_type.get(t, {}).get("PhoneNumber"))
    ]
    if not candidates:
        return PhoneChoice(None, "no_phone", "No mobile or default phone number in Xero.")
    for entry in candidates:
        parsed = _parse(entry, default_country)
        if parsed is not None and phonenumbers.is_valid_number(parsed):
            return PhoneChoice(
                phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
            )
    kinds = " or ".join(str(e.get("PhoneType", "")).lower() for e in candidates)
    return PhoneChoice(
        None, "invalid_phone", f"The {kinds} phone number in Xero is not a valid number."
    )


def phone_country(contact: ContactCard, *, default_country: str) -> str:
    """The ISO country of the number phone_choose() would text; "" when there is none."""
    choice = phone_choose(contact, default_country=default_country)
    if choice.e164 is None:
        return ""
    region = phonenumbers.region_code_for_number(phonenumbers.parse(choice.e164, None))
    # "001" is a non-geographic number (satellite, global services): no country.
    return region if region and region.isalpha() and region != phonenumbers.UNKNOWN_REGION else ""


def phones_e164(contact: ContactCard, *, default_country: str) -> set[str]:
    """Every valid number of the contact (any type but fax), for matching an inbound text."""
    numbers = set()
    for entry in contact.phones:
        if str(entry.get("PhoneType", "")).upper() == "FAX":
            continue
        parsed = _parse(entry, default_country)
        if parsed is not None and phonenumbers.is_valid_number(parsed):
            numbers.add(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))
    return numbers


def phone_timezone_name(e164: str, *, fallback: str) -> str:
    """The recipient's zone from their number; `fallback` (the tenant's) when it cannot tell.

    phonenumbers often names several zones for one number (+64: Auckland and Chatham; +44:
    London, Jersey, …). The tenant's own zone wins when it is one of them; otherwise the first
    is used when they all agree on the time right now.
    """
    try:
        zones = phone_timezone.time_zones_for_number(phonenumbers.parse(e164, None))
    except phonenumbers.NumberParseException:
        return fallback
    zones = [z for z in zones if z != phone_timezone.UNKNOWN_TIMEZONE]
    if not zones or fallback in zones:
        return fallback
    now = datetime.now(UTC)
    if len({now.astimezone(ZoneInfo(z)).utcoffset() for z in zones}) == 1:
        return zones[0]
    return fallback
