from datetime import timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from billing_events.models import ContactSnapshot, InvoiceSnapshot, XeroEvent
from billing_events.payment_links import invoice_pay_url
from billing_events.services import contact_card
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


def invoice_ids_numbered(*, tenant: Tenant, number: str) -> list[str]:
    """Xero InvoiceIDs of the tenant's invoices with this number (one per organisation at most)."""
    return list(
        InvoiceSnapshot.objects.filter(tenant=tenant, number=number).values_list(
            "invoice_id", flat=True
        )
    )


def invoice_message_inputs(*, tenant: Tenant, invoice_id: str) -> tuple[ContactCard, dict] | None:
    """The contact and context a message about this invoice would be rendered with, or None.

    The same values processing passes to messaging.notify (billing_events.services), so a
    preview reads as the real message would; `days_overdue` is counted in the tenant's time zone.
    """
    snapshot = InvoiceSnapshot.objects.filter(tenant=tenant, invoice_id=invoice_id).first()
    if snapshot is None:
        return None
    contact = ContactSnapshot.objects.filter(
        xero_tenant_id=snapshot.xero_tenant_id, contact_id=snapshot.contact_id
    ).first()
    card = (
        contact_card(snapshot=contact)
        if contact
        else ContactCard(contact_id=snapshot.contact_id, name="")
    )
    organisation = (
        XeroConnection.objects.filter(tenant=tenant, xero_tenant_id=snapshot.xero_tenant_id)
        .order_by("-connected_at")
        .values_list("name", flat=True)
        .first()
    )
    context = {
        "invoice_number": snapshot.number,
        "reference": snapshot.reference,
        "total": snapshot.total,
        "amount_due": snapshot.amount_due,
        "amount_paid": snapshot.amount_paid,
        "currency": snapshot.currency,
        "due_date": snapshot.due_date,
        "organisation_name": organisation or "",
        "online_invoice_url": invoice_pay_url(snapshot=snapshot),
    }
    if snapshot.due_date:
        today = timezone.localdate(timezone=ZoneInfo(tenant.timezone))
        context["days_overdue"] = max((today - snapshot.due_date).days, 0)
    return card, context
