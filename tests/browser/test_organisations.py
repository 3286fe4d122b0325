"""Several Xero organisations in a real browser: the send log filtered by organisation, and an
invoice number three organisations share asked about (send log and "which template?")."""

import pytest
from playwright.sync_api import expect

from messaging.models import Message

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def log(three_org_tenant):
    world = three_org_tenant
    for key in ("nz", "au", "uk"):
        contact = world.contacts[key]
        Message.objects.create(
            tenant=world.tenant, kind="invoice_issued", channel="sms", status="delivered",
            dedup_key=f"invoice:{world.invoices[key].invoice_id}:issued",
            contact_id=contact.contact_id, contact_name=contact.name, recipient="+64211234567",
            invoice_id=world.invoices[key].invoice_id, xero_tenant_id=contact.xero_tenant_id,
            body=f"Hi {contact.first_name}, invoice INV-0001 is due on 1 December.",
        )  # fmt: skip
    return world


def _rows(page):
    return page.locator("table.log tbody tr")


def test_the_send_log_is_filtered_by_organisation(logged_in_page, log, screenshot):
    page = logged_in_page
    page.goto("/messaging/")
    expect(page.get_by_role("columnheader", name="Organisation")).to_be_visible()
    expect(_rows(page)).to_have_count(3)

    page.get_by_label("Organisation").select_option(label="Wattle Catering")
    page.get_by_role("button", name="Filter").click()
    expect(_rows(page)).to_have_count(1)
    expect(_rows(page).first).to_contain_text("Wattle Catering")
    expect(_rows(page).first).to_contain_text("Matilda Byrne")
    screenshot("send-log-organisation-filter")


def test_an_invoice_number_three_organisations_share_asks_which(logged_in_page, log, screenshot):
    page = logged_in_page
    page.goto("/messaging/")
    page.get_by_label("Invoice number").fill("INV-0001")
    page.get_by_role("button", name="Filter").click()

    question = page.get_by_role("alert")
    expect(question).to_contain_text("Which INV-0001?")
    expect(question).to_contain_text("INV-0001, Fiona Campbell, 88.00 GBP")
    expect(page.locator("table.log")).to_have_count(0)
    screenshot("send-log-which-organisation")

    question.get_by_role("link", name="Thistle Joinery").click()
    expect(_rows(page)).to_have_count(1)
    expect(_rows(page).first).to_contain_text("Fiona Campbell")
    expect(page.get_by_label("Organisation")).to_have_value(log.connections["uk"].xero_tenant_id)


def test_which_template_asks_which_organisations_invoice(logged_in_page, log):
    page = logged_in_page
    page.goto("/messaging/templates/why/")
    page.get_by_label("Invoice number").fill("INV-0001")
    page.get_by_role("button", name="Show").click()
    question = page.get_by_role("alert")
    expect(question).to_contain_text("Which INV-0001?")

    question.get_by_role("link", name="Wattle Catering").click()
    expect(page.locator("#why h3")).to_have_text(
        "Invoice issued for INV-0001 of Wattle Catering to Matilda Byrne"
    )
