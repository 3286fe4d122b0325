"""The sandbox Twilio as Dunwell's messaging code and the twilio SDK meet it (FACTS.md)."""

from datetime import timedelta
from urllib.parse import parse_qsl

import pytest
import responses
import time_machine
from django.utils import timezone
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from sandbox.models import Contact, SmsMessage, TwilioFault
from tests.sandbox.conftest import basic, deliver

CALLBACK = "http://dunwell.test/webhooks/twilio/status/tok-123/"
INBOUND = "http://dunwell.test/webhooks/twilio/inbound/"
AROHA = "+64215550101"


def _messages_url(account):
    return f"/sandbox/twilio/2010-04-01/Accounts/{account.account_sid}/Messages.json"


def _send(client, account, **fields):
    form = {"To": AROHA, "From": account.from_number, "Body": "Hi", **fields}
    return client.post(
        _messages_url(account),
        form,
        headers={"Authorization": basic(account.account_sid, account.auth_token)},
    )


def _callbacks(mock, account) -> list[dict]:
    """The status callbacks received, each checked with Twilio's own RequestValidator."""
    validator = RequestValidator(account.auth_token)
    received = []
    for call in mock.calls:
        params = dict(parse_qsl(call.request.body.decode(), keep_blank_values=True))
        assert validator.validate(
            call.request.url, params, call.request.headers["X-Twilio-Signature"]
        )
        received.append(params)
    return received


def _deliver_all():
    deliver(now=timezone.now() + timedelta(seconds=10))


@pytest.fixture
def twilio_sdk(live_server, twilio_account, transactional_db):
    client = Client(
        twilio_account.account_sid,
        twilio_account.auth_token,
        http_client=TwilioHttpClient(timeout=10),
        environment={},
    )
    client.api.base_url = f"{live_server.url}/sandbox/twilio"
    yield client
    # Close the SDK's keep-alive connection while the live server still shares its database.
    client.http_client.session.close()


def test_the_twilio_sdk_creates_and_parses_a_message(twilio_sdk, twilio_account):
    message = twilio_sdk.messages.create(
        to=AROHA,
        from_=twilio_account.from_number,
        body="Invoice INV-0001 for $485.00 is due on 28 Nov",
        status_callback=CALLBACK,
        validity_period=3600,
    )
    assert message.sid.startswith("SM") and len(message.sid) == 34
    assert message.status == "queued"
    assert message.to == AROHA
    assert message.num_segments == "1"
    assert message.date_created.tzinfo is not None
    fetched = twilio_sdk.messages(message.sid).fetch()
    assert fetched.body == message.body


def test_the_twilio_sdk_lists_messages_by_to_and_date_sent(twilio_sdk, twilio_account):
    twilio_sdk.messages.create(to=AROHA, from_=twilio_account.from_number, body="one")
    twilio_sdk.messages.create(to="+64225550103", from_=twilio_account.from_number, body="two")
    found = twilio_sdk.messages.list(to=AROHA, date_sent_after=timezone.now() - timedelta(days=1))
    assert [m.body for m in found] == ["one"]


def test_the_twilio_sdk_raises_twilio_errors(twilio_sdk, twilio_account):
    with pytest.raises(TwilioRestException) as raised:
        twilio_sdk.messages.create(to="not-a-number", from_=twilio_account.from_number, body="x")
    assert (raised.value.status, raised.value.code) == (400, 21211)


def test_wrong_credentials_are_401_code_20003(client, twilio_account):
    response = client.post(
        _messages_url(twilio_account),
        {"To": AROHA, "From": "+1", "Body": "x"},
        headers={"Authorization": basic(twilio_account.account_sid, "wrong")},
    )
    assert response.status_code == 401
    assert response.json()["code"] == 20003


def test_an_api_key_pair_authenticates_too(client, twilio_account):
    twilio_account.api_key_sid, twilio_account.api_key_secret = "SK" + "c" * 32, "d" * 32
    twilio_account.save()
    response = client.post(
        _messages_url(twilio_account),
        {"To": AROHA, "From": twilio_account.from_number, "Body": "x"},
        headers={"Authorization": basic(twilio_account.api_key_sid, "d" * 32)},
    )
    assert response.status_code == 201


@responses.activate
def test_status_moves_queued_sent_delivered_through_signed_callbacks(client, twilio_account):
    responses.post(CALLBACK, status=204)
    created = _send(client, twilio_account, StatusCallback=CALLBACK).json()
    assert created["status"] == "queued"
    deliver()
    assert len(responses.calls) == 0, "no callback for the first status (FACTS.md)"
    _deliver_all()
    callbacks = _callbacks(responses, twilio_account)
    assert [c["MessageStatus"] for c in callbacks] == ["sent", "delivered"]
    assert callbacks[0]["MessageSid"] == created["sid"]
    assert callbacks[0]["AccountSid"] == twilio_account.account_sid
    assert "RawDlrDoneDate" in callbacks[1]
    assert SmsMessage.objects.get(sid=created["sid"]).status == "delivered"


@responses.activate
def test_a_messaging_service_send_starts_accepted(client, twilio_account):
    responses.post(CALLBACK, status=200)
    created = _send(
        client,
        twilio_account,
        From="",
        MessagingServiceSid="MG" + "e" * 32,
        StatusCallback=CALLBACK,
    ).json()
    assert created["status"] == "accepted"
    _deliver_all()
    callbacks = _callbacks(responses, twilio_account)
    assert [c["MessageStatus"] for c in callbacks] == ["queued", "sent", "delivered"]
    assert callbacks[0]["MessagingServiceSid"] == "MG" + "e" * 32


@responses.activate
def test_an_unreachable_contact_ends_undelivered_30003(client, twilio_account, organisations):
    responses.post(CALLBACK, status=200)
    fern = Contact.objects.get(name="Fern Harris")
    assert fern.unreachable
    created = _send(client, twilio_account, To="+64275550106", StatusCallback=CALLBACK).json()
    _deliver_all()
    final = _callbacks(responses, twilio_account)[-1]
    assert (final["MessageStatus"], final["ErrorCode"]) == ("undelivered", "30003")
    assert SmsMessage.objects.get(sid=created["sid"]).error_code == 30003


@responses.activate
def test_a_reply_arrives_signed_at_the_inbound_webhook(client, twilio_account):
    responses.post(INBOUND, body="<Response/>", content_type="text/xml")
    _send(client, twilio_account)
    client.post(f"/sandbox/twilio/phones/{AROHA}/reply/", {"body": "PAID INV-0003"})
    deliver()
    [inbound] = _callbacks(responses, twilio_account)
    assert inbound["From"] == AROHA
    assert inbound["To"] == twilio_account.from_number
    assert inbound["Body"] == "PAID INV-0003"
    assert inbound["AccountSid"] == twilio_account.account_sid
    assert inbound["MessageSid"].startswith("SM")


@responses.activate
def test_a_twiml_answer_shows_on_the_phone(client, twilio_account):
    twiml = "<Response><Message>Pay here: http://pay.test/x</Message></Response>"
    responses.post(INBOUND, body=twiml, content_type="text/xml")
    _send(client, twilio_account, Body="Invoice INV-0003 is due")
    client.post(f"/sandbox/twilio/phones/{AROHA}/reply/", {"body": "PAID INV-0003"})
    deliver()
    page = client.get(f"/sandbox/twilio/phones/{AROHA}/").content.decode()
    assert page.index("Invoice INV-0003 is due") < page.index("PAID INV-0003")
    assert page.index("PAID INV-0003") < page.index("Pay here:")


@responses.activate
def test_after_stop_sends_are_refused_with_21610_until_start(client, twilio_account):
    responses.post(INBOUND, status=200)
    _send(client, twilio_account)
    client.post(f"/sandbox/twilio/phones/{AROHA}/reply/", {"body": "STOP"})
    deliver()
    assert dict(parse_qsl(responses.calls[0].request.body.decode()))["OptOutType"] == "STOP"
    refused = _send(client, twilio_account)
    assert (refused.status_code, refused.json()["code"]) == (400, 21610)
    client.post(f"/sandbox/twilio/phones/{AROHA}/reply/", {"body": "START"})
    assert _send(client, twilio_account).status_code == 201


def test_an_injected_429_fails_once_then_sends(client, twilio_account):
    TwilioFault.objects.create(to_number=AROHA, http_status=429, error_code=20429, remaining=1)
    first = _send(client, twilio_account)
    assert (first.status_code, first.json()["code"]) == (429, 20429)
    assert _send(client, twilio_account).status_code == 201
    assert SmsMessage.objects.count() == 1


def test_an_ambiguous_500_still_creates_the_message(client, twilio_account):
    TwilioFault.objects.create(
        http_status=500, error_code=20500, message="Internal", message_created=True, remaining=1
    )
    assert _send(client, twilio_account, Body="maybe").status_code == 500
    listed = client.get(
        _messages_url(twilio_account),
        {"To": AROHA, "DateSent>": timezone.now().date().isoformat()},
        headers={"Authorization": basic(twilio_account.account_sid, twilio_account.auth_token)},
    ).json()
    assert [m["body"] for m in listed["messages"]] == ["maybe"]


def test_the_failure_knobs_are_on_the_phones_page(client, twilio_account):
    client.post(
        "/sandbox/twilio/faults/",
        {"to_number": "", "http_status": 429, "error_code": 20429, "message": "Too Many"},
    )
    assert _send(client, twilio_account).status_code == 429
    client.post("/sandbox/twilio/faults/clear/")
    assert _send(client, twilio_account).status_code == 201


def test_the_phones_page_lists_demo_contacts_by_e164(client, organisations):
    page = client.get("/sandbox/twilio/phones/").content.decode()
    for number in ("+64215550101", "+64215550102", "+64225550103", "+6495550104", "+61412555107"):
        assert number in page
    assert "Eli Thompson" not in page


def test_old_messages_age_out_of_a_date_sent_filter(client, twilio_account):
    with time_machine.travel(timezone.now() - timedelta(days=3)):
        _send(client, twilio_account, Body="old")
    _send(client, twilio_account, Body="new")
    listed = client.get(
        _messages_url(twilio_account),
        {"DateSent>": timezone.now().date().isoformat()},
        headers={"Authorization": basic(twilio_account.account_sid, twilio_account.auth_token)},
    ).json()
    assert [m["body"] for m in listed["messages"]] == ["new"]
