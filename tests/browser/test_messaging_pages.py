"""The template editor, the send log and the dashboard in a real browser, desktop and phone."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from messaging.models import Message
from tests.browser.conftest import log_in
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 375, "height": 740}


def message_create(tenant, status, *, name, minutes_ago=5, **fields):
    return Message.objects.create(
        tenant=tenant, kind=fields.pop("kind", "invoice_issued"), channel="sms", status=status,
        dedup_key=f"invoice:{name}:issued", contact_name=name, recipient="+64211234567",
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
    expect(page.get_by_role("alert")).to_contain_text("Line 2: unknown variable “amount_owed”.")
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
    invalid = "The phone number is not a valid phone number."
    failed = message_create(tenant_a, "failed", name="Ben Smith", error_code="21211",
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
    expect(page.get_by_role("status")).to_contain_text("The message will be sent again.")
    again = Message.objects.get(resend_of=failed)
    assert page.url.endswith(f"/messaging/{again.pk}/")
    expect(page.get_by_role("link", name=f"message {failed.pk}")).to_be_visible()
    assert console_errors == []


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
