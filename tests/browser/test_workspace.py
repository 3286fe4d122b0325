"""Invoices → an invoice → its customer, as accounts staff work them, at desktop and phone width:
two organisations (an NZ one with the reminder tests' stand-in Xero behind it, and Wattle
Catering in Australia)."""

from datetime import date

import pytest
import time_machine
from playwright.sync_api import expect

from messaging.models import Message
from snapshots.models import InvoiceSnapshot
from tests.billing_events.conftest import (  # noqa: F401
    _connection,
    new_connection,
    xero_api,
    xero_webhook_key,
)
from tests.billing_events.reminder_helpers import local
from tests.browser.test_messaging_pages import _overflow
from tests.workspace.conftest import ledger, xero  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def two_organisations(ledger, tenant_a):  # noqa: F811
    wattle = _connection(tenant_a, "wattle-au", "Wattle Catering Pty Ltd")
    wattle.timezone = "Australia/Sydney"
    wattle.save()
    InvoiceSnapshot.objects.create(
        tenant=tenant_a, xero_tenant_id="wattle-au", invoice_id="wattle-inv-1", type="ACCREC",
        status="AUTHORISED", number="WC-0007", contact_id="grace-lee", currency="AUD",
        total=640, amount_due=640, due_date=date(2026, 12, 20),
    )  # fmt: skip
    with time_machine.travel(local("Pacific/Auckland", "2026-12-12 10:30"), tick=True):
        yield


def test_staff_work_an_overdue_invoice_from_the_list_to_the_customer(
    two_organisations, logged_in_page, screenshot, console_errors
):
    page = logged_in_page
    expect(page.get_by_role("heading", name="Invoices", level=1)).to_be_visible()
    expect(page.get_by_text("NZD outstanding")).to_be_visible()
    expect(page.get_by_text("AUD outstanding")).to_be_visible()
    expect(page.get_by_role("cell", name="Wattle Catering Pty Ltd")).to_be_visible()
    screenshot("workspace-invoices")

    page.get_by_text("Filter and sort").click()
    page.get_by_label("State").select_option("overdue")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("link", name="WC-0007")).to_have_count(0)
    row = page.get_by_role("row").filter(has_text="INV-0142")
    expect(row).to_contain_text("2 days overdue")
    expect(row).to_contain_text("1 day overdue · Sat 12 Dec 09:00 · SMS")

    page.get_by_role("link", name="INV-0142").click()
    expect(page.get_by_role("heading", name="INV-0142")).to_be_visible()
    page.get_by_role("link", name="Send the next reminder now…").click()
    expect(page.get_by_role("heading", name="Send “1 day overdue” now?")).to_be_visible()
    screenshot("workspace-send-next-confirm")
    page.get_by_role("button", name="Send it now").click()
    expect(page.get_by_role("status")).to_contain_text("Reminder sent now.")
    expect(page.get_by_role("link", name="Reminder by SMS")).to_be_visible()
    expect(page.get_by_text("A reminder for this invoice already went today.")).to_be_visible()
    assert Message.objects.filter(kind="reminder").count() == 1
    screenshot("workspace-invoice")

    page.get_by_role("link", name="Ruapehu Motors", exact=True).click()
    expect(page.get_by_role("heading", name="Ruapehu Motors", level=1)).to_be_visible()
    expect(page.get_by_text("Sent the next reminder now")).to_be_visible()
    screenshot("workspace-customer")
    assert console_errors == []


def test_on_a_phone_the_pages_fit_and_a_pause_is_set_with_a_date(
    two_organisations, logged_in_page, screenshot, console_errors
):
    page = logged_in_page
    page.set_viewport_size(PHONE)
    page.reload()
    assert _overflow(page) <= 0
    screenshot("workspace-invoices-phone")

    page.get_by_role("link", name="INV-0150").click()
    page.get_by_label("Resume on").fill("2026-12-19")
    page.get_by_role("button", name="Pause reminders").click()
    expect(page.get_by_role("status")).to_contain_text("Reminders for INV-0150 paused.")
    expect(page.get_by_text("Paused until Sat 19 Dec")).to_be_visible()
    assert _overflow(page) <= 0
    screenshot("workspace-invoice-phone")
    page.get_by_role("button", name="Resume reminders").click()
    expect(page.get_by_text("1 day overdue · Sat 12 Dec 09:00")).to_be_visible()

    page.get_by_role("link", name="Kauri Cafe").click()
    expect(page.get_by_role("heading", name="Kauri Cafe", level=1)).to_be_visible()
    assert _overflow(page) <= 0
    screenshot("workspace-customer-phone")
    assert console_errors == []
