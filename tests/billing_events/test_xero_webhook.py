"""POST /webhooks/xero/: Xero's Intent to Receive handshake, signatures, storage (FACTS.md)."""

import base64

import pytest

from billing_events.models import XeroDelivery, XeroEvent
from billing_events.webhooks import verify_xero_signature, xero_signature
from tests.billing_events.helpers import WEBHOOK_URL, post_xero_webhook, webhook_body

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
