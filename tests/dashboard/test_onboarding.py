"""The onboarding wizard (/welcome/): five steps, progress shown, Twilio checked for real."""

import json
from pathlib import Path

import pytest
import responses
from django.conf import settings

from connections.models import MessagingSettings, Tenant
from tests.xero_api import xero_connection_create

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "twilio"
ACCOUNT_SID = "AC00000000000000000000000000000001"
ACCOUNT_URL = f"{settings.TWILIO_API_URL}/2010-04-01/Accounts/{ACCOUNT_SID}.json"
MESSAGES_URL = f"{settings.TWILIO_API_URL}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
MESSAGE_URL = MESSAGES_URL.replace(".json", "/SM00000000000000000000000000000142.json")
TWILIO_FORM = {
    "twilio_account_sid": ACCOUNT_SID,
    "twilio_auth_token": "twilio-auth-token-alpha",
    "twilio_from_number": "+6498880000",
}


def _twilio(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


@pytest.fixture
def twilio():
    with responses.RequestsMock() as mock:
        yield mock


@pytest.fixture
def twilio_saved(tenant_a):
    return MessagingSettings.objects.create(tenant=tenant_a, **TWILIO_FORM)


def test_a_new_owner_starts_at_step_one_of_five(owner_client):
    response = owner_client.get("/welcome/")
    assert response["Location"] == "/welcome/xero/"
    page = owner_client.get("/welcome/xero/").text
    assert "Step 1 of 5" in page
    assert 'href="/welcome/xero/" aria-current="step"' in page
    assert 'href="/connections/xero/connect/?next=%2Fwelcome%2Fxero%2F"' in page


def test_the_xero_step_lists_the_connected_organisation_and_moves_on(owner_client, tenant_a):
    xero_connection_create(tenant=tenant_a, name="Alpha Plumbing (NZ)")
    page = owner_client.get("/welcome/xero/").text
    assert "Alpha Plumbing (NZ)" in page
    assert '<a class="button" href="/welcome/twilio/">Continue</a>' in page
    assert owner_client.get("/welcome/")["Location"] == "/welcome/twilio/"


def test_twilio_credentials_are_saved_once_twilio_accepts_them(owner_client, tenant_a, twilio):
    twilio.get(ACCOUNT_URL, json=_twilio("account_fetch__active"))
    response = owner_client.post("/welcome/twilio/", TWILIO_FORM, follow=True)
    assert response.redirect_chain[0][0] == "/welcome/email/"
    assert "Twilio accepted these credentials for the account “Alpha Accounts”." in response.text
    assert "Step 3 of 5" in response.text
    saved = MessagingSettings.objects.get(tenant=tenant_a)
    assert (saved.twilio_account_sid, saved.twilio_auth_token) == (
        ACCOUNT_SID,
        "twilio-auth-token-alpha",
    )
    assert twilio.calls[0].request.headers["Authorization"].startswith("Basic ")


@pytest.mark.parametrize(
    ("fixture", "status", "words"),
    [
        ("error__20003", 401, "Twilio refused the Account SID / Auth Token (or API key)."),
        ("error__20404", 404, "Twilio has no account with that Account SID."),
        ("account_fetch__suspended", 200, "Your Twilio account is suspended"),
    ],
)
def test_twilio_credentials_twilio_refuses_are_explained_and_not_saved(
    owner_client, tenant_a, twilio, fixture, status, words
):
    twilio.get(ACCOUNT_URL, json=_twilio(fixture), status=status)
    response = owner_client.post("/welcome/twilio/", TWILIO_FORM)
    assert response.status_code == 200
    assert words in response.text
    assert "Step 2 of 5" in response.text
    assert not MessagingSettings.objects.filter(tenant=tenant_a).exists()
    assert "twilio-auth-token-alpha" not in response.text  # a secret is never shown back


def test_twilio_is_not_called_without_a_secret_or_a_sender(owner_client, twilio):
    page = owner_client.post("/welcome/twilio/", {"twilio_account_sid": ACCOUNT_SID}).text
    assert "Twilio needs a sender." in page
    form = {"twilio_account_sid": ACCOUNT_SID, "twilio_from_number": "+6498880000"}
    assert "Enter your Auth Token" in owner_client.post("/welcome/twilio/", form).text
    assert len(twilio.calls) == 0


def test_email_is_optional_and_can_be_skipped_or_saved(owner_client, tenant_a, twilio_saved):
    page = owner_client.get("/welcome/email/").text
    assert "Step 3 of 5" in page
    assert '<a href="/welcome/review/">Skip — set up email later</a>' in page
    form = {"sendgrid_api_key": "SG.key", "sendgrid_from_email": "accounts@alpha.test"}
    assert owner_client.post("/welcome/email/", form)["Location"] == "/welcome/review/"
    twilio_saved.refresh_from_db()
    assert (twilio_saved.sendgrid_api_key, twilio_saved.twilio_auth_token) == (
        "SG.key",
        "twilio-auth-token-alpha",
    )


def test_the_review_shows_templates_and_reminder_stages_and_looks_good_is_recorded(
    owner_client, tenant_a
):
    page = owner_client.get("/welcome/review/").text
    assert "Step 4 of 5" in page
    assert "has sent you invoice" in page  # the default invoice SMS
    assert "1 day after the due date" in page and "7 days after the due date" in page
    assert owner_client.post("/welcome/review/")["Location"] == "/welcome/test/"
    tenant_a.refresh_from_db()
    assert tenant_a.templates_reviewed_at is not None
    assert "Review messages" not in owner_client.get("/").text


def test_a_test_message_ticks_off_the_last_step_only_once_delivered(
    owner_client, tenant_a, twilio, twilio_saved
):
    twilio.post(MESSAGES_URL, json=_twilio("message_create__queued"), status=201)
    twilio.get(MESSAGE_URL, json=_twilio("message_create__queued"))
    response = owner_client.post("/welcome/test/", {"phone": "021 123 4567"}, follow=True)
    assert "Twilio accepted the message" in response.text
    assert "Waiting for the delivery report" in response.text
    assert "Send a test message" in owner_client.get("/").text  # queued is not delivered

    twilio.replace(responses.GET, MESSAGE_URL, json=_twilio("message_fetch__delivered"))
    page = owner_client.get("/welcome/test/", headers={"HX-Request": "true"}).text
    assert "The test message reached your phone" in page
    tenant_a.refresh_from_db()
    assert tenant_a.test_message_delivered_at is not None
    assert "Send a test message" not in owner_client.get("/").text
    owner_client.get("/welcome/test/")
    assert len(twilio.calls) == 3  # delivered is final: Twilio is not asked again


def test_an_undelivered_test_message_says_why_and_can_be_sent_again(
    owner_client, tenant_a, twilio, twilio_saved
):
    twilio.post(MESSAGES_URL, json=_twilio("message_create__queued"), status=201)
    twilio.get(MESSAGE_URL, json=_twilio("message_fetch__undelivered__30003"))
    page = owner_client.post("/welcome/test/", {"phone": "021 123 4567"}, follow=True).text
    assert (
        "The test message was not delivered. The handset was unreachable (switched off or out "
        "of coverage). (Twilio status “undelivered”, error 30003)." in page
    )
    assert "Try again" in page
    assert Tenant.objects.get(pk=tenant_a.pk).test_message_delivered_at is None
    assert "Send a test message" in owner_client.get("/").text


def test_a_test_message_twilio_refuses_is_explained_and_not_recorded(
    owner_client, tenant_a, twilio, twilio_saved
):
    twilio.post(MESSAGES_URL, json=_twilio("error__21211"), status=400)
    page = owner_client.post("/welcome/test/", {"phone": "021 123 4567"}).text
    assert "Step 5 of 5" in page
    assert "The phone number is not a valid phone number." in page
    assert Tenant.objects.get(pk=tenant_a.pk).test_message_sent_at is None
    assert "Waiting for the delivery report" not in page


@pytest.mark.parametrize(
    "url", ["/welcome/", "/welcome/xero/", "/welcome/twilio/", "/welcome/email/",
            "/welcome/review/", "/welcome/test/"],
)  # fmt: skip
def test_staff_cannot_use_the_wizard_and_see_that_their_owner_does_it(staff_client, url):
    assert staff_client.get(url).status_code == 403
    assert staff_client.post(url).status_code == 403
    assert "Your owner does this; nothing is needed from you." in staff_client.get("/").text
