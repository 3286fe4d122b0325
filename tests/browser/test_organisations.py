"""Several Xero organisations in a real browser (tests/orgs.py: INV-0001 in each of three): the
send log filtered by organisation, and an invoice number the three share asked about (send log
and "which template?")."""

import pytest
from playwright.sync_api import expect

from messaging.models import Message
from tests.browser.conftest import log_in
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def three(three_org_tenant):
    for org in three_org_tenant.orgs:
        Message.objects.create(
            tenant=three_org_tenant.tenant, kind="invoice_issued", channel="sms",
            status="delivered", dedup_key=f"invoice:{org.invoice_id}:issued",
            contact_id=org.contact_id, contact_name=org.contact_name, recipient=org.e164,
            invoice_id=org.invoice_id, xero_tenant_id=org.xero_tenant_id,
            body="Invoice INV-0001 is due on 16 November.",
        )  # fmt: skip
    three_org_tenant.owner.set_password(PASSWORD)
    three_org_tenant.owner.save()
    return three_org_tenant


@pytest.fixture
def org_page(page, three):
    log_in(page, three.owner.username, PASSWORD)
    return page


def _rows(page):
    return page.locator("table.log tbody tr")


def test_the_send_log_is_filtered_by_organisation(org_page, screenshot):
    page = org_page
    page.goto("/messaging/")
    expect(page.get_by_role("columnheader", name="Organisation")).to_be_visible()
    expect(_rows(page)).to_have_count(3)

    page.get_by_label("Organisation").select_option(label="Banksia Catering Pty Ltd")
    page.get_by_role("button", name="Filter").click()
    expect(_rows(page)).to_have_count(1)
    expect(_rows(page).first).to_contain_text("Banksia Catering Pty Ltd")
    expect(_rows(page).first).to_contain_text("Grace Lee")
    screenshot("send-log-organisation-filter")


def test_an_invoice_number_three_organisations_share_asks_which(org_page, three, screenshot):
    page = org_page
    page.goto("/messaging/")
    page.get_by_label("Invoice number").fill("INV-0001")
    page.get_by_role("button", name="Filter").click()

    question = page.get_by_role("alert")
    expect(question).to_contain_text("Which INV-0001?")
    expect(question).to_contain_text("INV-0001, Oliver Hughes, 410.00 GBP")
    expect(page.locator("table.log")).to_have_count(0)
    screenshot("send-log-which-organisation")

    question.get_by_role("link", name="Bramble & Co Ltd").click()
    expect(_rows(page)).to_have_count(1)
    expect(_rows(page).first).to_contain_text("Oliver Hughes")
    expect(page.get_by_label("Organisation")).to_have_value(three.uk.xero_tenant_id)


def test_which_template_asks_which_organisations_invoice(org_page):
    page = org_page
    page.goto("/messaging/templates/why/")
    page.get_by_label("Invoice number").fill("INV-0001")
    page.get_by_role("button", name="Show").click()
    question = page.get_by_role("alert")
    expect(question).to_contain_text("Which INV-0001?")

    question.get_by_role("link", name="Banksia Catering Pty Ltd").click()
    expect(page.locator("#why h3")).to_have_text(
        "Invoice issued for INV-0001 of Banksia Catering Pty Ltd to Grace Lee"
    )
