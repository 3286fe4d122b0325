"""The onboarding wizard in a real browser: Xero's consent page and Twilio mocked.

The live server runs in this process, so `responses` intercepts its calls to Xero and Twilio;
the browser's own trip to Xero's login page is answered by a Playwright route that sends it
straight back to the callback, as Xero does after "Allow access".
"""

import json
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import responses
from django.conf import settings
from playwright.sync_api import expect

from tests.connections.test_xero_connect import AUTH_EVENT, NZ_ORG, _consent
from tests.dashboard.test_onboarding import (
    ACCOUNT_URL,
    MESSAGE_URL,
    MESSAGES_URL,
    TWILIO_FORM,
    _twilio,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
assert AUTH_EVENT and NZ_ORG  # the consent mocked by _consent is for these


@pytest.fixture
def mocked(settings, live_server):
    settings.XERO_CLIENT_ID = "DUNWELLTESTCLIENTID"
    settings.XERO_CLIENT_SECRET = "client-secret-for-tests"
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_passthru(live_server.url)
        _consent(mock)
        mock.get(ACCOUNT_URL, json=_twilio("account_fetch__active"))
        mock.post(MESSAGES_URL, json=_twilio("message_create__queued"), status=201)
        mock.get(MESSAGE_URL, json=_twilio("message_create__queued"))
        yield mock


def _xero_allows_access(page, live_server):
    def allow(route):
        state = parse_qs(urlsplit(route.request.url).query)["state"][0]
        query = urlencode({"code": "auth-code-1", "state": state})
        route.fulfill(
            status=302,
            headers={"Location": f"{live_server.url}/connections/xero/callback/?{query}"},
        )

    page.route(f"{settings.XERO_LOGIN_URL}/**", allow)


def test_an_owner_walks_the_whole_wizard_and_home_then_has_those_steps_done(
    logged_in_page, live_server, mocked, screenshot, console_errors
):
    page = logged_in_page
    _xero_allows_access(page, live_server)
    page.get_by_role("link", name="Continue set-up").click()
    expect(page.get_by_text("Step 1 of 5")).to_be_visible()
    screenshot("welcome-1-xero")
    page.get_by_role("link", name="Connect to Xero").click()
    page.get_by_label("Alpha Plumbing (NZ)").check()
    page.get_by_role("button", name="Connect").click()
    expect(page.get_by_text("Connected to Xero: Alpha Plumbing (NZ).")).to_be_visible()
    expect(page.get_by_text("Step 1 of 5")).to_be_visible()
    page.get_by_role("link", name="Continue", exact=True).click()

    expect(page.get_by_text("Step 2 of 5")).to_be_visible()
    page.get_by_label("Twilio Account SID").fill(TWILIO_FORM["twilio_account_sid"])
    page.get_by_label("Twilio Auth Token").fill(TWILIO_FORM["twilio_auth_token"])
    page.get_by_label("From number").fill(TWILIO_FORM["twilio_from_number"])
    screenshot("welcome-2-twilio")
    page.get_by_role("button", name="Check and save").click()

    expect(page.get_by_text("Step 3 of 5")).to_be_visible()
    expect(page.get_by_text("for the account “Alpha Accounts”")).to_be_visible()
    screenshot("welcome-3-email")
    page.get_by_role("link", name="Skip — set up email later").click()

    expect(page.get_by_text("Step 4 of 5")).to_be_visible()
    screenshot("welcome-4-review")
    page.get_by_role("button", name="Looks good").click()

    expect(page.get_by_text("Step 5 of 5")).to_be_visible()
    page.get_by_label("Your mobile number").fill("021 123 4567")
    screenshot("welcome-5-test")
    page.get_by_role("button", name="Send test message").click()

    expect(page.get_by_text("Twilio accepted the message")).to_be_visible()
    expect(page.get_by_text("Waiting for the delivery report")).to_be_visible()
    screenshot("welcome-5-waiting")
    mocked.replace(responses.GET, MESSAGE_URL, json=_twilio("message_fetch__delivered"))
    expect(page.get_by_text("The test message reached your phone")).to_be_visible()  # polled
    page.get_by_role("link", name="Continue", exact=True).click()
    screenshot("welcome-done-home")
    sent = json.dumps([call.request.url for call in mocked.calls])
    assert "Messages.json" in sent and f"{TWILIO_FORM['twilio_account_sid']}.json" in sent
    for done in (
        "Connect your Xero organisation",
        "Add your Twilio account",
        "Check your messages and reminder schedule",
        "Send yourself a test message",
    ):
        expect(page.locator(".step.done", has_text=done)).to_be_visible()
    assert console_errors == []


def test_a_test_message_that_fails_says_why_and_is_tried_again(
    logged_in_page, mocked, tenant_a, screenshot
):
    from connections.models import MessagingSettings

    MessagingSettings.objects.create(tenant=tenant_a, **TWILIO_FORM)
    mocked.replace(responses.GET, MESSAGE_URL, json=_twilio("message_fetch__undelivered__30003"))
    page = logged_in_page
    page.goto("/welcome/test/")
    page.get_by_label("Your mobile number").fill("021 123 4567")
    page.get_by_role("button", name="Send test message").click()

    expect(page.get_by_role("alert")).to_contain_text("The handset was unreachable")
    screenshot("welcome-5-undelivered")
    mocked.replace(responses.GET, MESSAGE_URL, json=_twilio("message_fetch__delivered"))
    page.get_by_label("Your mobile number").fill("021 123 4567")
    page.get_by_role("button", name="Try again").click()
    expect(page.get_by_text("The test message reached your phone")).to_be_visible()


def test_staff_see_no_owner_only_step_on_home(page, staff_a):
    from tests.browser.conftest import log_in
    from tests.conftest import PASSWORD

    log_in(page, staff_a.username, PASSWORD)

    expect(page.get_by_test_id("owner-steps")).to_contain_text("Your owner does this")
    expect(page.get_by_text("Send yourself a test message")).to_have_count(0)
    expect(page.get_by_role("link", name="Continue set-up")).to_have_count(0)
