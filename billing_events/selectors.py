from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db.models import OuterRef, QuerySet, Subquery
from django.urls import reverse
from django.utils import timezone

from billing_events.models import ContactSnapshot, InvoiceSnapshot, ReminderSent, XeroEvent
from connections.models import Tenant, XeroConnection
from messaging.contacts import ContactCard


def events_oldest_pending_age() -> timedelta | None:
    oldest = (
        XeroEvent.objects.filter(status=XeroEvent.Status.PENDING)
        .order_by("received_at")
        .values_list("received_at", flat=True)
        .first()
    )
    return timezone.now() - oldest if oldest else None


def contact_card(*, snapshot: ContactSnapshot) -> ContactCard:
    return ContactCard(
        contact_id=snapshot.contact_id,
        name=snapshot.name,
        first_name=snapshot.first_name,
        email=snapshot.email,
        phones=tuple(snapshot.phones),
        group_ids=tuple(snapshot.group_ids),
        group_names=tuple(snapshot.group_names),
    )


# --- for the browser app (issue 7): the template editor and the send log ------------------------


@dataclass(frozen=True)
class InvoiceSample:
    """A real invoice of the tenant, as notify() would see it, for previewing templates."""

    contact: ContactCard
    context: dict
    invoice_number: str


# The shape of Dunwell's /pay/<token>/ link (payment_links.invoice_pay_url): a preview shows a
# link of the real length, so the segment count is right, without minting a token.
_SAMPLE_PAY_TOKEN = "Xy7Qa2Lm9Rt4Bv8K"


def invoice_preview_sample(
    *, tenant: Tenant, today: date, invoice_id: str | None = None
) -> InvoiceSample | None:
    """The tenant's invoice with this Xero InvoiceID (the REST API's preview), else its most
    recently seen sales invoice, with its contact; None if there is none."""
    invoices = InvoiceSnapshot.objects.filter(tenant=tenant)
    if invoice_id is None:
        invoices = invoices.filter(type="ACCREC").exclude(
            status__in=("DRAFT", "SUBMITTED", "VOIDED", "DELETED")
        )
    else:
        invoices = invoices.filter(invoice_id=invoice_id)
    invoice = invoices.order_by("-first_seen_at", "-pk").first()
    if invoice is None:
        return None
    snapshot = ContactSnapshot.objects.filter(
        xero_tenant_id=invoice.xero_tenant_id, contact_id=invoice.contact_id
    ).first() or ContactSnapshot(contact_id=invoice.contact_id, name="(contact not imported)")
    organisation = (
        XeroConnection.objects.filter(tenant=tenant, xero_tenant_id=invoice.xero_tenant_id)
        .values_list("name", flat=True)
        .first()
    )
    pay_path = reverse("invoice-pay", args=[invoice.pay_token or _SAMPLE_PAY_TOKEN])
    context = {
        "invoice_number": invoice.number,
        "reference": invoice.reference,
        "total": invoice.total,
        "amount_due": invoice.amount_due,
        "amount_paid": invoice.amount_paid,
        "currency": invoice.currency,
        "due_date": invoice.due_date,
        "online_invoice_url": settings.PUBLIC_BASE_URL + pay_path,
        "organisation_name": organisation or tenant.name,
    }
    if invoice.due_date and invoice.due_date < today:
        context["days_overdue"] = (today - invoice.due_date).days
    return InvoiceSample(
        contact=contact_card(snapshot=snapshot), context=context, invoice_number=invoice.number
    )


def contact_groups_known(*, tenant: Tenant) -> list[tuple[str, str]]:
    """(ContactGroupID, name) of every Xero contact group seen on the tenant's contacts."""
    groups: dict[str, str] = {}
    rows = ContactSnapshot.objects.filter(tenant=tenant)
    for ids, names in rows.values_list("group_ids", "group_names"):
        for group_id, name in zip(ids, names, strict=False):
            groups.setdefault(group_id, name)
    return sorted(groups.items(), key=lambda item: item[1].lower())


def invoice_ids_numbered(*, tenant: Tenant, number: str) -> QuerySet:
    """Xero InvoiceIDs of the tenant's invoices whose number contains `number` (a subquery)."""
    return InvoiceSnapshot.objects.filter(tenant=tenant, number__icontains=number).values(
        "invoice_id"
    )


def invoice_numbers(*, tenant: Tenant, invoice_ids) -> dict[str, str]:
    """InvoiceID → invoice number, for showing numbers beside a page of messages."""
    ids = {invoice_id for invoice_id in invoice_ids if invoice_id}
    if not ids:
        return {}
    rows = InvoiceSnapshot.objects.filter(tenant=tenant, invoice_id__in=ids)
    return dict(rows.values_list("invoice_id", "number"))


# --- for the weekly summary (issue 12) -----------------------------------------------------------


@dataclass(frozen=True)
class PaidAfterReminder:
    invoice_number: str
    reminded_at: datetime
    paid_at: datetime


def invoices_paid_after_reminder(
    *, tenant: Tenant, paid_from: datetime, paid_until: datetime
) -> list[PaidAfterReminder]:
    """Sales invoices paid in [paid_from, paid_until) after a reminder, with the last reminder
    sent before the payment, in one query.

    Paid at: the UpdatedDateUTC of the snapshot that says PAID — Xero's time for the change that
    paid it (snapshots keep no payment times).
    """
    last_reminder = ReminderSent.objects.filter(
        tenant=tenant,
        xero_tenant_id=OuterRef("xero_tenant_id"),
        invoice_id=OuterRef("invoice_id"),
        created_at__lte=OuterRef("updated_date_utc"),
    ).order_by("-created_at")
    paid = (
        InvoiceSnapshot.objects.filter(
            tenant=tenant,
            type="ACCREC",
            status="PAID",
            updated_date_utc__gte=paid_from,
            updated_date_utc__lt=paid_until,
        )
        .annotate(reminded_at=Subquery(last_reminder.values("created_at")[:1]))
        .filter(reminded_at__isnull=False)
        .order_by("updated_date_utc", "number")
    )
    return [
        PaidAfterReminder(invoice_number=number, reminded_at=reminded_at, paid_at=paid_at)
        for number, reminded_at, paid_at in paid.values_list(
            "number", "reminded_at", "updated_date_utc"
        )
    ]
