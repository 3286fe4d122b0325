from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from billing_events.models import ContactSnapshot, InvoiceSnapshot, XeroEvent
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


def contact_card_find(*, tenant: Tenant, contact_id: str) -> ContactCard | None:
    """The tenant's Xero contact with this ContactID as last seen, for its page in messaging."""
    snapshot = (
        ContactSnapshot.objects.filter(tenant=tenant, contact_id=contact_id)
        .order_by("-last_seen_at", "-pk")
        .first()
    )
    return contact_card(snapshot=snapshot) if snapshot else None


def contact_cards_named(*, tenant: Tenant, name: str, limit: int = 50) -> list[ContactCard]:
    """The tenant's Xero contacts whose name contains `name`, by name."""
    snapshots = ContactSnapshot.objects.filter(tenant=tenant, name__icontains=name)
    return [contact_card(snapshot=s) for s in snapshots.order_by("name", "pk")[:limit]]


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
