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
    # The Xero organisation the contact belongs to (its tenantId), and that organisation's
    # country (Organisation.CountryCode) and time zone: see phone_region() and
    # recipient_timezone_fallback().
    xero_tenant_id: str = ""
    organisation_country: str = ""
    organisation_timezone: str = ""


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


def phone_region(contact: ContactCard, *, tenant_country: str) -> str:
    """The country a number written without its country code is read in — the one rule for
    every place that parses or matches a contact's number (sending, phone-country segments,
    inbound replies, quiet hours): the contact's own country (their STREET, else POBOX address
    in Xero), else their organisation's (Xero's Organisation.CountryCode), else the tenant's
    default phone country. A country read from the phone itself is no evidence here: it was
    derived by this very rule."""
    own = contact.country if contact.country_source == "address" else ""
    return own or contact.organisation_country or tenant_country


def recipient_country(contact: ContactCard, *, tenant_country: str) -> str:
    """Where the person reading a message is, for money and dates: the contact's country (from
    their address, else their number), else the country their number is read in."""
    return contact.country or phone_region(contact, tenant_country=tenant_country)


def recipient_timezone_fallback(contact: ContactCard | None, *, tenant_timezone: str) -> str:
    """The zone quiet hours use when the number alone does not tell (phone_timezone_name): the
    contact's organisation's, else the tenant's."""
    return (contact.organisation_timezone if contact else "") or tenant_timezone


def _parse(entry: dict, region: str) -> phonenumbers.PhoneNumber | None:
    number = str(entry.get("PhoneNumber") or "").strip()
    area = _digits(entry.get("PhoneAreaCode"))
    country = _digits(entry.get("PhoneCountryCode")).removeprefix("00")
    # Country calling codes have 1–3 digits; anything longer is not one (and int() of thousands
    # of digits raises ValueError, not the parse error handled below).
    if not _digits(number) or len(country) > 3:
        return None
    try:
        if number.startswith("+") or number.startswith("00"):
            return phonenumbers.parse(number, region)  # already international
        national = area + _digits(number)
        if country:
            own = phonenumbers.region_code_for_country_code(int(country))
            if own != phonenumbers.UNKNOWN_REGION:
                # Parsing in the country's own region strips its trunk prefix (a leading 0).
                return phonenumbers.parse(national, own)
            return phonenumbers.parse(f"+{country}{national}", None)
        return phonenumbers.parse(national, region)
    except phonenumbers.NumberParseException:
        return None


def phone_choose(contact: ContactCard, *, default_country: str) -> PhoneChoice:
    """The contact's E.164 number, or why there is none (shown on the send log).

    `default_country` is the tenant's default phone country; phone_region() decides."""
    region = phone_region(contact, tenant_country=default_country)
    by_type = {str(p.get("PhoneType", "")).upper(): p for p in contact.phones}
    candidates = [
        by_type[t] for t in PHONE_PREFERENCE if _digits(by_type.get(t, {}).get("PhoneNumber"))
    ]
    if not candidates:
        return PhoneChoice(None, "no_phone", "No mobile or default phone number in Xero.")
    for entry in candidates:
        parsed = _parse(entry, region)
        if parsed is not None and phonenumbers.is_valid_number(parsed):
            return PhoneChoice(
                phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
            )
    kinds = " or ".join(str(e.get("PhoneType", "")).lower() for e in candidates)
    return PhoneChoice(
        None, "invalid_phone", f"The {kinds} phone number in Xero is not a valid number."
    )


def phones_as_written(contact: ContactCard) -> str:
    """The mobile and default numbers exactly as Xero holds them, for staff fixing them:
    "Mobile: 61 (04) 1255 5108"; "" when Xero has none."""
    written = []
    for entry in contact.phones:
        kind = str(entry.get("PhoneType", "")).upper()
        parts = [
            str(entry.get(key) or "").strip()
            for key in ("PhoneCountryCode", "PhoneAreaCode", "PhoneNumber")
        ]
        if kind in PHONE_PREFERENCE and any(parts):
            written.append(f"{kind.capitalize()}: {' '.join(filter(None, parts))}")
    return "; ".join(written)


def phone_country(contact: ContactCard, *, default_country: str) -> str:
    """The ISO country of the number phone_choose() would text; "" when there is none."""
    choice = phone_choose(contact, default_country=default_country)
    if choice.e164 is None:
        return ""
    region = phonenumbers.region_code_for_number(phonenumbers.parse(choice.e164, None))
    # "001" is a non-geographic number (satellite, global services): no country.
    return region if region and region.isalpha() and region != phonenumbers.UNKNOWN_REGION else ""


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
