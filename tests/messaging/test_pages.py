"""The send log, resend, and the messaging settings page with its test button."""

from datetime import UTC, datetime

import pytest
import responses
import time_machine
from django.db import connection

from connections.models import MessagingSettings
from messaging.models import Message
from tests.messaging.conftest import ACCOUNT_SID, AUTH_TOKEN, twilio_reply


@pytest.fixture
def failed_message(tenant_a):
    message = Message.objects.create(
        tenant=tenant_a, kind="reminder", channel="sms", dedup_key="invoice:9:reminder:7d",
        recipient="+64211234567", status="failed", error_code="30007", body="Pay please",
        contact_name="Aroha Ngata",
    )  # fmt: skip
    return message


@pytest.fixture
def midday_utc():
    # Tenant A's zone is UTC: on the wall clock between 21:00 and 08:00 a resend waits for the
    # end of quiet hours ("scheduled"), so the test fixes the time.
    with time_machine.travel(datetime(2026, 7, 7, 12, 0, tzinfo=UTC), tick=False):
        yield


def test_the_send_log_lists_and_filters_messages(staff_client, failed_message):
    page = staff_client.get("/messaging/?status=failed").content.decode()
    assert "Aroha Ngata" in page
    assert "Aroha Ngata" not in staff_client.get("/messaging/?status=delivered").content.decode()


@pytest.mark.usefixtures("midday_utc")
def test_staff_can_resend_a_failed_message_as_a_new_linked_one(
    staff_client, failed_message, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks():
        response = staff_client.post(f"/messaging/{failed_message.pk}/resend/")  # no kick run
        staff_client.post(f"/messaging/{failed_message.pk}/resend/")  # a double click
    again = Message.objects.get(resend_of=failed_message)
    assert response["Location"] == f"/messaging/{again.pk}/"
    assert again.dedup_key == "invoice:9:reminder:7d:resend:1"
    assert (again.status, again.body, again.recipient) == ("pending", "Pay please", "+64211234567")
    assert "Resent by staff@alpha.test" in again.status_changes.first().note
    page = staff_client.get(f"/messaging/{again.pk}/").content.decode()
    assert "Resend of" in page


def test_a_delivered_message_cannot_be_resent(staff_client, failed_message):
    Message.objects.filter(pk=failed_message.pk).update(status="delivered")
    staff_client.post(f"/messaging/{failed_message.pk}/resend/")
    assert not Message.objects.filter(resend_of=failed_message).exists()


def test_secrets_are_encrypted_and_never_shown_again(owner_client, tenant_a):
    owner_client.post(
        "/messaging/settings/",
        {"twilio_account_sid": ACCOUNT_SID, "twilio_auth_token": AUTH_TOKEN,
         "sendgrid_api_key": "SG.top-secret", "validity_period_seconds": 3600},
    )  # fmt: skip
    owner_client.post(  # a blank secret keeps the stored one
        "/messaging/settings/",
        {"twilio_account_sid": ACCOUNT_SID, "twilio_from_number": "+6498880000",
         "validity_period_seconds": 3600},
    )  # fmt: skip
    row = MessagingSettings.objects.get(tenant=tenant_a)
    assert (row.twilio_auth_token, row.sendgrid_api_key) == (AUTH_TOKEN, "SG.top-secret")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT twilio_auth_token, sendgrid_api_key FROM connections_messagingsettings"
        )
        stored = cursor.fetchone()
    assert AUTH_TOKEN not in stored[0] and "top-secret" not in stored[1]
    page = owner_client.get("/messaging/settings/").content.decode()
    assert AUTH_TOKEN not in page and "top-secret" not in page


def test_staff_who_are_not_owners_cannot_open_the_settings(staff_client):
    assert staff_client.get("/messaging/settings/").status_code == 403


@responses.activate
def test_the_test_button_reports_twilios_answer_in_plain_words(owner_client, twilio_a):
    twilio_reply(responses, "error__21211", 400)
    response = owner_client.post(
        "/messaging/settings/test/", {"phone": "021 123 4567"}, follow=True
    )
    assert "The phone number is not a valid phone number" in response.content.decode()
    twilio_reply(responses, "message_create__queued", 201)
    response = owner_client.post(
        "/messaging/settings/test/", {"phone": "021 123 4567"}, follow=True
    )
    assert "Twilio accepted the message (status “queued”" in response.content.decode()
