"""Per-contact channels and language: notify() sends on the contact's channels (else the
tenant's), in their language (else the default wording), and says so when nothing can go."""

from urllib.parse import parse_qs

import pytest
import responses

from connections.models import MessagingSettings
from messaging.models import MessageTemplate
from messaging.services import contact_preference_save, notify
from tests.messaging.conftest import sendgrid_accepts, sent_emails, twilio_reply

pytestmark = pytest.mark.usefixtures("twilio_a", "noon")

CONTENT_SID = "HX" + "0" * 32


@pytest.fixture(autouse=True)
def providers():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        twilio_reply(rsps, "message_create__queued", 201)
        sendgrid_accepts(rsps)
        yield rsps


@pytest.fixture
def email_on(tenant_a):
    MessageTemplate.objects.filter(tenant=tenant_a, channel="email").update(is_active=True)


@pytest.fixture
def send(tenant_a, aroha, invoice_context, django_capture_on_commit_callbacks):
    def _send(kind="invoice_issued", contact=aroha, key="invoice:INV-0142:issued", **extra):
        with django_capture_on_commit_callbacks(execute=True):
            messages = notify(tenant=tenant_a, kind=kind, contact=contact,
                              context={**invoice_context, **extra}, dedup_key=key)  # fmt: skip
        for message in messages:
            message.refresh_from_db()
        return {message.channel: message for message in messages}

    return _send


def _prefer(tenant, contact, *, channels=(), language="", user=None):
    contact_preference_save(
        tenant=tenant, contact_id=contact.contact_id, contact_name=contact.name,
        channels=channels, language=language, by_user=user,
    )  # fmt: skip


def test_by_default_every_channel_with_an_active_template_is_used(send, email_on, providers):
    sent = send()
    assert {channel: m.status for channel, m in sent.items()} == {"sms": "sent", "email": "sent"}
    assert sent_emails(providers)[0]["personalizations"][0]["to"] == [
        {"email": "aroha@example.test"}
    ]


@pytest.mark.parametrize(
    ("channels", "expected"),
    [(["sms"], {"sms"}), (["email"], {"email"}), (["sms", "email"], {"sms", "email"})],
    ids=["sms only", "email only", "both"],
)
def test_a_contact_gets_only_the_channels_staff_chose(
    send, email_on, tenant_a, aroha, providers, channels, expected
):
    _prefer(tenant_a, aroha, channels=channels)
    sent = send()
    assert set(sent) == expected
    assert all(message.status == "sent" for message in sent.values())
    assert bool(sent_emails(providers)) == ("email" in expected)


def test_the_tenants_default_channels_apply_to_contacts_without_their_own(
    send, email_on, tenant_a, aroha
):
    MessagingSettings.objects.filter(tenant=tenant_a).update(default_channels=["email"])
    assert set(send()) == {"email"}
    _prefer(tenant_a, aroha, channels=["sms"])
    assert set(send(key="invoice:INV-0143:issued")) == {"sms"}


def test_preferred_channels_without_a_template_are_logged_as_skipped_with_the_reason(
    send, tenant_a, aroha, providers
):
    _prefer(tenant_a, aroha, channels=["whatsapp", "email"])  # email templates are off
    (skipped,) = send().values()
    assert (skipped.channel, skipped.status, skipped.error_code) == (
        "none",
        "skipped",
        "no_channel",
    )
    assert skipped.status_reason == (
        "No active template for “Invoice issued” on WhatsApp or Email, the channels set for this "
        "contact; there is one for SMS. Nothing was sent."
    )
    assert not providers.calls


def test_without_any_template_the_reason_stays_no_template(send, tenant_a, aroha):
    MessageTemplate.objects.filter(tenant=tenant_a, kind="invoice_issued").delete()
    (skipped,) = send().values()
    assert skipped.error_code == "no_template"


def test_whatsapp_is_used_when_the_contact_prefers_it(send, tenant_a, aroha, providers):
    MessageTemplate.objects.create(
        tenant=tenant_a, kind="invoice_issued", channel="whatsapp", content_sid=CONTENT_SID,
        content_variables={"1": "{{ invoice_number }}"},
    )  # fmt: skip
    MessagingSettings.objects.filter(tenant=tenant_a).update(whatsapp_from="+6498880000")
    _prefer(tenant_a, aroha, channels=["whatsapp"])
    sent = send()
    assert set(sent) == {"whatsapp"}
    assert sent["whatsapp"].status == "sent"
    assert parse_qs(providers.calls[0].request.body)["To"] == ["whatsapp:+64211234567"]


# --- language -----------------------------------------------------------------------------------


def _maori_sms(tenant, **fields):
    values = {
        "tenant": tenant,
        "kind": "invoice_issued",
        "channel": "sms",
        "language": "mi",
        "body": "Kia ora {{ first_name }}, nama {{ invoice_number }}: {{ amount_due }}.",
    }
    return MessageTemplate.objects.create(**{**values, **fields})  # fmt: skip


def test_a_contact_gets_the_template_in_their_language(send, tenant_a, aroha):
    _maori_sms(tenant_a)
    _prefer(tenant_a, aroha, language="mi")
    assert send()["sms"].body == "Kia ora Aroha, nama INV-0142: $1,234.50."


def test_without_a_template_in_their_language_the_default_wording_is_used(
    send, tenant_a, aroha, email_on
):
    _maori_sms(tenant_a)  # SMS only: email has no Māori template
    _prefer(tenant_a, aroha, language="mi")
    sent = send(kind="payment_received", key="payment:P-1:receipt", payment_amount="100")
    assert sent["sms"].body.startswith("Thanks Aroha")
    sent = send()
    assert sent["sms"].body.startswith("Kia ora")
    assert sent["email"].subject == "Invoice INV-0142 from Alpha Plumbing"


def test_other_contacts_get_the_default_wording_unless_the_tenant_default_changes(
    send, tenant_a, aroha
):
    _maori_sms(tenant_a)
    assert send()["sms"].body.startswith("Hi Aroha")
    MessagingSettings.objects.filter(tenant=tenant_a).update(default_language="mi")
    assert send(key="invoice:INV-0143:issued")["sms"].body.startswith("Kia ora")


def test_the_language_wins_over_a_closer_match_of_group_or_stage(send, tenant_a, aroha):
    MessageTemplate.objects.create(
        tenant=tenant_a, kind="reminder", channel="sms", reminder_stage="7-days",
        body="Stage seven {{ invoice_number }}",
    )  # fmt: skip
    _maori_sms(tenant_a, kind="reminder", body="Whakamaumahara {{ invoice_number }}")
    _prefer(tenant_a, aroha, language="mi")
    sent = send(kind="reminder", key="invoice:INV-0142:reminder:7-days", reminder_stage="7-days")
    assert sent["sms"].body == "Whakamaumahara INV-0142"
