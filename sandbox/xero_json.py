"""Sandbox rows rendered as Xero's accounting API renders them (specs/xero/xero_accounting.yaml).

Dates are `/Date(ms+0000)/` with `…DateString` twins, money is a JSON number, every list sits in
an envelope with Id, Status, ProviderName and DateTimeUTC, and a contact always carries Xero's
four phone slots (DEFAULT, DDI, FAX, MOBILE), blank where unset.
"""

import uuid
from datetime import UTC, date, datetime, time
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from sandbox.models import Contact, CreditNote, Invoice, Organisation, Payment, TrackingCategory

PHONE_TYPES = ("DEFAULT", "DDI", "FAX", "MOBILE")
ADDRESS_TYPES = ("POBOX", "STREET")
ADDRESS_FIELDS = ("AddressLine1", "City", "Region", "PostalCode", "Country")


def ms_date(value: date | datetime | None) -> str | None:
    if value is None:
        return None
    if not isinstance(value, datetime):
        value = datetime.combine(value, time.min, tzinfo=UTC)
    return f"/Date({int(value.timestamp() * 1000)}+0000)/"


def date_string(value: date | None) -> str | None:
    return f"{value.isoformat()}T00:00:00" if value else None


def money(value: Decimal) -> float:
    # JSON numbers like Xero's; two decimal places are exact in a float's shortest repr.
    return float(value)


def envelope(key: str, items: list, *, pagination: dict | None = None) -> dict:
    result = {
        "Id": str(uuid.uuid4()),
        "Status": "OK",
        "ProviderName": "Dunwell Sandbox",
        "DateTimeUTC": ms_date(timezone.now()).replace("+0000", ""),
    }
    if pagination is not None:
        result["pagination"] = pagination
    result[key] = items
    return result


def contact_phones(contact: Contact) -> list[dict]:
    stored = {phone.get("PhoneType"): phone for phone in contact.phones}
    return [
        {
            "PhoneType": phone_type,
            "PhoneNumber": stored.get(phone_type, {}).get("PhoneNumber", ""),
            "PhoneAreaCode": stored.get(phone_type, {}).get("PhoneAreaCode", ""),
            "PhoneCountryCode": stored.get(phone_type, {}).get("PhoneCountryCode", ""),
        }
        for phone_type in PHONE_TYPES
    ]


def contact_addresses(contact: Contact) -> list[dict]:
    """Xero lists a POBOX and a STREET address for every contact, blank where unset."""
    stored = {address.get("AddressType"): address for address in contact.addresses}
    return [
        {
            "AddressType": address_type,
            **{name: stored.get(address_type, {}).get(name, "") for name in ADDRESS_FIELDS},
        }
        for address_type in ADDRESS_TYPES
    ]


def contact_summary(contact: Contact) -> dict:
    """The contact embedded in an invoice: a summary, not the full record (FACTS.md)."""
    return {
        "ContactID": str(contact.contact_id),
        "Name": contact.name,
        "Addresses": [],
        "Phones": [],
        "ContactGroups": [],
        "ContactPersons": [],
        "HasValidationErrors": False,
    }


def group_json(group, *, with_contacts: bool = False) -> dict:
    result = {
        "ContactGroupID": str(group.group_id),
        "Name": group.name,
        "Status": group.status,
        "HasValidationErrors": False,
    }
    if with_contacts:
        result["Contacts"] = []
    return result


def contact_json(contact: Contact) -> dict:
    return {
        "ContactID": str(contact.contact_id),
        "ContactStatus": "ACTIVE",
        "Name": contact.name,
        "FirstName": contact.first_name,
        "LastName": contact.last_name,
        "EmailAddress": contact.email,
        "BankAccountDetails": "",
        "ContactPersons": [],
        "Addresses": contact_addresses(contact),
        "Phones": contact_phones(contact),
        "UpdatedDateUTC": ms_date(contact.updated_at),
        "ContactGroups": [group_json(group) for group in contact.groups.all()],
        "IsSupplier": False,
        "IsCustomer": True,
        "DefaultCurrency": contact.organisation.base_currency,
        "HasAttachments": False,
        "HasValidationErrors": False,
    }


def _line_items(description: str, amount: Decimal, tracking=()) -> list[dict]:
    return [
        {
            "LineItemID": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{description}:{amount}")),
            "Description": description,
            "Quantity": 1.0,
            "UnitAmount": money(amount),
            "TaxType": "NONE",
            "TaxAmount": 0.0,
            "LineAmount": money(amount),
            "AccountCode": "200",
            "Tracking": [
                {
                    "TrackingCategoryID": str(option.category.category_id),
                    "TrackingOptionID": str(option.option_id),
                    "Name": option.category.name,
                    "Option": option.name,
                }
                for option in tracking
            ],
        }
    ]


def tracking_category_json(category: TrackingCategory, *, shown: tuple[str, ...]) -> dict:
    """The category with those of its options whose Status is `shown`."""
    return {
        "Name": category.name,
        "Status": category.status,
        "TrackingCategoryID": str(category.category_id),
        "Options": [
            {
                "TrackingOptionID": str(option.option_id),
                "Name": option.name,
                "Status": option.status,
            }
            for option in category.options.all()
            if option.status in shown
        ],
    }


def payment_summary(payment: Payment) -> dict:
    return {
        "PaymentID": str(payment.payment_id),
        "Date": ms_date(payment.date),
        "Amount": money(payment.amount),
        "Reference": payment.reference,
        "CurrencyRate": 1.0,
        "HasAccount": False,
        "HasValidationErrors": False,
    }


def invoice_json(invoice: Invoice) -> dict:
    currency = invoice.organisation.base_currency
    result = {
        "Type": invoice.type,
        "InvoiceID": str(invoice.invoice_id),
        "InvoiceNumber": invoice.invoice_number,
        "Reference": invoice.reference,
        "Payments": [payment_summary(payment) for payment in invoice.payments.all()],
        "CreditNotes": [
            {
                "CreditNoteID": str(note.credit_note_id),
                "CreditNoteNumber": note.credit_note_number,
                "AppliedAmount": money(note.total),
                "Date": ms_date(note.date),
                "DateString": date_string(note.date),
                "Total": money(note.total),
                "LineItems": [],
            }
            for note in invoice.credit_notes.all()
        ],
        "Prepayments": [],
        "Overpayments": [],
        "AmountDue": money(invoice.amount_due),
        "AmountPaid": money(invoice.amount_paid),
        "AmountCredited": money(invoice.amount_credited),
        "CurrencyRate": 1.0,
        "IsDiscounted": False,
        "HasAttachments": False,
        "HasErrors": False,
        "SentToContact": invoice.status != Invoice.Status.DRAFT,
        "Contact": contact_summary(invoice.contact),
        "DateString": date_string(invoice.date),
        "Date": ms_date(invoice.date),
        "DueDateString": date_string(invoice.due_date),
        "DueDate": ms_date(invoice.due_date),
        "Status": invoice.status,
        "LineAmountTypes": "Exclusive",
        "LineItems": _line_items(
            invoice.description,
            invoice.total - invoice.total_tax,
            invoice.tracking_options.all(),
        ),
        "SubTotal": money(invoice.total - invoice.total_tax),
        "TotalTax": money(invoice.total_tax),
        "Total": money(invoice.total),
        "UpdatedDateUTC": ms_date(invoice.updated_at),
        "CurrencyCode": currency,
    }
    if invoice.fully_paid_on:
        result["FullyPaidOnDate"] = ms_date(invoice.fully_paid_on)
    return result


def invoice_stub(invoice: Invoice) -> dict:
    """The invoice nested in a payment or an allocation: identity only, empty lists."""
    return {
        "Type": invoice.type,
        "InvoiceID": str(invoice.invoice_id),
        "InvoiceNumber": invoice.invoice_number,
        "Payments": [],
        "CreditNotes": [],
        "Prepayments": [],
        "Overpayments": [],
        "HasErrors": False,
        "IsDiscounted": False,
        "HasAttachments": False,
        "LineItems": [],
        "CurrencyCode": invoice.organisation.base_currency,
    }


def credit_note_json(note: CreditNote) -> dict:
    allocations = []
    if note.invoice is not None:
        allocations.append(
            {
                "Amount": money(note.total),
                "Date": ms_date(note.date),
                "Invoice": invoice_stub(note.invoice),
            }
        )
    remaining = Decimal("0") if note.invoice is not None else note.total
    return {
        "CreditNoteID": str(note.credit_note_id),
        "CreditNoteNumber": note.credit_note_number,
        "Type": note.type,
        "Reference": note.reference,
        "RemainingCredit": money(remaining),
        "Allocations": allocations,
        "Payments": [],
        "HasAttachments": False,
        "HasErrors": False,
        "Contact": contact_summary(note.contact),
        "DateString": date_string(note.date),
        "Date": ms_date(note.date),
        "Status": "PAID"
        if note.invoice is not None and note.status == "AUTHORISED"
        else note.status,
        "LineAmountTypes": "Exclusive",
        "LineItems": _line_items("Credit", note.total),
        "SubTotal": money(note.total),
        "TotalTax": 0.0,
        "Total": money(note.total),
        "UpdatedDateUTC": ms_date(note.updated_at),
        "CurrencyCode": note.organisation.base_currency,
        "CurrencyRate": 1.0,
    }


def payment_json(payment: Payment) -> dict:
    invoice = payment.invoice
    return {
        **payment_summary(payment),
        "BankAmount": money(payment.amount),
        "PaymentType": "ACCRECPAYMENT",
        "Status": payment.status,
        "UpdatedDateUTC": ms_date(payment.updated_at),
        "IsReconciled": False,
        "Account": {"AccountID": str(uuid.uuid5(uuid.NAMESPACE_DNS, "bank")), "Code": "090"},
        "Invoice": {**invoice_stub(invoice), "Contact": contact_summary(invoice.contact)},
    }


def organisation_json(organisation: Organisation) -> dict:
    return {
        "OrganisationID": str(organisation.organisation_id),
        "APIKey": "",
        "Name": organisation.name,
        "LegalName": organisation.name,
        "PaysTax": True,
        "Version": organisation.version,
        "OrganisationType": "COMPANY",
        "BaseCurrency": organisation.base_currency,
        "CountryCode": organisation.country_code,
        "IsDemoCompany": False,
        "OrganisationStatus": "ACTIVE",
        "FinancialYearEndDay": 31,
        "FinancialYearEndMonth": 3,
        "SalesTaxBasis": "ACCRUALS",
        "SalesTaxPeriod": "TWOMONTHS",
        "DefaultSalesTax": "Tax Exclusive",
        "DefaultPurchasesTax": "Tax Exclusive",
        "CreatedDateUTC": ms_date(organisation.created_at),
        "OrganisationEntityType": "COMPANY",
        "Timezone": organisation.timezone,
        "ShortCode": organisation.short_code,
        "Edition": "BUSINESS",
        "Class": "PREMIUM",
        "Addresses": [],
        "Phones": [],
        "ExternalLinks": [],
        "PaymentTerms": {},
    }


def online_invoice_url(invoice: Invoice) -> str:
    return f"{settings.PUBLIC_BASE_URL}/sandbox/xero/in/{invoice.online_token}/"


def connection_json(connection) -> dict:
    return {
        "id": str(connection.connection_id),
        "authEventId": str(connection.auth_event_id),
        "tenantId": str(connection.organisation.tenant_id),
        "tenantType": "ORGANISATION",
        "tenantName": connection.organisation.name,
        "createdDateUtc": connection.created_at.replace(tzinfo=None).isoformat(),
        "updatedDateUtc": connection.updated_at.replace(tzinfo=None).isoformat(),
    }
