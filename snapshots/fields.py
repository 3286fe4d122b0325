"""What a record fetched from Xero says, as the columns of its snapshot — pure functions.

Each takes the record as Xero's API returns it (FACTS.md "Xero: accounting API") and returns the
snapshot's field values; billing_events.transitions compares them with what was there before.
"""

from datetime import date, datetime

from connections.xero_format import parse_money, parse_xero_date
from snapshots.contacts import ContactCard, phone_choose
from snapshots.locations import contact_location


def is_stale(previous, updated: datetime | None) -> bool:
    """Whether a record Xero last updated at `updated` is older than its snapshot `previous`
    (None: never seen): deliveries arrive out of order (FACTS.md "Xero: webhooks")."""
    return bool(
        previous is not None
        and previous.updated_date_utc
        and updated
        and updated < previous.updated_date_utc
    )


def xero_day(value: str | None) -> date | None:
    moment = parse_xero_date(value)
    return moment.date() if moment else None


def invoice_fields(xero_invoice: dict) -> dict:
    return {
        "type": xero_invoice.get("Type", ""),
        "status": xero_invoice.get("Status", ""),
        "number": xero_invoice.get("InvoiceNumber") or "",
        "reference": xero_invoice.get("Reference") or "",
        "contact_id": (xero_invoice.get("Contact") or {}).get("ContactID", ""),
        "currency": xero_invoice.get("CurrencyCode") or "",
        "total": parse_money(xero_invoice.get("Total")),
        "amount_due": parse_money(xero_invoice.get("AmountDue")),
        "amount_paid": parse_money(xero_invoice.get("AmountPaid")),
        "due_date": xero_day(xero_invoice.get("DueDate")),
        "tracking": invoice_tracking_options(xero_invoice),
        "payments": invoice_payments(xero_invoice),
        "updated_date_utc": parse_xero_date(xero_invoice.get("UpdatedDateUTC")),
    }


def invoice_payments(xero_invoice: dict) -> list[dict]:
    """The invoice's live payments (a DELETED one is gone), as JSON-safe text."""
    return [
        {
            "payment_id": payment["PaymentID"],
            "amount": str(parse_money(payment.get("Amount"))),
            "date": day.isoformat() if (day := xero_day(payment.get("Date"))) else "",
        }
        for payment in xero_invoice.get("Payments") or []
        if payment.get("PaymentID") and payment.get("Status", "AUTHORISED") != "DELETED"
    ]


def invoice_tracking_options(xero_invoice: dict) -> list[dict]:
    """Each tracking option on the invoice's line items once, in a stable order."""
    options = {}
    for line in xero_invoice.get("LineItems") or []:
        for tag in (line or {}).get("Tracking") or []:
            option_id = str((tag or {}).get("TrackingOptionID") or "")
            if option_id:
                options[option_id] = {
                    "category_id": str(tag.get("TrackingCategoryID") or ""),
                    "option_id": option_id,
                    "category": str(tag.get("Name") or ""),
                    "option": str(tag.get("Option") or ""),
                }
    return sorted(options.values(), key=lambda o: (o["category"], o["option"], o["option_id"]))


def credit_note_fields(xero_credit_note: dict) -> dict:
    return {
        "type": xero_credit_note.get("Type", ""),
        "status": xero_credit_note.get("Status", ""),
        "number": xero_credit_note.get("CreditNoteNumber") or "",
        "reference": xero_credit_note.get("Reference") or "",
        "contact_id": (xero_credit_note.get("Contact") or {}).get("ContactID", ""),
        "currency": xero_credit_note.get("CurrencyCode") or "",
        "total": parse_money(xero_credit_note.get("Total")),
        "updated_date_utc": parse_xero_date(xero_credit_note.get("UpdatedDateUTC")),
    }


def _phone_texted(phones: list[dict], *, tenant_country: str, **where) -> str:
    """The number Dunwell texts (phone_choose, read where phone_region says) as E.164, or "":
    the snapshot keeps it so a customer's reply is matched by index."""
    card = ContactCard(contact_id="", name="", phones=tuple(phones), **where)
    return phone_choose(card, default_country=tenant_country).e164 or ""


def contact_fields(
    xero_contact: dict, *, organisation_country: str = "", tenant_country: str = ""
) -> dict:
    """The countries read local phone numbers, to place a contact that has no address."""
    groups = xero_contact.get("ContactGroups") or []
    phones = [
        {
            key: phone.get(key, "")
            for key in ("PhoneType", "PhoneNumber", "PhoneAreaCode", "PhoneCountryCode")
        }
        for phone in xero_contact.get("Phones") or []
    ]
    country, region, source = contact_location(
        addresses=xero_contact.get("Addresses") or [],
        phones=phones,
        organisation_country=organisation_country,
        tenant_country=tenant_country,
    )
    return {
        "name": xero_contact.get("Name") or "",
        "first_name": xero_contact.get("FirstName") or "",
        "email": xero_contact.get("EmailAddress") or "",
        "phones": phones,
        "phone_e164": _phone_texted(
            phones,
            country=country,
            country_source=source,
            organisation_country=organisation_country,
            tenant_country=tenant_country,
        ),
        "group_ids": [group["ContactGroupID"] for group in groups if group.get("ContactGroupID")],
        "group_names": [group["Name"] for group in groups if group.get("Name")],
        "archived": xero_contact.get("ContactStatus") == "ARCHIVED",
        "country": country,
        "region": region,
        "country_source": source,
        "updated_date_utc": parse_xero_date(xero_contact.get("UpdatedDateUTC")),
    }
