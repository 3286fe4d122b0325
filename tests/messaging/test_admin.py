"""Operators read the send log in the admin and act on it through actions; they never rewrite it."""

import pytest

from messaging.models import InboundMessage, Message, MessageStatusChange

pytestmark = pytest.mark.django_db

MESSAGES = "/admin/messaging/message/"


@pytest.fixture
def delivered(tenant_a):
    message = Message.objects.create(
        tenant=tenant_a, kind="invoice_issued", channel="sms", dedup_key="invoice:1:issued",
        recipient="+64211234567", body="Invoice INV-0142 is due.", status="delivered",
    )  # fmt: skip
    message.status_changes.create(from_status="", to_status="pending", note="Created")
    message.status_changes.create(from_status="sent", to_status="delivered", note="Twilio")
    return message


def test_a_sent_messages_recipient_body_status_and_key_cannot_be_changed(
    operator_client, delivered
):
    page = operator_client.get(f"{MESSAGES}{delivered.pk}/change/")
    assert page.status_code == 200
    assert b'name="recipient"' not in page.content and b"+64211234567" in page.content
    response = operator_client.post(
        f"{MESSAGES}{delivered.pk}/change/",
        {"recipient": "+64219999999", "body": "Changed", "status": "failed",
         "dedup_key": "invoice:2:issued", "tenant": delivered.tenant_id, "kind": "reminder",
         "channel": "email", "attempts": 0, "next_attempt_at_0": "2026-07-07",
         "next_attempt_at_1": "12:00:00", "created_at_0": "2026-07-07",
         "created_at_1": "12:00:00", "callback_token": delivered.callback_token,
         "status_changes-TOTAL_FORMS": 2, "status_changes-INITIAL_FORMS": 2,
         "status_changes-0-id": delivered.status_changes.first().pk,
         "status_changes-0-DELETE": "on"},
    )  # fmt: skip
    assert response.status_code == 403
    delivered.refresh_from_db()
    assert (delivered.recipient, delivered.body, delivered.status, delivered.dedup_key) == (
        "+64211234567", "Invoice INV-0142 is due.", "delivered", "invoice:1:issued",
    )  # fmt: skip
    assert delivered.status_changes.count() == 2


def test_a_message_and_its_history_cannot_be_deleted_or_added(operator_client, delivered):
    change = delivered.status_changes.first()
    assert operator_client.get(f"{MESSAGES}{delivered.pk}/delete/").status_code == 403
    assert (
        operator_client.post(f"{MESSAGES}{delivered.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    history = "/admin/messaging/messagestatuschange/"
    assert operator_client.post(f"{history}{change.pk}/delete/", {"post": "yes"}).status_code == 403
    assert (
        operator_client.post(
            f"{history}{change.pk}/change/", {"note": "rewritten", "to_status": "failed"}
        ).status_code
        == 403
    )
    assert operator_client.get(f"{MESSAGES}add/").status_code == 403
    assert operator_client.get(f"{history}add/").status_code == 403
    bulk = operator_client.post(
        MESSAGES, {"action": "delete_selected", "_selected_action": [delivered.pk], "post": "yes"}
    )
    assert Message.objects.filter(pk=delivered.pk).exists(), bulk
    assert MessageStatusChange.objects.filter(pk=change.pk, note="Created").exists()


def test_received_texts_cannot_be_deleted(operator_client, tenant_a):
    inbound = InboundMessage.objects.create(
        tenant=tenant_a, message_sid="SM" + "0" * 32, channel="sms", from_phone="+64211234567",
        to="+6498880000", body="STOP", intent="stop",
    )  # fmt: skip
    url = f"/admin/messaging/inboundmessage/{inbound.pk}/delete/"
    assert operator_client.post(url, {"post": "yes"}).status_code == 403
    assert InboundMessage.objects.filter(pk=inbound.pk).exists()


def test_the_send_log_lists_filters_and_offers_resend(operator_client, delivered, tenant_a):
    listing = operator_client.get(MESSAGES)
    assert listing.status_code == 200
    assert b'value="resend"' in listing.content
    assert b'value="delete_selected"' not in listing.content
    for query in ("?status__exact=delivered", f"?tenant__id__exact={tenant_a.pk}",
                  "?channel__exact=sms", "?is_ambiguous__exact=0", "?q=invoice"):  # fmt: skip
        assert operator_client.get(MESSAGES + query).status_code == 200
    history = operator_client.get("/admin/messaging/messagestatuschange/?to_status=delivered")
    assert history.status_code == 200
    detail = operator_client.get(f"{MESSAGES}{delivered.pk}/change/")
    assert b"Twilio" in detail.content  # the history is shown inline
