"""POST /webhooks/xero/: Xero's Intent to Receive handshake, signatures, storage (FACTS.md)."""

import base64
import json
import uuid
from datetime import UTC, datetime

import pytest
from django_q.models import OrmQ

from billing_events.inbox import ROWS_PER_STATEMENT
from billing_events.models import XeroDelivery, XeroEvent
from billing_events.webhooks import verify_xero_signature, xero_signature
from connections.models import Tenant, XeroConnection
from connections.selectors import connections_active
from dashboard.services import tenant_open
from tests.billing_events.helpers import (
    CREDIT_NOTE_ID,
    WEBHOOK_URL,
    XERO_TENANT_ID,
    post_xero_webhook,
    webhook_body,
)
from tests.xero_api import xero_connection_create

pytestmark = pytest.mark.django_db


def _assert_bare(response, status):
    assert response.status_code == status
    assert response.content == b""
    assert "Set-Cookie" not in response.headers
    assert not response.cookies
    assert "Cookie" not in response.headers.get("Vary", "")


def _wrong_signatures(body: bytes, key: str) -> list[str]:
    right = xero_signature(body=body, key=key)
    flipped = right[:-3] + ("A" if right[-3] != "A" else "B") + right[-2:]
    return [
        flipped,
        xero_signature(body=body, key=key + "x"),
        xero_signature(body=body + b" ", key=key),
        base64.b64encode(b"\x00" * 32).decode(),
        "not base64 at all",
        "",
    ]


def test_a_correctly_signed_intent_to_receive_gets_an_empty_200_without_cookies(client):
    for _ in range(3):
        _assert_bare(post_xero_webhook(client, "intent_to_receive"), 200)


def test_every_wrongly_signed_intent_to_receive_gets_an_empty_401(client, xero_webhook_key):
    body = webhook_body("intent_to_receive")
    for signature in _wrong_signatures(body, xero_webhook_key):
        _assert_bare(post_xero_webhook(client, "intent_to_receive", signature=signature), 401)


def test_a_handshake_series_mixing_good_and_bad_signatures_is_answered_one_by_one(
    client, xero_webhook_key
):
    body = webhook_body("intent_to_receive")
    bad = _wrong_signatures(body, xero_webhook_key)
    for signature in [None, bad[0], None, bad[1], bad[2], None]:
        expected = 200 if signature is None else 401
        _assert_bare(post_xero_webhook(client, "intent_to_receive", signature=signature), expected)


def test_a_missing_signature_header_is_401(client):
    response = client.post(
        WEBHOOK_URL, data=webhook_body("intent_to_receive"), content_type="application/json"
    )
    _assert_bare(response, 401)
    assert XeroDelivery.objects.count() == 0


def test_the_handshake_stores_a_delivery_with_no_events(client):
    post_xero_webhook(client, "intent_to_receive")
    delivery = XeroDelivery.objects.get()
    assert bytes(delivery.raw_body) == webhook_body("intent_to_receive")
    assert (delivery.first_event_sequence, delivery.last_event_sequence) == (0, 0)
    assert delivery.events.count() == 0


def test_the_signature_is_checked_over_the_raw_bytes_with_their_odd_whitespace(
    client, xero_webhook_key
):
    body = webhook_body("invoice_update__odd_whitespace")
    assert b"\r\n\t" in body
    _assert_bare(post_xero_webhook(client, "invoice_update__odd_whitespace"), 200)
    assert bytes(XeroDelivery.objects.get().raw_body) == body


def test_a_signature_over_re_serialised_json_is_refused(client, xero_webhook_key):
    import json

    body = webhook_body("invoice_update__odd_whitespace")
    reserialised = json.dumps(json.loads(body)).encode()
    signature = xero_signature(body=reserialised, key=xero_webhook_key)
    response = post_xero_webhook(client, "invoice_update__odd_whitespace", signature=signature)
    _assert_bare(response, 401)
    assert XeroEvent.objects.count() == 0


def test_signed_malformed_json_is_400_and_nothing_is_stored(client):
    _assert_bare(post_xero_webhook(client, "malformed__truncated"), 400)
    assert XeroDelivery.objects.count() == 0


@pytest.mark.parametrize("body", [b"[]", b'{"events": {}}', b'{"events": [1]}', b"\xff\xfe"])
def test_signed_json_that_is_not_a_delivery_is_400(client, body):
    _assert_bare(post_xero_webhook(client, "", body=body), 400)
    assert XeroDelivery.objects.count() == 0


def test_unsigned_malformed_json_is_401_not_400(client):
    response = post_xero_webhook(client, "malformed__truncated", signature="bogus")
    _assert_bare(response, 401)


def test_a_body_above_the_size_limit_is_refused_unread(client, settings):
    settings.XERO_WEBHOOK_MAX_BYTES = 100
    _assert_bare(post_xero_webhook(client, "invoice_update__single"), 413)
    assert XeroDelivery.objects.count() == 0


def test_only_post_is_allowed(client):
    assert client.get(WEBHOOK_URL).status_code == 405


def test_events_for_an_unknown_organisation_are_stored_and_ignored(client):
    _assert_bare(post_xero_webhook(client, "invoice_update__unknown_tenant"), 200)
    event = XeroEvent.objects.get()
    assert event.status == XeroEvent.Status.IGNORED
    assert event.tenant is None
    assert event.xero_tenant_id == "c2cc9b6e-9458-4c7d-93cc-f02b81b0594f"
    assert "No active connection" in event.last_error


def test_subscription_events_are_stored_and_ignored(client):
    _assert_bare(post_xero_webhook(client, "subscription_update"), 200)
    assert XeroEvent.objects.get().status == XeroEvent.Status.IGNORED


def test_a_logged_in_user_posting_gets_no_cookie_either(client, owner_a):
    client.force_login(owner_a)
    _assert_bare(post_xero_webhook(client, "intent_to_receive"), 200)


def test_verify_refuses_when_no_key_is_configured():
    body = webhook_body("intent_to_receive")
    assert not verify_xero_signature(body=body, signature=xero_signature(body=body, key=""), key="")


def test_a_stored_event_reads_back_as_xero_sent_it(client, connection):
    _assert_bare(post_xero_webhook(client, "creditnote_update"), 200)
    delivery = XeroDelivery.objects.get()
    event = XeroEvent.objects.get()
    assert (delivery.first_event_sequence, delivery.last_event_sequence) == (44, 44)
    assert event.delivery == delivery
    assert event.tenant == connection.tenant
    assert (event.event_category, event.event_type) == ("CREDITNOTE", "UPDATE")
    assert event.resource_id == CREDIT_NOTE_ID
    assert event.resource_url.endswith(f"/CreditNotes/{CREDIT_NOTE_ID}")
    assert event.event_date == datetime(2026, 11, 3, 10, 0, 0, 211000, tzinfo=UTC)
    assert event.event_data == {"Type": "ACCRECCREDIT", "Status": "AUTHORISED"}
    assert (event.status, event.attempts, event.last_error) == ("pending", 0, "")
    assert event.received_at == event.next_attempt_at == delivery.received_at
    assert event.claim_token is None and event.processed_at is None


def test_a_delivery_of_more_events_than_one_statement_takes_is_stored_whole(
    client, connection, settings, django_capture_on_commit_callbacks
):
    settings.XERO_WEBHOOK_MAX_BYTES = 2**20
    template = json.loads(webhook_body("invoice_update__single"))["events"][0]
    count = 2 * ROWS_PER_STATEMENT + 1
    events = [{**template, "resourceId": str(uuid.UUID(int=index))} for index in range(count)]
    body = json.dumps({"events": events, "firstEventSequence": 1, "lastEventSequence": count})

    with django_capture_on_commit_callbacks(execute=True):
        _assert_bare(post_xero_webhook(client, "", body=body.encode()), 200)

    stored = XeroEvent.objects.filter(delivery=XeroDelivery.objects.get(), status="pending")
    assert stored.count() == count
    assert set(stored.values_list("resource_id", flat=True)) == {e["resourceId"] for e in events}
    assert [row.task["args"] for row in OrmQ.objects.all()] == [(XERO_TENANT_ID,)]


def test_events_are_routed_to_the_active_connections_of_active_tenants_only(
    client, tenant_a, tenant_b
):
    tenant_c, _ = tenant_open(name="Cargo Couriers", owner_email="owner@cargo.test")
    states = {
        "active": (tenant_a, XeroConnection.Status.ACTIVE),
        "needs reconnecting": (tenant_a, XeroConnection.Status.NEEDS_RECONNECT),
        "disconnected": (tenant_a, XeroConnection.Status.DISCONNECTED),
        "of a deactivated tenant": (tenant_c, XeroConnection.Status.ACTIVE),
        "moved to another tenant": (tenant_a, XeroConnection.Status.DISCONNECTED),
    }
    connections = {}
    for name, (tenant, status) in states.items():
        connections[name] = xero_connection_create(tenant=tenant, name=name)
        connections[name].status = status
        connections[name].save()
    XeroConnection.objects.create(
        tenant=tenant_b,
        grant=xero_connection_create(tenant=tenant_b).grant,
        xero_tenant_id=connections["moved to another tenant"].xero_tenant_id,
        connection_id=str(uuid.uuid4()),
        name="moved to another tenant",
    )
    Tenant.objects.filter(pk=tenant_c.pk).update(is_active=False)
    template = json.loads(webhook_body("invoice_update__single"))["events"][0]
    events = [{**template, "tenantId": c.xero_tenant_id} for c in connections.values()]

    _assert_bare(post_xero_webhook(client, "", body=json.dumps({"events": events}).encode()), 200)

    routed = dict(
        XeroEvent.objects.filter(status="pending").values_list("xero_tenant_id", "tenant")
    )
    assert routed == {
        connections["active"].xero_tenant_id: tenant_a.pk,
        connections["moved to another tenant"].xero_tenant_id: tenant_b.pk,
    }
    assert routed == dict(
        connections_active()
        .filter(xero_tenant_id__in=[c.xero_tenant_id for c in connections.values()])
        .values_list("xero_tenant_id", "tenant")
    )
    ignored = XeroEvent.objects.filter(status="ignored", tenant=None)
    assert ignored.count() == 3
    assert {event.last_error for event in ignored} == {"No active connection for this tenantId."}
