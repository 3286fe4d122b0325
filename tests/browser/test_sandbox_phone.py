"""The sandbox phone at a phone's width: texts read as a phone shows them, and Twilio's answers
to the opt-out keywords appear as they would on a real phone."""

import pytest

from sandbox.models import OptOut, TwilioAccount
from sandbox.twilio_fake import message_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AROHA = "+64215550101"
PAY_LINK = "https://dunwell.example.com/pay/Zq8kWm3RtY6pLx2NcV7bHj4FdS9gK5aQwE1uIo0/"


@pytest.fixture
def twilio_account():
    return TwilioAccount.objects.create(
        account_sid="AC" + "a" * 32, auth_token="b" * 32, from_number="+15005550006"
    )


@pytest.fixture
def phone(page, twilio_account):
    page.set_viewport_size({"width": 390, "height": 844})
    text = message_create(
        account=twilio_account,
        form={
            "To": AROHA,
            "From": twilio_account.from_number,
            "Body": f"Invoice INV-0003 for $485.00 is due today. Pay here: {PAY_LINK}",
        },
    )
    page.goto(f"/sandbox/twilio/phones/{AROHA}/")
    return page, text


def test_a_text_is_a_bubble_not_a_flash_banner(phone, screenshot):
    page, text = phone

    assert page.locator(".flash").count() == 0
    assert text.sid not in page.content()
    assert page.locator(".sandbox-thread li").first.inner_text().startswith("Invoice INV-0003")
    screenshot("sandbox-phone-390")


def test_a_long_link_wraps_inside_its_bubble(phone):
    page, _ = phone
    bubble = page.locator(".sandbox-thread li", has_text="Pay here")

    assert bubble.evaluate("li => li.scrollWidth <= li.clientWidth")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_start_brings_twilios_confirmation_like_stop_does(phone, twilio_account, screenshot):
    page, _ = phone
    for keyword, answer in (
        ("STOP", "You have successfully been unsubscribed."),
        ("START", "You have successfully been re-subscribed to messages from this number."),
    ):
        page.get_by_label("Reply").fill(keyword)
        page.get_by_role("button", name="Send").click()
        page.locator(".sandbox-thread li.theirs", has_text=answer).wait_for()

    assert not OptOut.objects.filter(account=twilio_account, number=AROHA).exists()
    screenshot("sandbox-phone-start-390")
