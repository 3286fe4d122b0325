"""The template editor, the send log and the dashboard in a real browser, desktop and phone."""

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
import responses
from django.utils import timezone
from playwright.sync_api import expect

from messaging.models import Message, OptOut
from snapshots.models import ContactSnapshot
from tests.billing_events.helpers import API, XERO_TENANT_ID
from tests.browser.conftest import log_in
from tests.conftest import PASSWORD
from tests.xero_api import xero_connection_create, xero_json

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 375, "height": 740}


def message_create(tenant, status, *, name, minutes_ago=5, **fields):
    return Message.objects.create(
        tenant=tenant, kind=fields.pop("kind", "invoice_issued"), channel="sms", status=status,
        dedup_key=fields.pop("dedup_key", f"invoice:{name}:issued"), contact_name=name,
        recipient="+64211234567",
        body=f"Hi {name}, invoice INV-0142 for $485.00 is due on 7 July.",
        created_at=timezone.now() - timedelta(minutes=minutes_ago), **fields,
    )  # fmt: skip


def _overflow(page):
    return page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


def test_a_template_is_edited_with_a_live_preview_counter_and_validation(
    logged_in_page, tenant_a, screenshot, console_errors
):
    page = logged_in_page
    page.get_by_role("link", name="Templates", exact=True).click()
    screenshot("templates")
    page.get_by_role("link", name="SMS template for Invoice issued").click()
    segments, encoding = page.get_by_test_id("sms-segments"), page.get_by_test_id("sms-encoding")
    expect(encoding).to_have_text("GSM-7")
    expect(segments).to_have_text("1")

    body = page.get_by_label(re.compile(r"^Message:?$"))
    body.press("End")
    body.press("Control+End")
    page.keyboard.type(" Thanks 🎉")
    expect(encoding).to_have_text("UCS-2")
    expect(segments).to_have_text(re.compile(r"^[2-9]$"))
    expect(page.locator("mark.ucs2")).to_have_text("🎉")
    expect(page.get_by_test_id("preview-text")).to_contain_text("Thanks 🎉")

    page.get_by_role("button", name="reference", exact=True).click()
    assert body.input_value().endswith("Thanks 🎉{{ reference }}")
    expect(page.get_by_test_id("preview-text")).to_contain_text("Thanks 🎉Job 2291")
    screenshot("template-editor")
    page.get_by_role("button", name="Save template").click()
    expect(page.get_by_role("status")).to_contain_text("Template saved")
    template = tenant_a.message_templates.get(kind="invoice_issued", channel="sms")
    assert template.body.endswith("Thanks 🎉{{ reference }}")

    page.get_by_role("link", name="SMS template for Invoice issued").click()
    body.fill("Hello {{ first_name }}\nPlease pay {{ amount_owed }}")
    expect(page.get_by_role("alert")).to_contain_text(
        "Line 2: unknown variable “amount_owed”. Did you mean “amount_due”?"
    )
    page.get_by_role("button", name="Save template").click()
    expect(page.get_by_text("The template was not saved")).to_be_visible()
    expect(body).to_have_attribute("aria-invalid", "true")
    screenshot("template-editor-error")
    page.set_viewport_size(PHONE)
    assert _overflow(page) <= 0
    screenshot("template-editor-phone")
    assert console_errors == []


def test_the_send_log_is_filtered_and_a_failed_message_resent(
    logged_in_page, tenant_a, screenshot, console_errors
):
    message_create(tenant_a, "delivered", name="Aroha Ngata")
    invalid = "The carrier filtered the message (spam filtering)."
    failed = message_create(tenant_a, "failed", name="Ben Smith", error_code="30007",
                            error_message=invalid)  # fmt: skip
    page = logged_in_page
    page.get_by_role("link", name="Send log", exact=True).click()
    expect(page.get_by_role("cell", name="Aroha Ngata")).to_be_visible()
    screenshot("send-log")
    page.get_by_label("Status").select_option("failed")
    page.get_by_role("button", name="Filter", exact=True).click()
    expect(page.get_by_role("cell", name="Aroha Ngata")).to_have_count(0)
    page.get_by_role("row", name=re.compile("Ben Smith")).get_by_role("link").click()
    expect(page.get_by_text(invalid)).to_be_visible()
    screenshot("message-detail")
    page.get_by_role("button", name="Resend").click()
    expect(page.get_by_role("status")).to_contain_text(
        "The message will be sent again to +64211234567"
    )
    again = Message.objects.get(resend_of=failed)
    assert page.url.endswith(f"/messaging/{again.pk}/")
    expect(page.get_by_role("link", name=f"message {failed.pk}")).to_be_visible()
    assert console_errors == []


def test_a_resend_replaces_the_waiting_retry_and_each_says_what_it_waits_for(
    logged_in_page, tenant_a, screenshot, console_errors
):
    original = message_create(tenant_a, "undelivered", name="Aroha Ngata", error_code="30003",
                              error_message="The handset was unreachable.")  # fmt: skip
    retry_at = timezone.now() + timedelta(hours=4)
    retry = message_create(tenant_a, "scheduled", name="Aroha Ngata", resend_of=original,
                           dedup_key=f"{original.dedup_key}:unreachable-retry",
                           send_after=retry_at, next_attempt_at=retry_at)  # fmt: skip
    at = timezone.localtime(retry_at, ZoneInfo(tenant_a.timezone)).strftime("%H:%M")
    page = logged_in_page
    page.goto("/messaging/")
    row = page.get_by_role("row", name=re.compile("Scheduled"))
    expect(row).to_contain_text(f"Retry scheduled for {at} (after undelivered 30003)")
    expect(page.get_by_text("quiet hours")).to_have_count(0)
    screenshot("send-log-waiting-retry")
    page.set_viewport_size(PHONE)
    assert _overflow(page) <= 0
    screenshot("send-log-waiting-retry-phone")
    page.set_viewport_size({"width": 1280, "height": 800})

    page.goto(f"/messaging/{original.pk}/")
    expect(page.get_by_role("link", name=f"message {retry.pk}")).to_be_visible()  # Retried as
    page.get_by_role("button", name="Resend").click()
    expect(page.get_by_role("status")).to_contain_text("will be sent again to +64211234567")
    again = Message.objects.get(resend_of=original, dedup_key__endswith=":resend:1")
    retry.refresh_from_db()
    assert retry.status == "cancelled"
    page.goto(f"/messaging/{original.pk}/")
    expect(page.get_by_role("button", name="Resend")).to_have_count(0)
    expect(page.get_by_text(f"Already resent as message #{again.pk}")).to_be_visible()
    screenshot("message-resent")
    page.set_viewport_size(PHONE)
    assert _overflow(page) <= 0
    screenshot("message-resent-phone")
    assert console_errors == []


def test_a_resend_after_a_wrong_number_goes_to_the_number_xero_has_now(
    logged_in_page, tenant_a, screenshot, console_errors
):
    xero_connection_create(tenant=tenant_a, xero_tenant_id=XERO_TENANT_ID,
                           expires_in=timedelta(days=3650))  # fmt: skip
    contact = xero_json("contacts__mobile")["Contacts"][0]
    ContactSnapshot.objects.create(
        tenant=tenant_a, xero_tenant_id=XERO_TENANT_ID, contact_id=contact["ContactID"],
        name=contact["Name"], phones=[{"PhoneType": "MOBILE", "PhoneNumber": "+64211234567"}],
    )  # fmt: skip
    failed = message_create(tenant_a, "failed", name=contact["Name"], error_code="21211",
                            error_message="The phone number is not a valid phone number.",
                            contact_id=contact["ContactID"])  # fmt: skip
    page = logged_in_page
    page.goto(f"/messaging/{failed.pk}/")
    with responses.RequestsMock() as xero:
        xero.add(responses.GET, f"{API}/Contacts", json=xero_json("contacts__mobile"))
        page.get_by_role("button", name="Resend").click()
        expect(page.get_by_role("status")).to_contain_text(
            "will be sent again to +64215550199, the number Xero has now (it was +64211234567)"
        )
    screenshot("message-resent-new-number")
    assert Message.objects.get(resend_of=failed).recipient == "+64215550199"
    assert console_errors == []


def test_a_message_refused_after_stop_offers_no_resend_and_says_why(
    logged_in_page, tenant_a, screenshot
):
    refused = message_create(tenant_a, "failed", name="Cara Jones", error_code="21610",
                             error_message="The recipient replied STOP.")  # fmt: skip
    OptOut.objects.create(tenant=tenant_a, phone=refused.recipient, source="Twilio error 21610")
    page = logged_in_page
    page.goto(f"/messaging/{refused.pk}/")
    expect(page.get_by_role("button", name="Resend")).to_have_count(0)
    expect(
        page.get_by_text("Not offered for resending: The recipient replied STOP")
    ).to_be_visible()
    screenshot("message-opted-out")


def test_a_filtered_set_is_resent_after_confirming_the_count(logged_in_page, tenant_a, screenshot):
    for name in ("Ben Smith", "Cara Jones"):
        message_create(tenant_a, "failed", name=name, kind="reminder")
    message_create(tenant_a, "undelivered", name="Dan Lee")  # an invoice message: filtered out
    page = logged_in_page
    page.goto("/messaging/?kind=reminder")
    page.get_by_role("link", name="Resend them…").click()
    expect(page.get_by_role("heading", name="Resend 2 messages?")).to_be_visible()
    screenshot("bulk-resend-confirm")
    page.get_by_role("button", name="Resend 2 messages").click()
    expect(page.get_by_role("status")).to_contain_text("2 messages will be sent again.")
    resent = Message.objects.filter(resend_of__isnull=False)
    assert sorted(resent.values_list("contact_name", flat=True)) == ["Ben Smith", "Cara Jones"]


def test_the_dashboard_shows_the_figures_on_desktop_and_phone(
    logged_in_page, tenant_a, screenshot, console_errors
):
    for index, status in enumerate(["delivered"] * 5 + ["failed", "skipped", "pending"]):
        message_create(tenant_a, status, name=f"Contact {index}", minutes_ago=60 * 24 * index)
    page = logged_in_page
    page.get_by_role("link", name="Dashboard", exact=True).click()
    week = page.locator(".figure-card", has_text="Last 7 days")
    expect(week.locator("dd").nth(1)).to_have_text("5")  # delivered
    expect(page.get_by_role("img", name="Messages per day, last 30 days")).to_be_visible()
    expect(page.get_by_text("Failed messages needing attention (1)")).to_be_visible()
    screenshot("dashboard")
    page.set_viewport_size(PHONE)
    assert _overflow(page) <= 0
    screenshot("dashboard-phone")
    for path, name in [("/messaging/", "send-log-phone"), ("/messaging/templates/",
                                                            "templates-phone")]:  # fmt: skip
        page.goto(path)
        assert _overflow(page) <= 0, path
        screenshot(name)
    assert console_errors == []


def test_a_staff_member_of_one_team_cannot_open_anothers_pages(page, staff_a, tenant_b, screenshot):
    theirs = message_create(tenant_b, "failed", name="Bravo Customer")
    template = tenant_b.message_templates.first()
    log_in(page, staff_a.email, PASSWORD)
    for path in (f"/messaging/{theirs.pk}/", f"/messaging/templates/{template.pk}/"):
        response = page.goto(path)
        assert response.status == 404, path
        expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    page.goto("/messaging/")
    expect(page.get_by_text("Bravo Customer")).to_have_count(0)
    page.goto("/dashboard/")
    expect(page.get_by_text("Bravo Customer")).to_have_count(0)


def test_the_editor_says_which_template_an_invoice_gets_without_leaving_the_page(
    logged_in_page, tenant_a, screenshot, console_errors
):
    from snapshots.models import ContactSnapshot, InvoiceSnapshot

    ContactSnapshot.objects.create(
        tenant=tenant_a, xero_tenant_id="org-a", contact_id="c-1", name="Koala Cafe Pty",
        country="AU", region="NSW", country_source="address",
    )  # fmt: skip
    InvoiceSnapshot.objects.create(
        tenant=tenant_a, xero_tenant_id="org-a", invoice_id="i-1", type="ACCREC",
        status="AUTHORISED", number="INV-0007", contact_id="c-1",
    )  # fmt: skip
    tenant_a.message_templates.create(
        kind="invoice_issued", channel="sms", country="AU", body="G'day {{ first_name }}"
    )
    page = logged_in_page
    page.goto("/messaging/templates/")
    page.get_by_role("link", name="SMS template for Invoice issued, Everyone").click()
    editor_url = page.url
    page.get_by_label("Invoice number").fill("INV-0007")
    page.get_by_role("button", name="Show").click()
    answer = page.locator("#why")
    expect(answer).to_contain_text("Koala Cafe Pty is in Australia (from the address)")
    expect(answer).to_contain_text("Default schedule")
    assert page.url == editor_url  # answered in place by htmx
    screenshot("template-why")
    assert console_errors == []


def test_the_editor_offers_only_the_variables_the_message_kind_can_fill(logged_in_page):
    page = logged_in_page
    page.get_by_role("link", name="Templates", exact=True).click()
    page.get_by_role("link", name="SMS template for Invoice issued").click()
    digest = page.get_by_role("button", name="overdue_invoices", exact=True)
    amount = page.get_by_role("button", name="amount_due", exact=True)
    expect(amount).to_be_visible()
    expect(digest).to_be_hidden()

    page.get_by_label("Kind:", exact=True).select_option(label="Overdue alert to the team")
    expect(digest).to_be_visible()
    expect(amount).to_be_hidden()
