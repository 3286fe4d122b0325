"""The reminders page in a real browser: a long 30-day preview never hides the schedule builder."""

from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from billing_events.models import ReminderStage
from snapshots.models import ContactSnapshot, InvoiceSnapshot
from tests.xero_api import xero_connection_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP, PHONE = {"width": 1280, "height": 800}, {"width": 390, "height": 844}


@pytest.fixture
def busy_month(tenant_a):
    """Ninety open invoices falling due in three batches: days of the preview with 30 reminders."""
    connection = xero_connection_create(tenant=tenant_a)
    today = timezone.localdate(timezone=ZoneInfo(connection.timezone))
    for n in range(90):
        contact_id = f"contact-{n}"
        ContactSnapshot.objects.create(
            tenant=tenant_a, xero_tenant_id=connection.xero_tenant_id, contact_id=contact_id,
            name=f"Customer {n}", phones=[{"PhoneType": "MOBILE", "PhoneNumber": "+64211234567"}],
        )  # fmt: skip
        InvoiceSnapshot.objects.create(
            tenant=tenant_a, xero_tenant_id=connection.xero_tenant_id, invoice_id=f"id-{n}",
            number=f"INV-{n:04}", contact_id=contact_id, type="ACCREC", status="AUTHORISED",
            currency="NZD", total=Decimal("485.00"), amount_due=Decimal("485.00"),
            due_date=today + timedelta(days=(n % 3) * 9 - 3),
        )  # fmt: skip
    return connection


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_schedule_is_saved_below_a_full_30_day_preview(
    logged_in_page, tenant_a, busy_month, screenshot, viewport
):
    page = logged_in_page
    page.set_viewport_size(viewport)
    page.get_by_role("link", name="Reminders", exact=True).click()
    expect(page.get_by_text("“Due soon” for INV-0089").first).to_be_attached()
    assert page.get_by_role("listitem").filter(has_text="for INV-").count() > 60

    page.locator(".step-card", has_text="Due soon").get_by_role("link", name="Edit").click()
    form = page.locator("form.step-form")
    form.get_by_label("Number of days").fill("5")
    form.get_by_label("When").select_option(label="before the due date")
    form.get_by_role("button", name="Save step").click()

    expect(page.locator(".step-day", has_text="5 days before due")).to_be_visible()
    screenshot(f"reminders-saved-{viewport['width']}")
    assert ReminderStage.objects.get(tenant=tenant_a, key="due_soon").offset_days == -5
