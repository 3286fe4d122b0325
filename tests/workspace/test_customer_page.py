"""The customer page: their invoices and totals, what Xero holds, how they are reached, and the
timeline across their invoices."""

from datetime import date

import pytest

from messaging.models import Message, OptOut
from snapshots.models import InvoiceSnapshot
from tests.a11y import assert_accessible

pytestmark = pytest.mark.usefixtures("ledger", "on_12_december")

RUAPEHU = "c4a7e5d0-1b2c-4d3e-9f80-a1b2c3d4e5f6"
PAGE = f"/customers/{RUAPEHU}/"


def test_the_customer_page_gathers_invoices_totals_contact_and_timeline(
    staff_client, tenant_a, ledger
):
    InvoiceSnapshot.objects.create(
        tenant=tenant_a, xero_tenant_id=ledger.xero_tenant_id, invoice_id="inv-aud",
        type="ACCREC", status="AUTHORISED", number="INV-0199", contact_id=RUAPEHU,
        currency="AUD", total=120, amount_due=120, due_date=date(2027, 1, 15),
    )  # fmt: skip
    Message.objects.create(
        tenant=tenant_a, kind="credit_note_issued", channel="email", dedup_key="creditnote:c:1",
        contact_id=RUAPEHU, status="sent", recipient="accounts@ruapehu.test",
    )  # fmt: skip
    page = staff_client.get(PAGE).text
    assert_accessible(page)
    assert "<h1>Ruapehu Motors</h1>" in page
    assert ">INV-0142</a>" in page and ">INV-0199</a>" in page and ">INV-0150</a>" not in page
    assert "NZD outstanding</dt><dd>485.00</dd>" in page
    assert "AUD outstanding</dt><dd>120.00</dd>" in page
    assert "Phone for texts</dt><dd>+64215550199</dd>" in page
    assert "Contact groups</dt><dd>Trade customers</dd>" in page or "Contact groups" in page
    assert "Can be reached" in page and "Now: SMS, WhatsApp, Email (your defaults)" in page
    assert "Credit note issued by Email" in page  # a message about no invoice still shows


def test_an_opted_out_customer_says_so(staff_client, tenant_a):
    OptOut.objects.create(tenant=tenant_a, phone="+64215550199")
    page = staff_client.get(PAGE).text
    assert "Opted out: they replied STOP" in page
    assert "None: opted out (replied STOP)" in page  # the invoice row's next step too


def test_another_tenants_customer_is_404(client, tenant_b):
    client.force_login(tenant_b.memberships.first().user)
    assert client.get(PAGE).status_code == 404
