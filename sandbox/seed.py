"""The demo world `make run` starts with: two organisations, their contacts (in New Zealand,
Australia and the United Kingdom), tracking categories and invoices, a Twilio account and
SendGrid key wired into the demo tenant (idempotent)."""

import secrets
from decimal import Decimal

from django.db import transaction

from sandbox.console import invoice_create, payment_record
from sandbox.models import (
    Contact,
    ContactGroup,
    Organisation,
    TrackingCategory,
    TrackingOption,
    TwilioAccount,
)

# Phones in the shapes Xero really holds (FACTS.md): with and without country codes, area codes
# in parentheses, leading zeros, a "+" in the number field, no mobile, no phone at all.
# Addresses name countries as free text ("New Zealand", "NZ"); some contacts have none, so
# Dunwell places them by their phone. Kauri Bakery sells abroad too: a contact in Australia and
# one in the United Kingdom give the demo customers in three countries.
_NZ_CONTACTS = [
    ("Aroha Ngata", "aroha@example.test", "Retail", [("MOBILE", "64", "21", "555 0101")], False,
     ("STREET", "12 Queen Street", "Auckland", "Auckland", "1010", "New Zealand")),
    ("Ben Carter", "ben@carter.test", "Corporate", [("MOBILE", "", "", "021 555 0102")], False,
     ("STREET", "4 Cathedral Square", "Christchurch", "Canterbury", "8011", "NZ")),
    ("Chloe Wong", "", "Retail", [("MOBILE", "", "", "+64 22 555 0103")], False, None),
    ("Dev Patel Ltd", "accounts@patel.test", "Corporate", [("DEFAULT", "", "(09)", "555 0104")],
     False, ("POBOX", "PO Box 5104", "Wellington", "Wellington", "6140", "New Zealand")),
    ("Eli Thompson", "eli@thompson.test", "", [], False, None),
    ("Fern Harris", "", "Retail", [("MOBILE", "+64", "027", "555 0106")], True, None),
    ("Koala Cafe Pty", "orders@koala.test", "", [("MOBILE", "61", "", "0412 555 201")], False,
     ("STREET", "1 George Street", "Sydney", "NSW", "2000", "Australia")),
    ("Thistle and Rose Ltd", "hello@thistle.test", "", [("MOBILE", "44", "", "07400 123456")],
     False, ("STREET", "10 Princes Street", "Edinburgh", "Scotland", "EH2 2AN", "United Kingdom")),
]  # fmt: skip
_AU_CONTACTS = [
    ("Grace Lee", "grace@lee.test", "Retail", [("MOBILE", "", "", "0412 555 107")], False,
     ("STREET", "20 Pitt Street", "Sydney", "NSW", "2000", "Australia")),
    ("Harbour Corp Pty", "ap@harbour.test", "Corporate", [("MOBILE", "61", "(04)", "1255 5108")],
     False, ("STREET", "8 Collins Street", "Melbourne", "VIC", "3000", "Australia")),
    ("Ivy Nguyen", "ivy@nguyen.test", "Retail",
     [("DEFAULT", "61", "", "(02) 5550 1109"), ("FAX", "61", "2", "5550 1199")], False,
     ("POBOX", "PO Box 99", "Sydney", "NSW", "2001", "AU")),
    ("Jack Smith", "jack@smith.test", "", [], False, None),
]  # fmt: skip
# Tracking categories: (category, [(option, status)]); the archived one shows Dunwell's fallback.
_NZ_TRACKING = [("Region", [("North", "ACTIVE"), ("South", "ACTIVE"), ("Central", "ARCHIVED")])]
_AU_TRACKING = [("Branch", [("Sydney", "ACTIVE"), ("Melbourne", "ACTIVE")])]
_ORGANISATIONS = [
    ("Kauri Bakery Ltd", "NZ", "NZ", "NEWZEALANDSTANDARDTIME", "NZD", False, _NZ_CONTACTS,
     _NZ_TRACKING),
    ("Wattle Catering Pty Ltd", "AU", "AU", "AUSEASTERNSTANDARDTIME", "AUD", True, _AU_CONTACTS,
     _AU_TRACKING),
]  # fmt: skip


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


def _addresses(entry) -> list[dict]:
    if entry is None:
        return []
    kind, line, city, region, postcode, country = entry
    return [
        {"AddressType": kind, "AddressLine1": line, "City": city, "Region": region,
         "PostalCode": postcode, "Country": country}
    ]  # fmt: skip


def _tracking(organisation: Organisation, categories) -> list[TrackingOption]:
    options = []
    for category_name, entries in categories:
        category = TrackingCategory.objects.create(organisation=organisation, name=category_name)
        options += [
            TrackingOption.objects.create(category=category, name=name, status=status)
            for name, status in entries
        ]
    return options


@transaction.atomic
def sandbox_seed() -> list[Organisation]:
    organisations = []
    for name, country, version, zone, currency, reminders, contacts, tracking in _ORGANISATIONS:
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
        for contact_name, email, group, phones, unreachable, address in contacts:
            first, _, last = contact_name.partition(" ")
            contact = Contact.objects.create(
                organisation=organisation,
                name=contact_name,
                first_name=first,
                last_name=last,
                email=email,
                phones=_phones(phones),
                addresses=_addresses(address),
                unreachable=unreachable,
            )
            if group:
                contact.groups.add(groups[group])
            rows.append(contact)
        _invoices(rows, _tracking(organisation, tracking))
    return organisations


def _invoices(contacts: list[Contact], options: list[TrackingOption]) -> None:
    quiet = {"send_webhook": False}
    invoice_create(
        contact=contacts[0],
        total=Decimal("485.00"),
        due_in_days=7,
        approve=True,
        tracking_option=options[0],
        **quiet,
    )
    invoice_create(
        contact=contacts[1],
        total=Decimal("1250.50"),
        due_in_days=-10,
        approve=True,
        tracking_option=options[1],
        **quiet,
    )
    paid = invoice_create(contact=contacts[2], total=Decimal("99.95"), approve=True, **quiet)
    payment_record(invoice=paid, amount=paid.total, **quiet)
    invoice_create(contact=contacts[3], total=Decimal("320.00"), due_in_days=20, **quiet)


# Every text names the organisation it comes from: a tenant may speak for several.
_DUE = (
    "invoice {{ invoice_number }} from {{ organisation_name }} for {{ amount_due }} is due "
    "{{ due_date }}: {{ online_invoice_url }}"
)


def segment_templates_for_demo(*, tenant, organisation: Organisation) -> None:
    """Invoice texts for Kauri Bakery's Region: North line items, and for its customers in
    Australia and the United Kingdom, so the demo shows segments at work (idempotent)."""
    from messaging.models import MessageTemplate

    north = TrackingOption.objects.get(category__organisation=organisation, name="North")
    common = {"tenant": tenant, "kind": "invoice_issued", "channel": "sms"}
    MessageTemplate.objects.bulk_create(
        [
            MessageTemplate(
                **common,
                tracking_category_id=str(north.category.category_id),
                tracking_option_id=str(north.option_id),
                tracking_label=str(north),
                body="Northern run: hi {{ first_name }}, " + _DUE,
            ),
            MessageTemplate(**common, country="AU", body="G'day {{ first_name }}, " + _DUE),
            MessageTemplate(**common, country="GB", body="Hello {{ first_name }}, " + _DUE),
        ],
        ignore_conflicts=True,
    )


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
