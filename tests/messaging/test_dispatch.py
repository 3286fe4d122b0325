"""Dispatch through Twilio: exactly one text per notification, whatever goes wrong."""

import json
from datetime import timedelta
from urllib.parse import parse_qs

import pytest
import requests
import responses
from django.test import override_settings
from urllib3.exceptions import NewConnectionError, ProtocolError

from messaging.models import Message, OptOut
from messaging.services import SENDING_STALE_AFTER as STALE
from messaging.services import message_dispatch, messages_due_run, notify
from messaging.services.dispatch import SENDS_IN_FLIGHT
from messaging.services.notify import Notice, notify_many
from tests.http_server import http_server
from tests.messaging.conftest import MESSAGES_URL, NOON_IN_NZ, fixture, post_twilio, twilio_reply

pytestmark = pytest.mark.usefixtures("twilio_a", "noon")


@pytest.fixture
def send(tenant_a, aroha, invoice_context, django_capture_on_commit_callbacks):
    def _send(dedup_key="invoice:INV-0142:issued"):
        with django_capture_on_commit_callbacks(execute=True):
            (message,) = notify(tenant=tenant_a, kind="invoice_issued", contact=aroha,
                                context=invoice_context, dedup_key=dedup_key)  # fmt: skip
        message.refresh_from_db()
        return message

    return _send


def _run_due(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        messages_due_run()


def _creates(rsps) -> list:
    return [c for c in rsps.calls if c.request.method == "POST"]


@responses.activate
def test_a_notification_is_sent_once_with_callback_and_validity(send):
    twilio_reply(responses, "message_create__queued", 201)
    message = send()
    assert message.status == Message.Status.SENT
    assert message.provider_status == "queued"  # Twilio sends no callback for the first status
    assert message.provider_id == "SM00000000000000000000000000000142"
    form = parse_qs(responses.calls[0].request.body)
    assert form["To"] == ["+64211234567"]
    assert form["From"] == ["+6498880000"]
    assert form["ValidityPeriod"] == ["14400"]
    assert form["StatusCallback"] == [
        f"http://127.0.0.1:8000/webhooks/twilio/status/{message.callback_token}/"
    ]
    assert form["Body"][0].startswith("Hi Aroha, Alpha Plumbing has sent you invoice INV-0142")


@responses.activate
def test_notify_twice_sends_one_message(send):
    twilio_reply(responses, "message_create__queued", 201)
    first, second = send(), send()
    assert first.pk == second.pk
    assert Message.objects.count() == 1
    assert len(responses.calls) == 1


@override_settings(TWILIO_API_URL="http://twilio.stand-in.test/sandbox/twilio")
@responses.activate
def test_requests_go_to_the_configured_twilio_url(send):
    url = MESSAGES_URL.replace(
        "https://api.twilio.com", "http://twilio.stand-in.test/sandbox/twilio"
    )
    responses.add(responses.POST, url, json=fixture("message_create__queued"), status=201)
    assert send().status == Message.Status.SENT
    assert responses.calls[0].request.url == url


def test_texts_sent_one_after_another_share_one_connection_to_twilio(send):
    # A connection (against the real Twilio, a TLS handshake) per text was most of a send's cost.
    sids = iter(range(1, 100))

    def twilio(method, path):
        return 201, {**fixture("message_create__queued"), "sid": f"SM{next(sids):032d}"}

    with http_server(twilio) as server, override_settings(TWILIO_API_URL=server.url):
        messages = [send(dedup_key=f"invoice:INV-014{n}:issued") for n in range(3)]
    assert [m.status for m in messages] == [Message.Status.SENT] * 3
    assert [m.provider_id for m in messages] == [f"SM{n:032d}" for n in (1, 2, 3)]
    assert len(server.requests) == 3
    assert server.connections == 1


def test_a_batch_of_texts_is_sent_a_few_at_a_time_not_one_after_another(
    tenant_a, aroha, invoice_context, django_capture_on_commit_callbacks
):
    # Twilio takes a tenth of a second or more to answer: one at a time, a worker carried only a
    # few texts a second.
    sids = iter(range(1, 100))

    def twilio(method, path):
        return 201, {**fixture("message_create__queued"), "sid": f"SM{next(sids):032d}"}

    notices = [
        Notice(kind="invoice_issued", contact=aroha, dedup_key=f"invoice:INV-{number}:issued",
               context={**invoice_context, "invoice_number": f"INV-{number}"})
        for number in range(10)
    ]  # fmt: skip
    with (
        http_server(twilio, takes=0.2) as server,
        override_settings(TWILIO_API_URL=server.url),
        django_capture_on_commit_callbacks(execute=True),
    ):
        notify_many(tenant=tenant_a, notices=notices)

    assert len(server.requests) == 10
    assert server.most_in_flight == SENDS_IN_FLIGHT
    sent = Message.objects.all()
    assert {m.status for m in sent} == {Message.Status.SENT}
    assert len({m.provider_id for m in sent}) == 10


@responses.activate
def test_429_is_retried_with_backoff_then_succeeds(send, noon, django_capture_on_commit_callbacks):
    twilio_reply(responses, "error__20429", 429)
    twilio_reply(responses, "message_create__queued", 201)
    message = send()
    assert message.status == Message.Status.PENDING
    assert message.last_error.startswith("20429")
    assert message.next_attempt_at > message.claimed_at
    _run_due(django_capture_on_commit_callbacks)  # not due yet: nothing happens
    assert len(responses.calls) == 1
    noon.shift(timedelta(minutes=2))
    _run_due(django_capture_on_commit_callbacks)
    message.refresh_from_db()
    assert (message.status, message.attempts, len(responses.calls)) == (Message.Status.SENT, 2, 2)


@responses.activate
def test_connection_refused_before_sending_is_retried(send):
    refused = requests.ConnectionError(NewConnectionError(None, "Connection refused"))
    responses.add(responses.POST, MESSAGES_URL, body=refused)
    message = send()
    assert (message.status, message.is_ambiguous) == (Message.Status.PENDING, False)


@responses.activate
def test_a_5xx_when_twilio_did_create_the_message_sends_no_second_text(
    send, noon, django_capture_on_commit_callbacks
):
    twilio_reply(responses, "error__500", 500)
    message = send()
    assert (message.status, message.is_ambiguous) == (Message.Status.SENDING, True)
    twilio_reply(responses, "message_list__one_match", 200, method=responses.GET)
    noon.shift(timedelta(minutes=3))
    _run_due(django_capture_on_commit_callbacks)
    message.refresh_from_db()
    assert message.status == Message.Status.DELIVERED
    assert message.provider_id == "SM00000000000000000000000000000142"
    assert len(_creates(responses)) == 1
    assert "Reconciled: Twilio has this message" in message.status_changes.last().note


@responses.activate
def test_a_message_list_that_fails_is_asked_again_later_and_nothing_is_sent_twice(
    send, noon, django_capture_on_commit_callbacks
):
    twilio_reply(responses, "error__500", 500)
    message = send()
    twilio_reply(responses, "error__500", 500, method=responses.GET)
    twilio_reply(responses, "message_list__one_match", 200, method=responses.GET)
    noon.shift(timedelta(minutes=3))
    _run_due(django_capture_on_commit_callbacks)
    message.refresh_from_db()
    assert (message.status, message.is_ambiguous) == (Message.Status.SENDING, True)
    assert message.last_error.startswith("reconcile 500: Twilio could not list messages")
    noon.shift(timedelta(minutes=1))
    _run_due(django_capture_on_commit_callbacks)
    message.refresh_from_db()
    assert message.status == Message.Status.DELIVERED
    assert len(_creates(responses)) == 1


@responses.activate
def test_a_5xx_when_twilio_did_not_create_it_is_sent_once(
    send, noon, django_capture_on_commit_callbacks
):
    reset = requests.ConnectionError(ProtocolError("Connection aborted.", ConnectionResetError()))
    responses.add(responses.POST, MESSAGES_URL, body=reset)
    twilio_reply(responses, "message_create__queued", 201)
    message = send()
    assert message.is_ambiguous
    twilio_reply(responses, "message_list__empty", 200, method=responses.GET)
    noon.shift(timedelta(minutes=3))
    _run_due(django_capture_on_commit_callbacks)
    _run_due(django_capture_on_commit_callbacks)
    message.refresh_from_db()
    assert message.status == Message.Status.SENT
    assert len(_creates(responses)) == 2  # the lost attempt and the one real send
    listed = [c for c in responses.calls if c.request.method == "GET"]
    assert "To=%2B64211234567" in listed[0].request.url
    assert "DateSent%3E=2026-07-07" in listed[0].request.url


@responses.activate
def test_a_worker_that_died_between_sending_and_sent_is_reconciled_without_a_duplicate(
    tenant_a, aroha, invoice_context, noon, django_capture_on_commit_callbacks
):
    (message,) = notify(tenant=tenant_a, kind="invoice_issued", contact=aroha,
                        context=invoice_context, dedup_key="invoice:INV-0142:issued")  # fmt: skip
    # The worker claimed the row and Twilio created the message, then the worker died.
    Message.objects.filter(pk=message.pk).update(
        status="sending", attempts=1, claimed_at=NOON_IN_NZ, next_attempt_at=NOON_IN_NZ + STALE
    )
    twilio_reply(responses, "message_list__one_match", 200, method=responses.GET)
    _run_due(django_capture_on_commit_callbacks)  # it may still be working: leave it
    message.refresh_from_db()
    assert message.status == Message.Status.SENDING
    noon.shift(timedelta(minutes=6))
    _run_due(django_capture_on_commit_callbacks)
    message.refresh_from_db()
    assert message.status == Message.Status.DELIVERED
    assert not _creates(responses)


@responses.activate
def test_a_permanent_error_fails_at_once_with_an_explanation(
    send, noon, django_capture_on_commit_callbacks
):
    twilio_reply(responses, "error__21211", 400)
    message = send()
    assert message.status == Message.Status.FAILED
    assert message.error_code == "21211"
    assert message.error_message == "The phone number is not a valid phone number. Fix it in Xero."
    noon.shift(timedelta(hours=2))
    _run_due(django_capture_on_commit_callbacks)
    assert len(responses.calls) == 1


@responses.activate
def test_an_unknown_error_fails_without_retry(send):
    twilio_reply(responses, "error__99999", 400)
    message = send()
    assert (message.status, message.error_code) == (Message.Status.FAILED, "99999")
    assert "Something new Twilio has not told us about" in message.error_message


@responses.activate
def test_it_handles_21610_opt_out(send, tenant_a):
    twilio_reply(responses, "error__21610", 400)
    message = send()
    assert (message.status, message.error_code) == (Message.Status.FAILED, "21610")
    assert OptOut.objects.filter(tenant=tenant_a, phone="+64211234567").exists()
    later = send(dedup_key="invoice:INV-0150:issued")
    assert later.status == Message.Status.SKIPPED
    assert later.status_reason == "The recipient opted out (replied STOP)."
    assert len(responses.calls) == 1


@responses.activate
def test_quiet_hours_are_the_recipients_not_the_tenants(
    send, tenant_a, aroha, invoice_context, noon, django_capture_on_commit_callbacks
):
    twilio_reply(responses, "message_create__queued", 201)
    noon.move_to("2026-07-07T10:30:00Z")  # 22:30 in Auckland, 11:30 in London
    nz = send()
    assert nz.status == Message.Status.SCHEDULED
    assert nz.send_after.isoformat() == "2026-07-07T20:00:00+00:00"  # 08:00 NZST
    uk_mobile = {"PhoneType": "MOBILE", "PhoneNumber": "07911 123456", "PhoneCountryCode": "44"}
    london = aroha.__class__(contact_id="c-uk", name="Pat", phones=(uk_mobile,))
    with django_capture_on_commit_callbacks(execute=True):
        (uk,) = notify(tenant=tenant_a, kind="invoice_issued", contact=london,
                       context=invoice_context, dedup_key="invoice:INV-0143:issued")  # fmt: skip
    uk.refresh_from_db()
    assert uk.status == Message.Status.SENT
    noon.move_to("2026-07-07T20:01:00Z")
    _run_due(django_capture_on_commit_callbacks)
    nz.refresh_from_db()
    assert nz.status == Message.Status.SENT


@responses.activate
def test_texts_sent_together_each_keep_their_own_twilio_sid(
    tenant_a, aroha, invoice_context, django_capture_on_commit_callbacks
):
    def twilio(request):
        number = parse_qs(request.body)["Body"][0].split("invoice INV-")[1][:4]
        return 201, {}, json.dumps({**fixture("message_create__queued"), "sid": f"SM{number:0>32}"})

    responses.add_callback(responses.POST, MESSAGES_URL, callback=twilio)
    with django_capture_on_commit_callbacks(execute=True):
        for number in ("0142", "0143", "0144"):
            notify(tenant=tenant_a, kind="invoice_issued", contact=aroha,
                   context={**invoice_context, "invoice_number": f"INV-{number}"},
                   dedup_key=f"invoice:INV-{number}:issued")  # fmt: skip

    sent = Message.objects.order_by("pk")
    assert [(m.status, m.provider_id) for m in sent] == [
        ("sent", f"SM{number:0>32}") for number in ("0142", "0143", "0144")
    ]
    assert [m.status_changes.last().note for m in sent] == ["Accepted by the provider."] * 3


@responses.activate
def test_a_status_callback_that_overtakes_twilios_answer_is_kept(client, send):
    def twilio_calls_back_before_answering(request):
        callback_url = parse_qs(request.body)["StatusCallback"][0]
        path = callback_url.removeprefix("http://127.0.0.1:8000")
        assert post_twilio(client, path, "status__delivered").status_code == 200
        return 201, {}, json.dumps(fixture("message_create__queued"))

    responses.add_callback(
        responses.POST, MESSAGES_URL, callback=twilio_calls_back_before_answering
    )
    message = send()

    assert (message.status, message.provider_status) == ("delivered", "delivered")
    assert message.provider_id == "SM00000000000000000000000000000142"
    notes = {change.note for change in message.status_changes.all()}
    assert notes == {"Created", "Claimed for sending.", "Twilio: delivered"}


@responses.activate
def test_a_message_claimed_by_another_worker_is_not_sent_again(send):
    twilio_reply(responses, "message_create__queued", 201)
    message = send()
    message.status = Message.Status.PENDING  # a stale copy, as a second worker would hold
    message_dispatch(message=message)
    assert len(responses.calls) == 1


@responses.activate
def test_email_goes_through_sendgrid_and_202_means_queued(
    tenant_a, aroha, invoice_context, django_capture_on_commit_callbacks
):
    from django.conf import settings

    from messaging.models import MessageTemplate

    MessageTemplate.objects.filter(tenant=tenant_a, channel="email").update(is_active=True)
    responses.add(responses.POST, f"{settings.SENDGRID_API_URL}/v3/mail/send", status=202,
                  headers={"X-Message-Id": "sg-123"})  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        (message,) = notify(tenant=tenant_a, kind="invoice_issued", contact=aroha,
                            context=invoice_context, dedup_key="invoice:INV-0142:issued",
                            channels=["email"])  # fmt: skip
    message.refresh_from_db()
    assert (message.status, message.provider_id) == (Message.Status.SENT, "sg-123")
    assert message.subject == "Invoice INV-0142 from Alpha Plumbing"
    assert responses.calls[0].request.headers["Authorization"] == "Bearer SG.secret-key"
    # The customer sees it come from the organisation, at the tenant's SendGrid address.
    sent = json.loads(responses.calls[0].request.body)
    assert sent["from"] == {"email": "accounts@alpha.test", "name": "Alpha Plumbing"}


@responses.activate
def test_whatsapp_sends_the_approved_template_with_its_variables(
    tenant_a, aroha, invoice_context, django_capture_on_commit_callbacks
):
    from connections.models import MessagingSettings
    from messaging.models import MessageTemplate

    MessagingSettings.objects.filter(tenant=tenant_a).update(whatsapp_from="+6498880001")
    MessageTemplate.objects.create(
        tenant=tenant_a, kind="invoice_issued", channel="whatsapp",
        content_sid="HX" + "b" * 32,
        content_variables={"1": "{{ first_name }}", "2": "{{ invoice_number }}"},
    )  # fmt: skip
    twilio_reply(responses, "message_create__queued", 201)

    with django_capture_on_commit_callbacks(execute=True):
        (message,) = notify(tenant=tenant_a, kind="invoice_issued", contact=aroha,
                            context=invoice_context, dedup_key="invoice:INV-0142:issued",
                            channels=["whatsapp"])  # fmt: skip

    message.refresh_from_db()
    assert message.status == Message.Status.SENT
    form = parse_qs(responses.calls[0].request.body)
    assert form["To"] == ["whatsapp:+64211234567"]
    assert form["From"] == ["whatsapp:+6498880001"]
    assert form["ContentSid"] == ["HX" + "b" * 32]
    assert json.loads(form["ContentVariables"][0]) == {"1": "Aroha", "2": "INV-0142"}
    assert "Body" not in form
