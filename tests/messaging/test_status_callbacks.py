"""Twilio status callbacks: signed, forward-only, harmless when repeated or late."""

from datetime import timedelta

import pytest
import responses

from messaging.models import Message
from messaging.services import messages_due_run, messages_poll_unfinished
from tests.messaging.conftest import ACCOUNT_SID, NOON_IN_NZ, post_twilio, twilio_reply

pytestmark = pytest.mark.usefixtures("twilio_a")


@pytest.fixture
def sent_message(tenant_a):
    return Message.objects.create(
        tenant=tenant_a, kind="invoice_issued", channel="sms", dedup_key="invoice:1:issued",
        recipient="+64211234567", status="sent", provider_status="queued",
        provider_id="SM00000000000000000000000000000142",
    )  # fmt: skip


def _url(message):
    return f"/webhooks/twilio/status/{message.callback_token}/"


def test_out_of_order_and_duplicate_callbacks_only_move_forward(client, sent_message):
    for name in ("status__delivered", "status__sent", "status__delivered", "status__queued"):
        assert post_twilio(client, _url(sent_message), name).status_code == 200
    sent_message.refresh_from_db()
    assert (sent_message.status, sent_message.provider_status) == ("delivered", "delivered")
    assert post_twilio(client, _url(sent_message), "status__read").status_code == 200
    sent_message.refresh_from_db()
    assert (sent_message.status, sent_message.provider_status) == ("delivered", "read")
    history = [c.provider_status for c in sent_message.status_changes.all()]
    assert history == ["delivered", "read"]


def test_an_undelivered_callback_keeps_the_code_and_explains_it(client, sent_message):
    post_twilio(client, _url(sent_message), "status__undelivered__30003")
    sent_message.refresh_from_db()
    assert (sent_message.status, sent_message.error_code) == ("undelivered", "30003")
    assert "unreachable" in sent_message.error_message


def test_an_invalid_signature_is_refused(client, sent_message):
    response = post_twilio(client, _url(sent_message), "status__delivered", auth_token="wrong")
    assert response.status_code == 403
    sent_message.refresh_from_db()
    assert sent_message.provider_status == "queued"


def test_an_unknown_token_is_answered_and_ignored(client, db):
    response = post_twilio(client, "/webhooks/twilio/status/no-such-token/", "status__delivered")
    assert response.status_code == 200


def test_a_callback_settles_an_ambiguous_send(client, sent_message):
    Message.objects.filter(pk=sent_message.pk).update(
        status="sending", provider_status="", provider_id="", is_ambiguous=True
    )
    post_twilio(client, _url(sent_message), "status__sent")
    sent_message.refresh_from_db()
    assert (sent_message.status, sent_message.is_ambiguous) == ("sent", False)
    assert sent_message.provider_id == "SM00000000000000000000000000000142"


@responses.activate
def test_messages_not_final_after_12_hours_are_looked_up(sent_message, time_machine):
    time_machine.move_to(sent_message.created_at + timedelta(hours=13))
    Message.objects.filter(pk=sent_message.pk).update(sent_at=sent_message.created_at)
    url = (
        "https://api.twilio.com/2010-04-01/Accounts/"
        f"{ACCOUNT_SID}/Messages/SM00000000000000000000000000000142.json"
    )
    twilio_reply(responses, "message_fetch__delivered", 200, method=responses.GET, url=url)
    assert messages_poll_unfinished() == 1
    sent_message.refresh_from_db()
    assert sent_message.status == "delivered"


def test_an_unreachable_handset_gets_one_more_try_hours_later(
    client, sent_message, time_machine, django_capture_on_commit_callbacks
):
    time_machine.move_to(NOON_IN_NZ, tick=False)
    for _ in range(2):  # Twilio may repeat the callback: still one retry
        post_twilio(client, _url(sent_message), "status__undelivered__30003")

    (retry,) = Message.objects.filter(resend_of=sent_message)
    assert retry.status == "scheduled"
    assert retry.send_after == NOON_IN_NZ + timedelta(hours=4)
    assert retry.body == sent_message.body

    time_machine.move_to(NOON_IN_NZ + timedelta(hours=4, minutes=1), tick=False)
    with responses.RequestsMock() as twilio:
        twilio_reply(twilio, "message_create__queued", 201)
        with django_capture_on_commit_callbacks(execute=True):
            messages_due_run()
    retry.refresh_from_db()
    assert retry.status == "sent"

    # Unreachable again: no third attempt.
    post_twilio(client, _url(retry), "status__undelivered__30003")
    assert Message.objects.count() == 2


def test_an_unknown_number_is_not_retried(client, sent_message):
    post_twilio(client, _url(sent_message), "status__undelivered__30005")
    sent_message.refresh_from_db()
    assert (sent_message.status, sent_message.error_code) == ("undelivered", "30005")
    assert Message.objects.count() == 1
