"""SMS → email fallback: a text that ends undelivered or failed goes once by email, when its
template asks for it, however often Twilio repeats itself or a worker retries."""

from dataclasses import replace

import pytest
import responses

from connections.models import MessagingSettings
from messaging.models import Message, MessageTemplate
from messaging.services import (
    contact_preference_save,
    message_dispatch,
    message_resend,
    messages_due_run,
    notify,
)
from tests.messaging.conftest import post_twilio, sendgrid_accepts, sent_emails, twilio_reply

pytestmark = pytest.mark.usefixtures("twilio_a", "noon")

KEY = "invoice:INV-0142:issued"


@pytest.fixture(autouse=True)
def fallback_on(tenant_a, twilio_a):
    """The set-up the fallback is for: texts by default, email only when a text fails."""
    MessagingSettings.objects.filter(tenant=tenant_a).update(default_channels=["sms"])
    MessageTemplate.objects.filter(tenant=tenant_a, channel="email").update(is_active=True)
    MessageTemplate.objects.filter(tenant=tenant_a, channel="sms").update(fallback_to_email=True)


@pytest.fixture
def providers():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        sendgrid_accepts(rsps)
        yield rsps


@pytest.fixture
def text(tenant_a, aroha, invoice_context, providers, django_capture_on_commit_callbacks):
    """Send the invoice text (Twilio answering with `reply`); return its row."""

    def _text(*, contact=aroha, reply=("message_create__queued", 201), kind="invoice_issued",
              key=KEY, **context):  # fmt: skip
        twilio_reply(providers, *reply)
        with django_capture_on_commit_callbacks(execute=True):
            sent = notify(tenant=tenant_a, kind=kind, contact=contact,
                          context={**invoice_context, **context}, dedup_key=key)  # fmt: skip
        (sms,) = [message for message in sent if message.channel == "sms"]
        sms.refresh_from_db()
        return sms

    return _text


@pytest.fixture
def callback(client, django_capture_on_commit_callbacks):
    def _callback(message, *names):
        for name in names:
            with django_capture_on_commit_callbacks(execute=True):
                response = post_twilio(client, f"/webhooks/twilio/status/{message.callback_token}/",
                                       name)  # fmt: skip
            assert response.status_code == 200
        message.refresh_from_db()

    return _callback


def _notes(message) -> list[str]:
    return [change.note for change in message.status_changes.all()]


def test_an_undelivered_text_goes_once_by_email_however_often_twilio_repeats_it(
    text, callback, providers
):
    sms = text()
    callback(sms, "status__undelivered__30005", "status__undelivered__30005",
             "status__failed__30008", "status__delivered")  # fmt: skip

    (email,) = Message.objects.filter(channel="email")
    assert (email.dedup_key, email.status, email.fallback_of) == (f"{KEY}:fallback", "sent", sms)
    (mail,) = sent_emails(providers)
    assert mail["personalizations"] == [{"to": [{"email": "aroha@example.test"}]}]
    assert mail["subject"] == "Invoice INV-0142 from Alpha Plumbing"
    assert "INV-0142 for $1,234.50, due 7 July 2026" in mail["content"][0]["value"]
    assert sms.status == "undelivered"
    assert f"Not delivered: the same notification goes by email (message #{email.pk})." in (
        _notes(sms)
    )


def test_a_delivered_text_sends_no_email(text, callback, providers):
    callback(text(), "status__sent", "status__delivered")
    assert not Message.objects.filter(channel="email").exists()
    assert not sent_emails(providers)


def test_a_text_twilio_refuses_for_good_falls_back_and_worker_retries_add_nothing(
    text, providers, django_capture_on_commit_callbacks
):
    sms = text(reply=("error__21211", 400))
    assert (sms.status, sms.error_code) == ("failed", "21211")
    with django_capture_on_commit_callbacks(execute=True):
        messages_due_run()
        message_dispatch(message=sms)
    assert Message.objects.filter(channel="email", status="sent").count() == 1
    assert len(sent_emails(providers)) == 1


def test_an_unreachable_handset_gets_the_email_instead_of_a_text_hours_later(text, callback):
    sms = text()
    callback(sms, "status__undelivered__30003")
    assert Message.objects.get(channel="email").status == "sent"
    assert not sms.resends.exists()


def test_without_the_templates_asking_nothing_more_happens(tenant_a, text, callback):
    MessageTemplate.objects.filter(tenant=tenant_a).update(fallback_to_email=False)
    sms = text()
    callback(sms, "status__undelivered__30005")
    assert Message.objects.count() == 1


def test_a_contact_without_an_email_address_is_said_so_on_the_texts_page(
    text, callback, aroha, staff_client, providers
):
    sms = text(contact=replace(aroha, email=""))
    callback(sms, "status__undelivered__30005", "status__undelivered__30005")

    (skipped,) = Message.objects.filter(channel="email")
    assert (skipped.status, skipped.error_code) == ("skipped", "no_email")
    note = f"No fallback email (message #{skipped.pk}): No email address in Xero."
    assert _notes(sms).count(note) == 1
    assert note in staff_client.get(f"/messaging/{sms.pk}/").text
    assert not sent_emails(providers)


def _no_sendgrid(tenant):
    MessagingSettings.objects.filter(tenant=tenant).update(sendgrid_api_key="")


def _no_email_template(tenant):
    MessageTemplate.objects.filter(tenant=tenant, channel="email").update(is_active=False)


def _prefers_texts(tenant):
    contact_preference_save(tenant=tenant, contact_id="c0a1e4b2-0000-4000-8000-000000000001",
                            contact_name="Aroha Ngata", channels=["sms"], language="",
                            by_user=None)  # fmt: skip


@pytest.mark.parametrize(
    ("arrange", "reason"),
    [
        (_no_sendgrid, "Email is not set up: add a SendGrid API key and From email in Messaging "
                       "settings."),
        (_no_email_template, "There is no active email template for “Invoice issued”."),
        (_prefers_texts, "The channels set for this contact leave out email."),
    ],
    ids=["no sendgrid", "no email template", "contact wants texts only"],
)  # fmt: skip
def test_when_no_email_can_go_the_text_says_why(
    tenant_a, text, callback, providers, arrange, reason
):
    arrange(tenant_a)
    sms = text()
    callback(sms, "status__undelivered__30005")
    skipped = Message.objects.get(channel="email")
    assert (skipped.status, skipped.status_reason) == ("skipped", reason)
    assert f"No fallback email (message #{skipped.pk}): {reason}" in _notes(sms)
    assert not sent_emails(providers)


def test_a_notification_that_already_went_by_email_is_not_emailed_again(
    tenant_a, aroha, text, callback, providers
):
    contact_preference_save(tenant=tenant_a, contact_id=aroha.contact_id, contact_name=aroha.name,
                            channels=["sms", "email"], language="", by_user=None)  # fmt: skip
    sms = text()
    callback(sms, "status__undelivered__30005")
    (email,) = Message.objects.filter(channel="email")
    assert email.dedup_key == KEY
    assert len(sent_emails(providers)) == 1
    assert any("this notification went by email too" in note for note in _notes(sms))


def test_a_resend_that_fails_again_sends_no_second_email(
    text, callback, providers, staff_a, django_capture_on_commit_callbacks
):
    sms = text()
    # Not a wrong number (30005 and the like): that resend would wait for a new one in Xero.
    callback(sms, "status__failed__30008")
    twilio_reply(providers, "message_create__queued", 201)
    with django_capture_on_commit_callbacks(execute=True):
        again = message_resend(message=sms, by_user=staff_a)
    callback(again, "status__failed__30008")
    assert again.status == "failed"
    assert len(sent_emails(providers)) == 1


def test_the_email_is_the_stages_template_in_the_contacts_language_with_the_same_values(
    tenant_a, aroha, text, callback, providers
):
    MessageTemplate.objects.create(
        tenant=tenant_a, kind="reminder", channel="email", reminder_stage="7-days",
        language="mi", subject="Kua tōmuri: {{ invoice_number }}",
        body="{{ days_overdue }} rā kua tōmuri, {{ amount_due }}.",
    )  # fmt: skip
    contact_preference_save(tenant=tenant_a, contact_id=aroha.contact_id, contact_name=aroha.name,
                            channels=[], language="mi", by_user=None)  # fmt: skip
    sms = text(kind="reminder", key=f"{KEY[:-7]}:reminder:7-days", reminder_stage="7-days",
               days_overdue=7)  # fmt: skip
    callback(sms, "status__failed__30008")
    (mail,) = sent_emails(providers)
    assert (mail["subject"], mail["content"][0]["value"]) == (
        "Kua tōmuri: INV-0142",
        "7 rā kua tōmuri, $1,234.50.",
    )
