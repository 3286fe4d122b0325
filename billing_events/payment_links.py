"""Dunwell's own payment link, /pay/<token>/, which leads to the invoice's Xero online invoice.

Why not put Xero's OnlineInvoiceUrl in the message directly: fetching it costs one API call per
invoice (GET /Invoices/{id}/OnlineInvoice, FACTS.md), and a run of 100 invoices approved together
would spend more than the organisation's 60 calls a minute before the first text went out — or
leave most texts without a link. Our link costs nothing to make; Xero is asked once, when a
customer first clicks, and the answer is cached on the snapshot. It is also shorter (fewer SMS
segments), and it can say "already paid" instead of opening a paid invoice.
"""

import logging
from dataclasses import dataclass

from django.conf import settings
from django.urls import reverse

from connections.selectors import connection_for_xero_tenant
from connections.xero import XeroClient, XeroError
from snapshots.models import InvoiceSnapshot, pay_token_new

logger = logging.getLogger(__name__)

CLOSED_STATUSES = {"VOIDED", "DELETED"}


def invoice_pay_url(*, snapshot: InvoiceSnapshot) -> str:
    """The public link for this invoice, minting its token the first time it is needed (a
    snapshot stored before tokens came with every new one)."""
    if not snapshot.pay_token:
        token = pay_token_new()
        # Conditional: if a concurrent worker minted one first, keep theirs.
        InvoiceSnapshot.objects.filter(pk=snapshot.pk, pay_token__isnull=True).update(
            pay_token=token
        )
        snapshot.pay_token = InvoiceSnapshot.objects.values_list("pay_token", flat=True).get(
            pk=snapshot.pk
        )
    return settings.PUBLIC_BASE_URL + reverse("invoice-pay", args=[snapshot.pay_token])


@dataclass(frozen=True)
class PayTarget:
    """Where a click on a payment link goes: Xero's page, or a page of ours explaining why not."""

    outcome: str  # "redirect", "paid", "closed", "unavailable"
    invoice: InvoiceSnapshot
    url: str = ""


def invoice_pay_target(*, snapshot: InvoiceSnapshot) -> PayTarget:
    if snapshot.status == "PAID" or (snapshot.status == "AUTHORISED" and snapshot.amount_due <= 0):
        return PayTarget("paid", snapshot)
    if snapshot.status in CLOSED_STATUSES:
        return PayTarget("closed", snapshot)
    if snapshot.online_invoice_url:
        return PayTarget("redirect", snapshot, snapshot.online_invoice_url)
    connection = connection_for_xero_tenant(snapshot.xero_tenant_id)
    if connection is None:
        return PayTarget("unavailable", snapshot)
    try:
        url = XeroClient(connection).get_online_invoice_url(snapshot.invoice_id)
    except XeroError as error:
        logger.warning(
            "online invoice lookup failed tenant=%s status=%s", snapshot.tenant_id, error.status
        )
        return PayTarget("unavailable", snapshot)
    if not url:
        return PayTarget("unavailable", snapshot)
    InvoiceSnapshot.objects.filter(pk=snapshot.pk).update(online_invoice_url=url)
    return PayTarget("redirect", snapshot, url)
