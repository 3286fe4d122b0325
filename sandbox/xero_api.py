"""Reads and limits behind the sandbox accounting API (FACTS.md "Xero: accounting API")."""

import math
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.http import parse_http_date_safe

from sandbox import xero_json
from sandbox.models import (
    ApiCall,
    Connection,
    Contact,
    ContactGroup,
    CreditNote,
    Grant,
    Invoice,
    Organisation,
    Payment,
    TrackingCategory,
)
from sandbox.xero_where import WhereError, where_matches, where_parse

MINUTE_LIMIT = 60
DAY_LIMIT = 5000
APP_MINUTE_LIMIT = 10000
PAGE_SIZE = 100
# Longer IDs= lists make URLs Xero answers with 404 (FACTS.md): the sandbox draws the line at 50.
MAX_IDS = 50


class ApiError(Exception):
    def __init__(self, status: int, body: dict | str, headers: dict | None = None):
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}


def problem(status: int, title: str, detail: str) -> dict:
    return {
        "Type": None,
        "Title": title,
        "Status": status,
        "Detail": detail,
        "Instance": str(uuid.uuid4()),
        "Extensions": {},
    }


def validation_error(kind: str, message: str) -> ApiError:
    return ApiError(400, {"ErrorNumber": 16, "Type": kind, "Message": message})


def organisation_for(*, grant: Grant, xero_tenant_id: str) -> Organisation:
    """The organisation named by the Xero-tenant-id header, if this grant may reach it."""
    try:
        tenant_id = uuid.UUID(xero_tenant_id)
    except ValueError:
        tenant_id = None
    connection = (
        Connection.objects.select_related("organisation")
        .filter(organisation__tenant_id=tenant_id)
        .first()
    )
    if connection is None or grant.revoked_at is not None:
        raise ApiError(403, problem(403, "Forbidden", "AuthenticationUnsuccessful"))
    return connection.organisation


@dataclass
class Budget:
    minute_remaining: int
    day_remaining: int
    app_minute_remaining: int
    problem: str = ""
    retry_after: int = 0
    headers: dict = field(init=False)

    def __post_init__(self):
        self.headers = {
            "X-MinLimit-Remaining": str(self.minute_remaining),
            "X-DayLimit-Remaining": str(self.day_remaining),
            "X-AppMinLimit-Remaining": str(self.app_minute_remaining),
        }
        if self.problem:
            self.headers["Retry-After"] = str(self.retry_after)
            self.headers["X-Rate-Limit-Problem"] = self.problem


def api_call_admit(*, organisation: Organisation) -> Budget:
    """Count one call against the limits, or refuse it with the budget that says why."""
    now = timezone.now()
    minute_ago, day_ago = now - timedelta(minutes=1), now - timedelta(days=1)
    with transaction.atomic():
        # One organisation's calls are counted one at a time (a row lock; IMMEDIATE on SQLite).
        Organisation.objects.select_for_update().filter(pk=organisation.pk).first()
        ApiCall.objects.filter(made_at__lt=day_ago).delete()
        calls = ApiCall.objects.filter(organisation=organisation)
        minute = calls.filter(made_at__gt=minute_ago)
        used_minute, used_day = minute.count(), calls.filter(made_at__gt=day_ago).count()
        used_app = ApiCall.objects.filter(made_at__gt=minute_ago).count()
        refusal = ""
        if used_minute >= MINUTE_LIMIT:
            refusal, window = "minute", minute
        elif used_day >= DAY_LIMIT:
            refusal, window = "day", calls.filter(made_at__gt=day_ago)
        elif used_app >= APP_MINUTE_LIMIT:
            refusal, window = "appminute", ApiCall.objects.filter(made_at__gt=minute_ago)
        if refusal:
            oldest = window.order_by("made_at").values_list("made_at", flat=True).first()
            span = timedelta(days=1) if refusal == "day" else timedelta(minutes=1)
            wait = max(1, math.ceil((oldest + span - now).total_seconds()))
            return Budget(
                max(0, MINUTE_LIMIT - used_minute),
                max(0, DAY_LIMIT - used_day),
                max(0, APP_MINUTE_LIMIT - used_app),
                problem=refusal,
                retry_after=wait,
            )
        ApiCall.objects.create(organisation=organisation, made_at=now)
    return Budget(
        MINUTE_LIMIT - used_minute - 1, DAY_LIMIT - used_day - 1, APP_MINUTE_LIMIT - used_app - 1
    )


# --- query helpers ------------------------------------------------------------------------------


def modified_since(header: str) -> datetime | None:
    """If-Modified-Since as an HTTP date or ISO 8601 (the spec's example is ISO)."""
    if not header:
        return None
    stamp = parse_http_date_safe(header)
    if stamp is not None:
        return datetime.fromtimestamp(stamp, tz=UTC)
    try:
        parsed = datetime.fromisoformat(header.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _csv(query, name: str) -> list[str]:
    values = [part.strip() for part in query.get(name, "").split(",") if part.strip()]
    if len(values) > MAX_IDS and name.endswith("IDs"):
        raise ApiError(404, "The resource you're looking for cannot be found")
    return values


def _uuids(query, name: str) -> list[uuid.UUID]:
    try:
        return [uuid.UUID(value) for value in _csv(query, name)]
    except ValueError:
        raise validation_error("ValidationException", f"{name} must be Guids") from None


def _page(query, rows: list, key: str, render) -> dict:
    if "page" not in query:
        return xero_json.envelope(key, [render(row) for row in rows])
    try:
        page = max(1, int(query["page"]))
        size = min(1000, max(1, int(query.get("pageSize", PAGE_SIZE))))
    except ValueError:
        raise validation_error("ValidationException", "page must be a number") from None
    chunk = rows[(page - 1) * size : page * size]
    pagination = {
        "page": page,
        "pageSize": size,
        "pageCount": math.ceil(len(rows) / size),
        "itemCount": len(rows),
    }
    return xero_json.envelope(key, [render(row) for row in chunk], pagination=pagination)


def _where(query, rows: list, fields: dict) -> list:
    if not query.get("where"):
        return rows
    try:
        groups = where_parse(query["where"], fields)
    except WhereError as exc:
        raise validation_error("QueryParseException", str(exc)) from None
    return [row for row in rows if where_matches(groups, row)]


INVOICE_FIELDS = {
    "Type": lambda i: i.type,
    "Status": lambda i: i.status,
    "AmountDue": lambda i: i.amount_due,
    "AmountPaid": lambda i: i.amount_paid,
    "Total": lambda i: i.total,
    "Date": lambda i: i.date,
    "DueDate": lambda i: i.due_date,
    "InvoiceNumber": lambda i: i.invoice_number,
    "Reference": lambda i: i.reference,
    "InvoiceID": lambda i: i.invoice_id,
    "Contact.ContactID": lambda i: i.contact.contact_id,
    "Contact.Name": lambda i: i.contact.name,
}


def invoices_list(*, organisation: Organisation, query, since: datetime | None) -> dict:
    invoices = Invoice.objects.filter(organisation=organisation).select_related(
        "contact", "organisation"
    )
    if ids := _uuids(query, "IDs"):
        invoices = invoices.filter(invoice_id__in=ids)
    if contact_ids := _uuids(query, "ContactIDs"):
        invoices = invoices.filter(contact__contact_id__in=contact_ids)
    if statuses := _csv(query, "Statuses"):
        invoices = invoices.filter(status__in=[status.upper() for status in statuses])
    if numbers := _csv(query, "InvoiceNumbers"):
        invoices = invoices.filter(invoice_number__in=numbers)
    if since is not None:
        invoices = invoices.filter(updated_at__gte=since)
    order = query.get("order", "").split()
    if order and order[0].lower() == "updateddateutc":
        invoices = invoices.order_by("updated_at" if order[-1].upper() != "DESC" else "-updated_at")
    rows = _where(
        query,
        list(invoices.prefetch_related("payments", "credit_notes", "tracking_options__category")),
        INVOICE_FIELDS,
    )
    return _page(query, rows, "Invoices", xero_json.invoice_json)


def invoice_get(*, organisation: Organisation, invoice_id: str) -> dict:
    invoice = _invoice(organisation, invoice_id)
    return xero_json.envelope("Invoices", [xero_json.invoice_json(invoice)])


def _invoice(organisation: Organisation, invoice_id: str) -> Invoice:
    try:
        return Invoice.objects.get(organisation=organisation, invoice_id=uuid.UUID(invoice_id))
    except (ValueError, Invoice.DoesNotExist):
        raise ApiError(404, "The resource you're looking for cannot be found") from None


def online_invoice_get(*, organisation: Organisation, invoice_id: str) -> dict:
    invoice = _invoice(organisation, invoice_id)
    if invoice.status == Invoice.Status.DRAFT or invoice.type != "ACCREC":
        raise validation_error(
            "ValidationException", "Online invoices are only available for approved sales invoices"
        )
    url = xero_json.online_invoice_url(invoice)
    return xero_json.envelope("OnlineInvoices", [{"OnlineInvoiceUrl": url}])


def contacts_list(*, organisation: Organisation, query, since: datetime | None) -> dict:
    contacts = Contact.objects.filter(organisation=organisation).select_related("organisation")
    if ids := _uuids(query, "IDs"):
        contacts = contacts.filter(contact_id__in=ids)
    if since is not None:
        contacts = contacts.filter(updated_at__gte=since)
    rows = list(contacts.prefetch_related("groups"))
    return _page(query, rows, "Contacts", xero_json.contact_json)


def contact_groups_list(*, organisation: Organisation) -> dict:
    groups = ContactGroup.objects.filter(organisation=organisation)
    return xero_json.envelope(
        "ContactGroups", [xero_json.group_json(group, with_contacts=True) for group in groups]
    )


def tracking_categories_list(*, organisation: Organisation, query) -> dict:
    """ACTIVE categories and options; ARCHIVED ones too with includeArchived=true. Deleted ones
    are never listed (specs/xero: getTrackingCategories)."""
    shown = (
        ("ACTIVE", "ARCHIVED")
        if query.get("includeArchived", "").lower() == "true"
        else ("ACTIVE",)
    )
    categories = TrackingCategory.objects.filter(
        organisation=organisation, status__in=shown
    ).prefetch_related("options")
    return xero_json.envelope(
        "TrackingCategories",
        [xero_json.tracking_category_json(category, shown=shown) for category in categories],
    )


def credit_notes_list(*, organisation: Organisation, query, since: datetime | None) -> dict:
    notes = CreditNote.objects.filter(organisation=organisation).select_related(
        "contact", "invoice", "organisation"
    )
    if ids := _uuids(query, "IDs"):
        notes = notes.filter(credit_note_id__in=ids)
    if since is not None:
        notes = notes.filter(updated_at__gte=since)
    return _page(query, list(notes), "CreditNotes", xero_json.credit_note_json)


def payments_list(*, organisation: Organisation, query, since: datetime | None) -> dict:
    payments = Payment.objects.filter(organisation=organisation).select_related(
        "invoice__contact", "invoice__organisation"
    )
    if since is not None:
        payments = payments.filter(updated_at__gte=since)
    return _page(query, list(payments), "Payments", xero_json.payment_json)


def organisation_get(*, organisation: Organisation) -> dict:
    return xero_json.envelope("Organisations", [xero_json.organisation_json(organisation)])


def invoice_reminders_get(*, organisation: Organisation) -> dict:
    return xero_json.envelope(
        "InvoiceReminders", [{"Enabled": organisation.invoice_reminders_enabled}]
    )
