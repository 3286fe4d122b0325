"""Strict message templates, money and dates for a tenant, and SMS segment maths.

Why not Django templates: they render an unknown name as an empty string (so a typo becomes a
hole in a text a customer reads) and they walk attributes (`{{ tenant.messaging.… }}`), which
would let a template author reach objects we never meant to expose. Messages need neither
loops, filters nor includes, so the language here is exactly `{{ variable }}` and nothing else:
every placeholder is checked against VARIABLES when the template is saved, and a value that is
missing when a message is rendered is an error, never an empty hole.
"""

import difflib
import re
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import cache

from babel import Locale, UnknownLocaleError
from babel.numbers import format_currency, get_territory_currencies
from django.core.exceptions import ValidationError

from snapshots.contacts import recipient_country

# name -> what staff see next to the editor.
VARIABLES: dict[str, str] = {
    "contact_name": "The Xero contact's name",
    "first_name": "The contact's first name (else the contact name)",
    "invoice_number": "Invoice number, e.g. INV-0142",
    "reference": "Invoice reference",
    "amount_due": "Amount still due, e.g. $1,234.50 (“NZD 1,234.50” to someone abroad)",
    "balance_note": "“Paid in full.” or “Still due: $1,234.50.”",
    "total": "Invoice total",
    "amount_paid": "Amount paid so far",
    "payment_amount": "The payment just received",
    "currency": "Currency code, e.g. NZD",
    "due_date": "Due date, e.g. 7 July 2026",
    "days_overdue": "Days past the due date",
    "online_invoice_url": "Xero's online invoice link (view and pay)",
    "organisation_name": "The organisation's name as customers see it (Xero connections)",
    "signature": "The organisation's reply signature (else the name customers see)",
    "contact_groups": "The contact's Xero contact group names",
    "reminder_stage": "The reminder stage",
    "credit_note_number": "Credit note number",
    "overdue_invoices": "Team digest: one line per overdue invoice",
    "invoice_count": "Team digest: how many invoices it lists",
}

MONEY_VARIABLES = ("amount_due", "total", "amount_paid", "payment_amount")

# What each message kind can fill: the values its notify() caller passes (billing_events'
# transitions, reminders and replies, the team digest) plus the contact's. The editor offers
# only these and saving refuses the rest, so a template never names a value its kind lacks.
_CONTACT = ("contact_name", "first_name", "contact_groups", "organisation_name", "signature")
_INVOICE = ("invoice_number", "reference", "amount_due", "balance_note", "total", "amount_paid",
            "currency", "due_date", "online_invoice_url")  # fmt: skip
_REPLY_INVOICE = ("invoice_number", "amount_due", "balance_note", "total", "currency", "due_date")
KIND_VARIABLES: dict[str, tuple[str, ...]] = {
    "invoice_issued": (*_CONTACT, *_INVOICE),
    "payment_received": (*_CONTACT, *_INVOICE, "payment_amount"),
    "reminder": (*_CONTACT, *_INVOICE, "days_overdue", "reminder_stage"),
    "credit_note_issued": (*_CONTACT, "credit_note_number", "reference", "total", "currency"),
    "team_overdue_alert": ("organisation_name", "overdue_invoices", "invoice_count"),
    "reply_payment_link": (*_CONTACT, *_REPLY_INVOICE, "online_invoice_url"),
    "reply_paid_thanks": (*_CONTACT, *_REPLY_INVOICE),
    "reply_not_found": (*_CONTACT, "invoice_number"),
    # HELP answers people Dunwell may not know: only the organisation is certain.
    "reply_help": ("organisation_name", "signature"),
}

# Twilio accepts a Body of at most 1,600 characters (FACTS.md "Twilio"); email gets more room,
# but any output is bounded so a runaway value can never produce a huge message.
MAX_OUTPUT = {"sms": 1600, "whatsapp": 1600, "email": 50_000}
MAX_TEMPLATE = 10_000

_PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}")
_NAME = re.compile(r"[a-z_][a-z0-9_]*")


class RenderError(Exception):
    """A template could not be filled in: the message must not be sent as it is."""


def variables_offered() -> list[tuple[str, str, str]]:
    """(name, description, the kinds that fill it, space-separated) for the editor's palette."""
    return [
        (name, description, " ".join(k for k, names in KIND_VARIABLES.items() if name in names))
        for name, description in VARIABLES.items()
    ]


def _did_you_mean(name: str, offered) -> str:
    close = difflib.get_close_matches(name, offered, n=1)
    return f" Did you mean “{close[0]}”?" if close else ""


def template_errors(text: str, *, kind: str | None = None) -> list[str]:
    """Every problem in a template, each naming its line, so staff can fix them all at once.

    With `kind`, a variable that kind of message cannot fill is a problem too (KIND_VARIABLES).
    """
    offered = KIND_VARIABLES.get(kind, tuple(VARIABLES))
    errors = []
    if len(text) > MAX_TEMPLATE:
        errors.append(f"The template is longer than {MAX_TEMPLATE:,} characters.")
    for number, line in enumerate(text.splitlines(), start=1):
        for match in _PLACEHOLDER.finditer(line):
            inner = match.group(1).strip()
            if not _NAME.fullmatch(inner):
                errors.append(
                    f"Line {number}: “{match.group(0)}” is not a plain variable. Only "
                    "{{ name }} is allowed — no dots, filters or tags."
                )
            elif inner not in VARIABLES:
                errors.append(
                    f"Line {number}: unknown variable “{inner}”." + _did_you_mean(inner, offered)
                )
            elif inner not in offered:
                errors.append(
                    f"Line {number}: “{inner}” has no value in this kind of message."
                    + _did_you_mean(inner, offered)
                )
        rest = _PLACEHOLDER.sub("", line)
        if "{{" in rest or "}}" in rest:
            errors.append(f"Line {number}: a “{{{{” or “}}}}” is not closed or not opened.")
        if "{%" in rest or "%}" in rest:
            errors.append(f"Line {number}: tags like {{% … %}} are not supported.")
    return errors


def template_validate(text: str, *, field: str | None = None) -> None:
    errors = template_errors(text)
    if errors:
        raise ValidationError({field: errors} if field else errors)


def template_variables(text: str) -> set[str]:
    return {m.group(1).strip() for m in _PLACEHOLDER.finditer(text)}


def render(text: str, values: dict[str, str], *, max_length: int) -> str:
    """Fill in a validated template; a missing value or an oversized result is a RenderError."""
    missing = sorted(name for name in template_variables(text) if not values.get(name))
    if missing:
        raise RenderError(f"No value for {', '.join(missing)} in this notification.")
    output = _PLACEHOLDER.sub(lambda m: values[m.group(1).strip()], text)
    if len(output) > max_length:
        raise RenderError(
            f"The message would be {len(output):,} characters (limit {max_length:,})."
        )
    return output


# --- money and dates for the recipient's locale ------------------------------------------------

# Babel's CLDR patterns use no-break spaces (U+00A0, U+202F); neither is in GSM-7, so one would
# turn a whole text into UCS-2 and halve what fits in a segment (sms_size below).
_NO_BREAK_SPACES = str.maketrans({"\u00a0": " ", "\u202f": " "})
# A currency that is not the reader's own is named by its ISO code, never by a "$" they would
# read as their own dollars: "NZD 410.00" to an Australian.
_FOREIGN_PATTERN = "¤¤ #,##0.00"


@cache  # a Locale is parsed from Babel's data files: ~0.1 ms, for every amount of every text
def _english_locale(country: str) -> Locale:
    """English as written in the reader's country (en_AU, en_GB, …); plain English if Babel
    does not know that combination."""
    try:
        return Locale.parse(f"en_{country}") if country else Locale("en")
    except (UnknownLocaleError, ValueError):
        return Locale("en")


@cache
def _home_currency(country: str) -> tuple[str, ...]:
    return tuple(get_territory_currencies(country)[:1]) if country else ()


def money_format(amount: Decimal, currency: str, *, country: str) -> str:
    """An amount as the reader in `country` expects it: natural in their own currency ("$410.00"
    NZD to a New Zealander), unambiguous in any other ("NZD 410.00" to an Australian)."""
    home = _home_currency(country)
    currency = (currency or (home[0] if home else "")).upper()
    if not currency:
        return f"{Decimal(amount).quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):,}"
    own = currency in home
    text = format_currency(
        Decimal(amount),
        currency,
        format=None if own else _FOREIGN_PATTERN,
        locale=_english_locale(country),
    )
    return text.translate(_NO_BREAK_SPACES)


def date_format(value: date, *, country: str) -> str:
    if country == "US":
        return f"{value:%B} {value.day}, {value.year}"
    return f"{value.day} {value:%B %Y}"


# --- SMS encoding and segments -----------------------------------------------------------------

# GSM 03.38 basic character set and its extension table (each extension character is sent as
# ESC + char, so it counts twice). Anything else forces the whole message into UCS-2.
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")


@dataclass(frozen=True)
class SmsSize:
    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    segments: int
    per_segment: int  # capacity of each segment at this length (160/153 or 70/67)
    ucs2_characters: tuple[str, ...]  # the characters that forced UCS-2, in order of appearance


def _unit_lengths(text: str, encoding: str) -> list[int]:
    if encoding == "GSM-7":
        return [2 if ch in GSM7_EXTENSION else 1 for ch in text]
    return [2 if ord(ch) > 0xFFFF else 1 for ch in text]  # astral characters are surrogate pairs


def sms_size(text: str) -> SmsSize:
    """Encoding and segment count, as a handset would split the message.

    Single segment: 160 GSM-7 septets or 70 UCS-2 units. Concatenated: 153 / 67 per segment
    (the user data header takes the rest), and an escape pair or surrogate pair is never split.
    """
    forcing = tuple(dict.fromkeys(ch for ch in text if ch not in GSM7_BASIC | GSM7_EXTENSION))
    encoding = "UCS-2" if forcing else "GSM-7"
    single, multi = (70, 67) if forcing else (160, 153)
    lengths = _unit_lengths(text, encoding)
    units = sum(lengths)
    if units <= single:
        return SmsSize(encoding, units, 1 if units else 0, single, forcing)
    segments, used = 1, 0
    for length in lengths:
        if used + length > multi:
            segments, used = segments + 1, 0
        used += length
    return SmsSize(encoding, units, segments, multi, forcing)


def template_values(*, contact, context: dict, tenant_country: str) -> dict[str, str]:
    """The text of every variable this notification can fill; absent ones are simply missing.

    Money and dates are written for the reader (contacts.recipient_country)."""
    country = recipient_country(contact, tenant_country=tenant_country)
    currency = str(context.get("currency") or "")
    values = {
        "contact_name": contact.name,
        "first_name": contact.first_name or contact.name,
        "contact_groups": ", ".join(contact.group_names),
        "currency": currency,
    }
    for name in MONEY_VARIABLES:
        if context.get(name) is not None:
            values[name] = money_format(Decimal(context[name]), currency, country=country)
    if "amount_due" in values:
        values["balance_note"] = (
            f"Still due: {values['amount_due']}."
            if Decimal(context["amount_due"]) > 0
            else "Paid in full."
        )
    if context.get("due_date"):
        values["due_date"] = date_format(context["due_date"], country=country)
    if context.get("days_overdue") is not None:
        values["days_overdue"] = str(int(context["days_overdue"]))
    if context.get("overdue_invoices"):
        values["overdue_invoices"] = "\n".join(
            _overdue_line(invoice, country=country) for invoice in context["overdue_invoices"]
        )
        values["invoice_count"] = str(len(context["overdue_invoices"]))
    for name in (
        "invoice_number",
        "reference",
        "online_invoice_url",
        "organisation_name",
        "signature",
        "reminder_stage",
        "credit_note_number",
    ):
        if context.get(name):
            values[name] = str(context[name])
    return values


def _overdue_line(invoice: dict, *, country: str) -> str:
    """One line of the team digest: `- INV-0142 Aroha Ngata $485.00, 7 days overdue`."""
    amount = money_format(
        Decimal(invoice["amount_due"]), invoice.get("currency", ""), country=country
    )
    name = f" {invoice['contact_name']}" if invoice.get("contact_name") else ""
    return (
        f"- {invoice['invoice_number']}{name} {amount}, {int(invoice['days_overdue'])} days overdue"
    )
