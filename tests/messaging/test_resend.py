"""Resend from the send log, the admin and the API: never twice, never to the wrong number, and
never a promise that is not kept."""

import html
from datetime import timedelta

import pytest
import responses
from django.contrib.auth import get_user_model

from api_tokens.services import api_token_create
from messaging.models import Message, OptOut
from messaging.services import messages_due_run
from tests.api.conftest import client_with_token
from tests.messaging.conftest import NOON_IN_NZ, post_twilio, twilio_reply

pytestmark = pytest.mark.usefixtures("twilio_a")

RETRY_AT = NOON_IN_NZ + timedelta(hours=4)  # 17:00 in Auckland, outside quiet hours


@pytest.fixture
def unreachable(client, tenant_a, time_machine):
    """A text Twilio reported undelivered (30003) at 13:00 in Auckland: one more try waits."""
    time_machine.move_to(NOON_IN_NZ, tick=False)
    message = Message.objects.create(
        tenant=tenant_a, kind="invoice_issued", channel="sms", dedup_key="invoice:1:issued",
        recipient="+64211234567", status="sent", provider_status="queued", body="INV-0142 is due",
        provider_id="SM00000000000000000000000000000142", contact_name="Aroha Ngata",
    )  # fmt: skip
    post_twilio(client, f"/webhooks/twilio/status/{message.callback_token}/",
                "status__undelivered__30003")  # fmt: skip
    message.refresh_from_db()
    return message


def _retry_of(message) -> Message:
    return Message.objects.get(resend_of=message, dedup_key__endswith=":unreachable-retry")


def _resend_from_the_send_log(message, *, staff_a, client, **_):
    client.force_login(staff_a)
    return client.post(f"/messaging/{message.pk}/resend/", follow=True)


def _resend_from_the_admin(message, *, client, **_):
    operator = get_user_model().objects.create_superuser("ops@dunwell.test", "ops@dunwell.test")
    client.force_login(operator)
    return client.post(
        "/admin/messaging/message/",
        {"action": "resend", "_selected_action": [message.pk]},
        follow=True,
    )


def _resend_through_the_api(message, *, staff_a, **_):
    raw = api_token_create(tenant=message.tenant, user=staff_a, name="Integration")[1]
    return client_with_token(raw).post(f"/api/v1/messages/{message.pk}/resend/")


RESEND_PATHS = [_resend_from_the_send_log, _resend_from_the_admin, _resend_through_the_api]


@pytest.mark.parametrize("resend", RESEND_PATHS)
def test_a_resend_cancels_the_waiting_retry_of_the_message_it_replaces(
    resend, unreachable, client, staff_a, django_capture_on_commit_callbacks
):
    retry = _retry_of(unreachable)
    assert retry.status == "scheduled"
    with django_capture_on_commit_callbacks():  # the resend's dispatch kick is not run
        resend(unreachable, client=client, staff_a=staff_a)
    again = Message.objects.get(resend_of=unreachable, dedup_key__contains=":resend:")
    retry.refresh_from_db()
    assert again.status == "pending"
    assert retry.status == "cancelled"
    assert f"message #{again.pk}" in retry.status_reason


def test_a_retry_does_not_go_once_a_later_message_of_the_notification_was_delivered(
    unreachable, time_machine, django_capture_on_commit_callbacks
):
    retry = _retry_of(unreachable)
    # Delivered by a resend that did not replace the retry (made before resends cancelled it).
    resent = Message.objects.create(
        tenant=unreachable.tenant, kind=unreachable.kind, channel="sms", status="delivered",
        dedup_key="invoice:1:issued:resend:1", recipient=unreachable.recipient,
        resend_of=unreachable, body=unreachable.body,
    )  # fmt: skip
    time_machine.move_to(RETRY_AT + timedelta(minutes=1), tick=False)
    with responses.RequestsMock() as twilio:  # any call to Twilio would fail the test
        with django_capture_on_commit_callbacks(execute=True):
            messages_due_run()
        assert len(twilio.calls) == 0
    retry.refresh_from_db()
    assert retry.status == "cancelled"
    assert f"message #{resent.pk}" in retry.status_reason


def test_a_retry_still_goes_when_nothing_later_was_delivered(
    unreachable, time_machine, django_capture_on_commit_callbacks
):
    retry = _retry_of(unreachable)
    time_machine.move_to(RETRY_AT + timedelta(minutes=1), tick=False)
    with responses.RequestsMock() as twilio:
        twilio_reply(twilio, "message_create__queued", 201)
        with django_capture_on_commit_callbacks(execute=True):
            messages_due_run()
    retry.refresh_from_db()
    assert retry.status == "sent"


def test_a_waiting_retry_says_what_it_waits_for(staff_client, unreachable):
    retry = _retry_of(unreachable)
    for url in (f"/messaging/{retry.pk}/", "/messaging/"):
        page = staff_client.get(url).content.decode()
        assert "Retry scheduled for 17:00 (after undelivered 30003)" in page
        assert "quiet hours" not in page.lower()


def test_a_retry_pushed_into_the_morning_says_quiet_hours_hold_it(
    client, staff_client, tenant_a, time_machine
):
    evening = NOON_IN_NZ + timedelta(hours=6)  # 19:00 in Auckland: the retry would be 23:00
    time_machine.move_to(evening, tick=False)
    message = Message.objects.create(
        tenant=tenant_a, kind="invoice_issued", channel="sms", dedup_key="invoice:1:issued",
        recipient="+64211234567", status="sent", provider_status="queued", body="Due",
    )  # fmt: skip
    post_twilio(client, f"/webhooks/twilio/status/{message.callback_token}/",
                "status__undelivered__30003")  # fmt: skip
    page = staff_client.get(f"/messaging/{_retry_of(message).pk}/").content.decode()
    assert "Held by quiet hours until 08:00 (retry after undelivered 30003)" in page


@pytest.fixture
def refused_stop(tenant_a):
    """A text Twilio refused because the customer had replied STOP (21610)."""
    message = Message.objects.create(
        tenant=tenant_a, kind="reminder", channel="sms", dedup_key="invoice:2:reminder:7d",
        recipient="+64211234567", status="failed", error_code="21610", body="Pay please",
        contact_name="Aroha Ngata",
    )  # fmt: skip
    OptOut.objects.create(tenant=tenant_a, phone="+64211234567", source="Twilio error 21610")
    return message


def _said(response) -> str:
    """What the person who pressed Resend was told: the page with its flash, or the API error."""
    if response["Content-Type"].startswith("application/json"):
        return response.json()["error"]["message"]
    return html.unescape(response.content.decode())


@pytest.mark.parametrize("resend", RESEND_PATHS)
def test_a_message_refused_after_stop_is_not_resent_and_says_why(
    resend, refused_stop, client, staff_a, staff_client
):
    page = staff_client.get(f"/messaging/{refused_stop.pk}/").content.decode()
    assert ">Resend</button>" not in page
    assert "replied STOP" in page
    response = resend(refused_stop, client=client, staff_a=staff_a)
    assert "replied STOP" in _said(response)
    assert "will be sent again" not in _said(response)
    assert not Message.objects.filter(resend_of=refused_stop).exists()
    if response["Content-Type"].startswith("application/json"):
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "opted_out"


@pytest.mark.parametrize("resend", RESEND_PATHS)
def test_a_resent_message_links_to_its_resend_and_is_not_resent_again(
    resend, client, staff_a, staff_client, tenant_a, noon, django_capture_on_commit_callbacks
):
    failed = Message.objects.create(
        tenant=tenant_a, kind="reminder", channel="sms", dedup_key="invoice:3:reminder:7d",
        recipient="+64211234567", status="failed", error_code="30007", body="Pay please",
    )  # fmt: skip
    with django_capture_on_commit_callbacks():
        first = staff_client.post(f"/messaging/{failed.pk}/resend/", follow=True)
        again = Message.objects.get(resend_of=failed)
        assert "will be sent again" in _said(first)
        second = resend(failed, client=client, staff_a=staff_a)
    assert f"Already resent as message #{again.pk}" in _said(second)
    assert "will be sent again" not in _said(second)
    assert Message.objects.filter(resend_of=failed).count() == 1
    staff_client.force_login(staff_a)
    page = staff_client.get(f"/messaging/{failed.pk}/").content.decode()
    assert ">Resend</button>" not in page
    assert f'href="/messaging/{again.pk}/"' in page


def test_the_admin_action_reports_what_it_did_for_each_message(
    client, refused_stop, tenant_a, noon, django_capture_on_commit_callbacks
):
    failed = Message.objects.create(
        tenant=tenant_a, kind="reminder", channel="sms", dedup_key="invoice:3:reminder:7d",
        recipient="+64219876543", status="failed", error_code="30007", body="Pay please",
    )  # fmt: skip
    delivered = Message.objects.create(
        tenant=tenant_a, kind="invoice_issued", channel="sms", dedup_key="invoice:4:issued",
        recipient="+64219876543", status="delivered", body="Thanks",
    )  # fmt: skip
    operator = get_user_model().objects.create_superuser("ops@dunwell.test", "ops@dunwell.test")
    client.force_login(operator)
    with django_capture_on_commit_callbacks():
        response = client.post(
            "/admin/messaging/message/",
            {"action": "resend", "_selected_action": [failed.pk, delivered.pk, refused_stop.pk]},
            follow=True,
        )
    said = _said(response)
    again = Message.objects.get(resend_of=failed)
    assert f"Queued 1 resend: message #{failed.pk} as #{again.pk}." in said
    assert "Skipped 2:" in said
    assert f"#{delivered.pk}: Only a failed or undelivered message can be resent" in said
    assert f"#{refused_stop.pk}: " in said and "replied STOP" in said


def test_bulk_resend_leaves_out_recipients_who_replied_stop(staff_client, refused_stop):
    confirm = staff_client.get("/messaging/resend/")
    assert "Nothing to resend" in confirm.content.decode()
