"""The /pay/<token>/ link in every message: Xero is asked once, on the first click."""

import pytest

from billing_events.payment_links import invoice_pay_url
from snapshots.models import InvoiceSnapshot
from tests.billing_events.helpers import ONLINE_INVOICE, api_json

XERO_PAGE = "https://in.xero.com/iztKMjyAEJT7MVnmruxgCdIJUDStfRgmtXrpYqrq"


@pytest.fixture
def invoice(connection):
    return InvoiceSnapshot.objects.create(
        tenant=connection.tenant,
        xero_tenant_id=connection.xero_tenant_id,
        invoice_id="b6c6fcb8-3e4b-4c4e-9d6b-7a2f0c1e9d11",
        type="ACCREC",
        status="AUTHORISED",
        number="INV-0142",
        amount_due="485.00",
    )


def _path(snapshot):
    return invoice_pay_url(snapshot=snapshot).removeprefix("http://127.0.0.1:8000")


def test_the_first_click_asks_xero_and_later_clicks_use_the_cached_page(client, invoice, xero_api):
    xero_api.get(ONLINE_INVOICE, json=api_json("online_invoice"))
    path = _path(invoice)

    first = client.get(path)
    second = client.get(path)

    assert (first.status_code, first["Location"]) == (302, XERO_PAGE)
    assert (second.status_code, second["Location"]) == (302, XERO_PAGE)
    assert len(xero_api.calls) == 1


def test_the_link_is_stable_and_unguessable(invoice):
    url = invoice_pay_url(snapshot=invoice)
    invoice.refresh_from_db()
    assert url == invoice_pay_url(snapshot=invoice)
    assert len(invoice.pay_token) >= 16


def test_a_paid_invoice_says_thank_you_without_asking_xero(client, invoice, xero_api):
    path = _path(invoice)
    InvoiceSnapshot.objects.filter(pk=invoice.pk).update(status="PAID", amount_due=0)
    response = client.get(path)
    assert response.status_code == 200
    assert b"is paid" in response.content
    assert not xero_api.calls


def test_a_voided_invoice_says_there_is_nothing_to_pay(client, invoice, xero_api):
    path = _path(invoice)
    InvoiceSnapshot.objects.filter(pk=invoice.pk).update(status="VOIDED")
    assert b"nothing to pay" in client.get(path).content


def test_xero_failing_gives_a_page_that_says_try_again_not_a_500(client, invoice, xero_api):
    xero_api.get(ONLINE_INVOICE, status=404, json={"Message": "not found"})
    response = client.get(_path(invoice))
    assert response.status_code == 503
    assert b"try again in a minute" in response.content


def test_an_unknown_token_is_404(client, db):
    assert client.get("/pay/not-a-real-token/").status_code == 404
