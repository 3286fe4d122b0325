"""Replay recorded-shape Xero payloads: webhook fixtures are signed here, at test time."""

import json
import re
from pathlib import Path

from django.conf import settings

from billing_events.webhooks import xero_signature

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "xero"
WEBHOOK_URL = "/webhooks/xero/"

# The organisation every fixture speaks about (its tenantId), and the records in it.
XERO_TENANT_ID = "b7a6e1d2-3c4f-4a5b-8c9d-0e1f2a3b4c5d"
INVOICE_ID = "243216c5-369e-4056-ac67-05388f86dc81"
CONTACT_ID = "c4a7e5d0-1b2c-4d3e-9f80-a1b2c3d4e5f6"
CREDIT_NOTE_ID = "55d84274-a3da-4829-a7c0-0cab601b95cc"
FIRST_PAYMENT_ID = "0d666415-cf77-43fa-80c7-56775591d426"
SECOND_PAYMENT_ID = "a7ad4c1b-7f42-4c4e-9a55-1e2b3c4d5e6f"


def webhook_body(name: str) -> bytes:
    return (FIXTURES / "webhooks" / f"{name}.json").read_bytes()


def api_json(name: str) -> dict:
    return json.loads((FIXTURES / "api" / f"{name}.json").read_text())


def post_xero_webhook(client, name: str, *, signature: str | None = None, body: bytes = b""):
    """POST a stored delivery byte for byte, signed with the webhook key unless told otherwise."""
    body = body or webhook_body(name)
    if signature is None:
        signature = xero_signature(body=body, key=settings.XERO_WEBHOOK_KEY)
    return client.post(
        WEBHOOK_URL,
        data=body,
        content_type="application/json",
        headers={"x-xero-signature": signature},
    )


OTHER_XERO_TENANT_ID = "0f9e8d7c-6b5a-4f3e-8d2c-1b0a9f8e7d6c"
API = "https://api.xero.com/api.xro/2.0"
ONLINE_INVOICE = re.compile(re.escape(API) + r"/Invoices/[0-9a-f-]+/OnlineInvoice")


# What the poll fetches every few hours (snapshots/segment_sync.py), unless a test says.
SEGMENT_LISTS = {
    "Organisation": "organisation__ruapehu_motors",
    "TrackingCategories": "tracking_categories__region",
    "ContactGroups": "contact_groups__trade_and_cash",
}


def mock_xero(xero_api, **resources: str) -> None:
    """Answer GET /{Resource} with a fixture: mock_xero(api, Invoices="invoices__authorised")."""
    for resource, fixture in {**SEGMENT_LISTS, **resources}.items():
        xero_api.upsert("GET", f"{API}/{resource}", json=api_json(fixture))
    xero_api.upsert("GET", ONLINE_INVOICE, json=api_json("online_invoice"))


def calls_to(xero_api, resource: str) -> list:
    return [
        call
        for call in xero_api.calls
        if call.request.path_url.split("?")[0].endswith(f"/api.xro/2.0/{resource}")
    ]


def for_organisation(name: str, xero_tenant_id: str) -> bytes:
    """A stored delivery as another organisation would send it."""
    return webhook_body(name).replace(XERO_TENANT_ID.encode(), xero_tenant_id.encode())
