"""Reading Xero's JSON: its dates, its money and its Windows-style time zone names."""

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation

# "/Date(1546128000000+0000)/": milliseconds since the epoch, sometimes with an offset that only
# tells the organisation's local offset — the milliseconds are already UTC (FACTS.md).
_MS_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")


def parse_xero_date(value) -> datetime | None:
    """An aware UTC datetime from `/Date(…±hhmm)/` or an ISO 8601 string; None when empty."""
    if value in (None, ""):
        return None
    text = str(value).strip()
    match = _MS_DATE.match(text)
    if match:
        return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=int(match.group(1)))
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"Not a Xero date: {text!r}") from None
    # Xero's ISO strings without an offset ("2019-12-07T18:46:19.5165400") are UTC.
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def parse_money(value) -> Decimal:
    """A Decimal from Xero's number; through str() so a float never rounds the cents."""
    if value in (None, ""):
        return Decimal("0")
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"Not an amount: {value!r}") from None


# Xero's Organisation.Timezone values (the TimeZone enum in specs/xero/xero_accounting.yaml) are
# Windows zone ids, upper-cased without spaces or dots. Mapped like CLDR's windowsZones.xml
# (territory 001) to IANA names.
WINDOWS_TO_IANA = {
    "AFGHANISTANSTANDARDTIME": "Asia/Kabul",
    "ALASKANSTANDARDTIME": "America/Anchorage",
    "ALEUTIANSTANDARDTIME": "America/Adak",
    "ALTAISTANDARDTIME": "Asia/Barnaul",
    "ARABIANSTANDARDTIME": "Asia/Dubai",
    "ARABICSTANDARDTIME": "Asia/Baghdad",
    "ARABSTANDARDTIME": "Asia/Riyadh",
    "ARGENTINASTANDARDTIME": "America/Argentina/Buenos_Aires",
    "ASTRAKHANSTANDARDTIME": "Europe/Astrakhan",
    "ATLANTICSTANDARDTIME": "America/Halifax",
    "AUSCENTRALSTANDARDTIME": "Australia/Darwin",
    "AUSCENTRALWSTANDARDTIME": "Australia/Eucla",
    "AUSEASTERNSTANDARDTIME": "Australia/Sydney",
    "AZERBAIJANSTANDARDTIME": "Asia/Baku",
    "AZORESSTANDARDTIME": "Atlantic/Azores",
    "BAHIASTANDARDTIME": "America/Bahia",
    "BANGLADESHSTANDARDTIME": "Asia/Dhaka",
    "BELARUSSTANDARDTIME": "Europe/Minsk",
    "BOUGAINVILLESTANDARDTIME": "Pacific/Bougainville",
    "CANADACENTRALSTANDARDTIME": "America/Regina",
    "CAPEVERDESTANDARDTIME": "Atlantic/Cape_Verde",
    "CAUCASUSSTANDARDTIME": "Asia/Yerevan",
    "CENAUSTRALIASTANDARDTIME": "Australia/Adelaide",
    "CENTRALAMERICASTANDARDTIME": "America/Guatemala",
    "CENTRALASIASTANDARDTIME": "Asia/Bishkek",
    "CENTRALBRAZILIANSTANDARDTIME": "America/Cuiaba",
    "CENTRALEUROPEANSTANDARDTIME": "Europe/Warsaw",
    "CENTRALEUROPESTANDARDTIME": "Europe/Budapest",
    "CENTRALPACIFICSTANDARDTIME": "Pacific/Guadalcanal",
    "CENTRALSTANDARDTIME": "America/Chicago",
    "CENTRALSTANDARDTIME(MEXICO)": "America/Mexico_City",
    "CHATHAMISLANDSSTANDARDTIME": "Pacific/Chatham",
    "CHINASTANDARDTIME": "Asia/Shanghai",
    "CUBASTANDARDTIME": "America/Havana",
    "DATELINESTANDARDTIME": "Etc/GMT+12",
    "EAFRICASTANDARDTIME": "Africa/Nairobi",
    "EASTERISLANDSTANDARDTIME": "Pacific/Easter",
    "EASTERNSTANDARDTIME": "America/New_York",
    "EASTERNSTANDARDTIME(MEXICO)": "America/Cancun",
    "EAUSTRALIASTANDARDTIME": "Australia/Brisbane",
    "EEUROPESTANDARDTIME": "Europe/Chisinau",
    "EGYPTSTANDARDTIME": "Africa/Cairo",
    "EKATERINBURGSTANDARDTIME": "Asia/Yekaterinburg",
    "ESOUTHAMERICASTANDARDTIME": "America/Sao_Paulo",
    "FIJISTANDARDTIME": "Pacific/Fiji",
    "FLESTANDARDTIME": "Europe/Kyiv",
    "GEORGIANSTANDARDTIME": "Asia/Tbilisi",
    "GMTSTANDARDTIME": "Europe/London",
    "GREENLANDSTANDARDTIME": "America/Nuuk",
    "GREENWICHSTANDARDTIME": "Atlantic/Reykjavik",
    "GTBSTANDARDTIME": "Europe/Bucharest",
    "HAITISTANDARDTIME": "America/Port-au-Prince",
    "HAWAIIANSTANDARDTIME": "Pacific/Honolulu",
    "INDIASTANDARDTIME": "Asia/Kolkata",
    "IRANSTANDARDTIME": "Asia/Tehran",
    "ISRAELSTANDARDTIME": "Asia/Jerusalem",
    "JORDANSTANDARDTIME": "Asia/Amman",
    "KALININGRADSTANDARDTIME": "Europe/Kaliningrad",
    "KAMCHATKASTANDARDTIME": "Asia/Kamchatka",
    "KOREASTANDARDTIME": "Asia/Seoul",
    "LIBYASTANDARDTIME": "Africa/Tripoli",
    "LINEISLANDSSTANDARDTIME": "Pacific/Kiritimati",
    "LORDHOWESTANDARDTIME": "Australia/Lord_Howe",
    "MAGADANSTANDARDTIME": "Asia/Magadan",
    "MAGALLANESSTANDARDTIME": "America/Punta_Arenas",
    "MARQUESASSTANDARDTIME": "Pacific/Marquesas",
    "MAURITIUSSTANDARDTIME": "Indian/Mauritius",
    "MIDATLANTICSTANDARDTIME": "Etc/GMT+2",
    "MIDDLEEASTSTANDARDTIME": "Asia/Beirut",
    "MONTEVIDEOSTANDARDTIME": "America/Montevideo",
    "MOROCCOSTANDARDTIME": "Africa/Casablanca",
    "MOUNTAINSTANDARDTIME": "America/Denver",
    "MOUNTAINSTANDARDTIME(MEXICO)": "America/Mazatlan",
    "MYANMARSTANDARDTIME": "Asia/Yangon",
    "NAMIBIASTANDARDTIME": "Africa/Windhoek",
    "NCENTRALASIASTANDARDTIME": "Asia/Novosibirsk",
    "NEPALSTANDARDTIME": "Asia/Kathmandu",
    "NEWFOUNDLANDSTANDARDTIME": "America/St_Johns",
    "NEWZEALANDSTANDARDTIME": "Pacific/Auckland",
    "NORFOLKSTANDARDTIME": "Pacific/Norfolk",
    "NORTHASIAEASTSTANDARDTIME": "Asia/Irkutsk",
    "NORTHASIASTANDARDTIME": "Asia/Krasnoyarsk",
    "NORTHKOREASTANDARDTIME": "Asia/Pyongyang",
    "OMSKSTANDARDTIME": "Asia/Omsk",
    "PACIFICSASTANDARDTIME": "America/Santiago",
    "PACIFICSTANDARDTIME": "America/Los_Angeles",
    "PACIFICSTANDARDTIME(MEXICO)": "America/Tijuana",
    "PAKISTANSTANDARDTIME": "Asia/Karachi",
    "PARAGUAYSTANDARDTIME": "America/Asuncion",
    "QYZYLORDASTANDARDTIME": "Asia/Qyzylorda",
    "ROMANCESTANDARDTIME": "Europe/Paris",
    "RUSSIANSTANDARDTIME": "Europe/Moscow",
    "RUSSIATIMEZONE10": "Asia/Srednekolymsk",
    "RUSSIATIMEZONE11": "Asia/Kamchatka",
    "RUSSIATIMEZONE3": "Europe/Samara",
    "SAEASTERNSTANDARDTIME": "America/Cayenne",
    "SAINTPIERRESTANDARDTIME": "America/Miquelon",
    "SAKHALINSTANDARDTIME": "Asia/Sakhalin",
    "SAMOASTANDARDTIME": "Pacific/Apia",
    "SAOTOMESTANDARDTIME": "Africa/Sao_Tome",
    "SAPACIFICSTANDARDTIME": "America/Bogota",
    "SARATOVSTANDARDTIME": "Europe/Saratov",
    "SAWESTERNSTANDARDTIME": "America/La_Paz",
    "SEASIASTANDARDTIME": "Asia/Bangkok",
    "SINGAPORESTANDARDTIME": "Asia/Singapore",
    "SOUTHAFRICASTANDARDTIME": "Africa/Johannesburg",
    "SOUTHSUDANSTANDARDTIME": "Africa/Juba",
    "SRILANKASTANDARDTIME": "Asia/Colombo",
    "SUDANSTANDARDTIME": "Africa/Khartoum",
    "SYRIASTANDARDTIME": "Asia/Damascus",
    "TAIPEISTANDARDTIME": "Asia/Taipei",
    "TASMANIASTANDARDTIME": "Australia/Hobart",
    "TOCANTINSSTANDARDTIME": "America/Araguaina",
    "TOKYOSTANDARDTIME": "Asia/Tokyo",
    "TOMSKSTANDARDTIME": "Asia/Tomsk",
    "TONGASTANDARDTIME": "Pacific/Tongatapu",
    "TRANSBAIKALSTANDARDTIME": "Asia/Chita",
    "TURKEYSTANDARDTIME": "Europe/Istanbul",
    "TURKSANDCAICOSSTANDARDTIME": "America/Grand_Turk",
    "ULAANBAATARSTANDARDTIME": "Asia/Ulaanbaatar",
    "USEASTERNSTANDARDTIME": "America/Indiana/Indianapolis",
    "USMOUNTAINSTANDARDTIME": "America/Phoenix",
    "UTC": "UTC",
    # Windows "UTC+12" is 12 hours ahead; POSIX Etc/ names have the sign inverted.
    "UTC+12": "Etc/GMT-12",
    "UTC+13": "Etc/GMT-13",
    "UTC02": "Etc/GMT+2",
    "UTC08": "Etc/GMT+8",
    "UTC09": "Etc/GMT+9",
    "UTC11": "Etc/GMT+11",
    "VENEZUELASTANDARDTIME": "America/Caracas",
    "VLADIVOSTOKSTANDARDTIME": "Asia/Vladivostok",
    "VOLGOGRADSTANDARDTIME": "Europe/Volgograd",
    "WAUSTRALIASTANDARDTIME": "Australia/Perth",
    "WCENTRALAFRICASTANDARDTIME": "Africa/Lagos",
    "WESTASIASTANDARDTIME": "Asia/Tashkent",
    "WESTBANKSTANDARDTIME": "Asia/Hebron",
    "WESTPACIFICSTANDARDTIME": "Pacific/Port_Moresby",
    "WEUROPESTANDARDTIME": "Europe/Berlin",
    "WMONGOLIASTANDARDTIME": "Asia/Hovd",
    "YAKUTSKSTANDARDTIME": "Asia/Yakutsk",
    "YUKONSTANDARDTIME": "America/Whitehorse",
}


def iana_timezone(xero_timezone: str | None, default: str = "UTC") -> str:
    """The IANA zone for Xero's Organisation.Timezone; `default` for a value we do not know."""
    key = (xero_timezone or "").upper().replace(" ", "").replace(".", "").replace("-", "")
    return WINDOWS_TO_IANA.get(key, default)
