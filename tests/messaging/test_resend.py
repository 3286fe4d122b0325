"""Resend from the send log, the admin and the API: never twice, never to the wrong number, and
never a promise that is not kept."""

import html
from datetime import UTC, datetime, timedelta

import pytest
import responses
from django.contrib.auth import get_user_model

from api_tokens.services import api_token_create
from messaging.models import Message, OptOut
from messaging.services import messages_due_run
from messaging.services import resend as resend_service
from snapshots.models import ContactSnapshot
from tests.api.conftest import client_with_token
from tests.billing_events.helpers import API, XERO_TENANT_ID
from tests.messaging.conftest import NOON_IN_NZ, post_twilio, twilio_reply
from tests.xero_api import xero_connection_create, xero_json

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
    assert f"Queued 1 resend: message #{failed.pk} as #{again.pk} to +64219876543." in said
    assert "Skipped 2:" in said
    assert f"#{delivered.pk}: Only a failed or undelivered message" in said
    assert f"#{refused_stop.pk}: " in said and "replied STOP" in said


def test_bulk_resend_leaves_out_recipients_who_replied_stop(staff_client, refused_stop):
    confirm = staff_client.get("/messaging/resend/")
    assert "Nothing to resend" in confirm.content.decode()


# --- a resend goes to the number Xero has now ----------------------------------------------------

CONTACT_ID = "c4a7e5d0-1b2c-4d3e-9f80-a1b2c3d4e5f6"  # Ruapehu Motors in contacts__mobile
NUMBER_IN_XERO = "+64215550199"  # its MOBILE there: 021 555 0199
OLD_NUMBER = "+64215550123"


@pytest.fixture
def ruapehu(tenant_a):
    """Xero is connected, and Dunwell's snapshot of the contact still has the old mobile."""
    connection = xero_connection_create(
        tenant=tenant_a, xero_tenant_id=XERO_TENANT_ID, expires_in=timedelta(days=3650)
    )
    ContactSnapshot.objects.create(
        tenant=tenant_a, xero_tenant_id=XERO_TENANT_ID, contact_id=CONTACT_ID,
        name="Ruapehu Motors", first_name="Aroha",
        phones=[{"PhoneType": "MOBILE", "PhoneNumber": "555 0123", "PhoneAreaCode": "021",
                 "PhoneCountryCode": "64"}],
        updated_date_utc=datetime(2026, 10, 1, tzinfo=UTC),
    )  # fmt: skip
    return connection


def _failed_to(tenant, recipient: str, code: str) -> Message:
    return Message.objects.create(
        tenant=tenant, kind="reminder", channel="sms", dedup_key="invoice:5:reminder:7d",
        recipient=recipient, status="failed", error_code=code, body="Pay please",
        contact_id=CONTACT_ID, contact_name="Ruapehu Motors",
    )  # fmt: skip


@pytest.fixture
def xero():
    with responses.RequestsMock() as mock:  # a call nobody expected fails the test
        yield mock


def _contacts_fetched(xero) -> list[str]:
    return [
        call.request.params.get("IDs", "")
        for call in xero.calls
        if call.request.path_url.startswith("/api.xro/2.0/Contacts")
    ]


@pytest.mark.parametrize("resend", [_resend_from_the_send_log, _resend_through_the_api])
@pytest.mark.parametrize("code", ["21211", "21614", "30005"])
def test_a_resend_after_a_wrong_number_asks_xero_and_goes_to_the_number_it_has_now(
    resend, code, ruapehu, client, staff_a, noon, xero, django_capture_on_commit_callbacks
):
    failed = _failed_to(ruapehu.tenant, OLD_NUMBER, code)
    xero.add(responses.GET, f"{API}/Contacts", json=xero_json("contacts__mobile"))
    with django_capture_on_commit_callbacks():
        response = resend(failed, client=client, staff_a=staff_a)
    assert _contacts_fetched(xero) == [CONTACT_ID]  # one GET Contacts?IDs=
    again = Message.objects.get(resend_of=failed)
    assert (again.recipient, again.status) == (NUMBER_IN_XERO, "pending")
    if resend is _resend_from_the_send_log:
        said = _said(response)
        assert f"to {NUMBER_IN_XERO}, the number Xero has now (it was {OLD_NUMBER})" in said
    else:
        assert response.json()["recipient"] == NUMBER_IN_XERO
    snapshot = ContactSnapshot.objects.get(contact_id=CONTACT_ID)
    assert "555 0199" in [phone["PhoneNumber"] for phone in snapshot.phones]


@pytest.mark.parametrize("resend", RESEND_PATHS)
def test_a_resend_to_a_number_that_cannot_take_texts_and_is_unchanged_is_refused(
    resend, ruapehu, client, staff_a, noon, xero
):
    failed = _failed_to(ruapehu.tenant, NUMBER_IN_XERO, "21211")
    xero.add(responses.GET, f"{API}/Contacts", json=xero_json("contacts__mobile"))
    response = resend(failed, client=client, staff_a=staff_a)
    said = _said(response)
    assert f"Xero still has {NUMBER_IN_XERO} for Ruapehu Motors" in said
    assert "will be sent again" not in said
    assert not Message.objects.filter(resend_of=failed).exists()
    if resend is _resend_through_the_api:
        assert (response.status_code, response.json()["error"]["code"]) == (409, "same_number")


def test_a_resend_that_cannot_ask_xero_says_so_and_sends_nothing(ruapehu, staff_client, noon, xero):
    failed = _failed_to(ruapehu.tenant, OLD_NUMBER, "21211")
    xero.add(
        responses.GET, f"{API}/Contacts", status=429, json={},
        headers={"Retry-After": "3600", "X-Rate-Limit-Problem": "day"},
    )  # fmt: skip
    said = _said(staff_client.post(f"/messaging/{failed.pk}/resend/", follow=True))
    assert "Could not ask Xero for the contact's current number" in said
    assert not Message.objects.filter(resend_of=failed).exists()


def test_a_resend_after_another_failure_does_not_ask_xero_but_uses_the_latest_number(
    ruapehu, staff_client, noon, xero, django_capture_on_commit_callbacks
):
    ContactSnapshot.objects.filter(contact_id=CONTACT_ID).update(
        phones=[{"PhoneType": "MOBILE", "PhoneNumber": "+64 21 555 0199"}]
    )  # a webhook brought the new number since
    failed = _failed_to(ruapehu.tenant, OLD_NUMBER, "30007")
    with django_capture_on_commit_callbacks():
        staff_client.post(f"/messaging/{failed.pk}/resend/")
    assert _contacts_fetched(xero) == []
    assert Message.objects.get(resend_of=failed).recipient == NUMBER_IN_XERO


def test_a_resend_after_a_wrong_number_says_when_xero_has_no_number_now(
    ruapehu, staff_client, noon, xero
):
    failed = _failed_to(ruapehu.tenant, OLD_NUMBER, "21614")
    xero.add(responses.GET, f"{API}/Contacts", json=xero_json("contacts__no_phone"))
    said = _said(staff_client.post(f"/messaging/{failed.pk}/resend/", follow=True))
    assert "No mobile or default phone number in Xero. Fix it in Xero, then resend." in said
    assert not Message.objects.filter(resend_of=failed).exists()


def test_an_email_refused_for_its_address_is_resent_to_the_address_xero_has_now(
    ruapehu, staff_client, noon, xero, django_capture_on_commit_callbacks
):
    failed = Message.objects.create(
        tenant=ruapehu.tenant, kind="reminder", channel="email", dedup_key="invoice:5:reminder:7d",
        recipient="aroha@old.example", status="failed", error_code="400", body="Pay please",
        error_message="SendGrid refused the email: Does not contain a valid address.",
        contact_id=CONTACT_ID, contact_name="Ruapehu Motors", subject="Overdue",
    )  # fmt: skip
    xero.add(responses.GET, f"{API}/Contacts", json=xero_json("contacts__mobile"))
    with django_capture_on_commit_callbacks():
        said = _said(staff_client.post(f"/messaging/{failed.pk}/resend/", follow=True))
    assert Message.objects.get(resend_of=failed).recipient == "aroha@ruapehu-motors.example"
    assert "sent again to aroha@ruapehu-motors.example, the address Xero has now" in said


def test_one_admin_click_asks_xero_about_a_bounded_number_of_wrong_numbers(
    ruapehu, client, staff_a, noon, xero, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(resend_service, "BULK_XERO_LOOKUP_LIMIT", 2)
    wrong = [
        Message.objects.create(
            tenant=ruapehu.tenant,
            kind="reminder",
            channel="sms",
            status="failed",
            dedup_key=f"invoice:{n}:reminder:7d",
            recipient=OLD_NUMBER,
            error_code="21211",
            body="Pay please",
            contact_id=CONTACT_ID,
            contact_name="Ruapehu Motors",
        )  # fmt: skip
        for n in range(3)
    ]
    xero.add(responses.GET, f"{API}/Contacts", json=xero_json("contacts__mobile"))
    operator = get_user_model().objects.create_superuser("ops@dunwell.test", "ops@dunwell.test")
    client.force_login(operator)
    with django_capture_on_commit_callbacks():
        response = client.post(
            "/admin/messaging/message/",
            {"action": "resend", "_selected_action": [m.pk for m in wrong]},
            follow=True,
        )
    assert len(_contacts_fetched(xero)) == 2
    said = _said(response)
    assert "Queued 2 resends" in said
    assert f"#{wrong[2].pk}: Not this time: at most 2 need Xero's number at once" in said
