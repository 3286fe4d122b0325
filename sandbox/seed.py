"""The demo world `make run` starts with: two organisations, their contacts and invoices, a
Twilio account and SendGrid key wired into the demo tenant (idempotent)."""

import secrets
from decimal import Decimal

from django.db import transaction

from sandbox.console import invoice_create, payment_record
from sandbox.models import Contact, ContactGroup, Organisation, TwilioAccount

# Phones in the shapes Xero really holds (FACTS.md): with and without country codes, area codes
# in parentheses, leading zeros, a "+" in the number field, no mobile, no phone at all.
_NZ_CONTACTS = [
    ("Aroha Ngata", "aroha@example.test", "Retail", [("MOBILE", "64", "21", "555 0101")], False),
    ("Ben Carter", "ben@carter.test", "Corporate", [("MOBILE", "", "", "021 555 0102")], False),
    ("Chloe Wong", "", "Retail", [("MOBILE", "", "", "+64 22 555 0103")], False),
    (
        "Dev Patel Ltd",
        "accounts@patel.test",
        "Corporate",
        [("DEFAULT", "", "(09)", "555 0104")],
        False,
    ),
    ("Eli Thompson", "eli@thompson.test", "", [], False),
    ("Fern Harris", "", "Retail", [("MOBILE", "+64", "027", "555 0106")], True),
]
_AU_CONTACTS = [
    ("Grace Lee", "grace@lee.test", "Retail", [("MOBILE", "", "", "0412 555 107")], False),
    (
        "Harbour Corp Pty",
        "ap@harbour.test",
        "Corporate",
        [("MOBILE", "61", "(04)", "1255 5108")],
        False,
    ),
    (
        "Ivy Nguyen",
        "ivy@nguyen.test",
        "Retail",
        [("DEFAULT", "61", "", "(02) 5550 1109"), ("FAX", "61", "2", "5550 1199")],
        False,
    ),
    ("Jack Smith", "jack@smith.test", "", [], False),
]
_ORGANISATIONS = [
    ("Kauri Bakery Ltd", "NZ", "NZ", "NEWZEALANDSTANDARDTIME", "NZD", False, _NZ_CONTACTS),
    ("Wattle Catering Pty Ltd", "AU", "AU", "AUSEASTERNSTANDARDTIME", "AUD", True, _AU_CONTACTS),
]


def _phones(entries) -> list[dict]:
    return [
        {
            "PhoneType": kind,
            "PhoneCountryCode": country,
            "PhoneAreaCode": area,
            "PhoneNumber": number,
        }
        for kind, country, area, number in entries
    ]


@transaction.atomic
def sandbox_seed() -> list[Organisation]:
    organisations = []
    for name, country, version, zone, currency, reminders, contacts in _ORGANISATIONS:
        organisation, created = Organisation.objects.get_or_create(
            name=name,
            defaults={
                "short_code": f"!{secrets.token_hex(2)}",
                "country_code": country,
                "version": version,
                "timezone": zone,
                "base_currency": currency,
                "invoice_reminders_enabled": reminders,
            },
        )
        organisations.append(organisation)
        if not created:
            continue
        groups = {
            group: ContactGroup.objects.create(organisation=organisation, name=group)
            for group in ("Retail", "Corporate")
        }
        rows = []
        for contact_name, email, group, phones, unreachable in contacts:
            first, _, last = contact_name.partition(" ")
            contact = Contact.objects.create(
                organisation=organisation,
                name=contact_name,
                first_name=first,
                last_name=last,
                email=email,
                phones=_phones(phones),
                unreachable=unreachable,
            )
            if group:
                contact.groups.add(groups[group])
            rows.append(contact)
        _invoices(rows)
    return organisations


def _invoices(contacts: list[Contact]) -> None:
    quiet = {"send_webhook": False}
    invoice_create(
        contact=contacts[0], total=Decimal("485.00"), due_in_days=7, approve=True, **quiet
    )
    invoice_create(
        contact=contacts[1], total=Decimal("1250.50"), due_in_days=-10, approve=True, **quiet
    )
    paid = invoice_create(contact=contacts[2], total=Decimal("99.95"), approve=True, **quiet)
    payment_record(invoice=paid, amount=paid.total, **quiet)
    invoice_create(contact=contacts[3], total=Decimal("320.00"), due_in_days=20, **quiet)


def twilio_account_for_demo() -> TwilioAccount:
    account, _ = TwilioAccount.objects.get_or_create(
        friendly_name="Demo tenant (sandbox)",
        defaults={
            "account_sid": "AC" + secrets.token_hex(16),
            "auth_token": secrets.token_hex(16),
            "from_number": "+15005550006",
        },
    )
    return account
