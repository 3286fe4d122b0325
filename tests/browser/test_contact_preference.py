"""A contact's channels and language, set in a real browser from the send log, desktop and phone."""

import pytest

from messaging.models import ContactPreference, MessageTemplate
from snapshots.models import ContactSnapshot
from tests.browser.test_messaging_pages import PHONE, _overflow, message_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_reach_a_contact_from_the_send_log_and_choose_email_in_maori(
    logged_in_page, tenant_a, screenshot, console_errors
):
    message_create(tenant_a, "undelivered", name="Aroha Ngata", contact_id="c-aroha")
    ContactSnapshot.objects.create(
        tenant=tenant_a, xero_tenant_id="xt-alpha", contact_id="c-aroha", name="Aroha Ngata",
        email="aroha@example.test", phones=[{"PhoneType": "MOBILE", "PhoneNumber": "021 123 4567"}],
    )  # fmt: skip
    MessageTemplate.objects.create(tenant=tenant_a, kind="invoice_issued", channel="sms",
                                   language="mi", body="Kia ora {{ first_name }}")  # fmt: skip
    page = logged_in_page
    page.goto("/messaging/")
    page.get_by_role("link", name="Aroha Ngata").click()
    page.get_by_label("Email", exact=True).check()
    page.get_by_label("Language").select_option("mi")
    screenshot("contact-preference")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Saved how Aroha Ngata is reached.").wait_for()
    assert page.get_by_text("Now: Email, in Māori").is_visible()
    preference = ContactPreference.objects.get(tenant=tenant_a, contact_id="c-aroha")
    assert (preference.channels, preference.language) == (["email"], "mi")
    page.set_viewport_size(PHONE)
    assert _overflow(page) <= 0
    screenshot("contact-preference-phone")
    assert console_errors == []
