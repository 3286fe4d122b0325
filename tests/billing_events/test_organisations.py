"""The Reminders page of a tenant with several Xero organisations: the preview and the pauses
name each one's organisation and filter by it, and pausing an invoice number several
organisations have asks which instead of pausing one of them silently."""

from datetime import UTC, datetime

import pytest
import time_machine

from billing_events.models import ReminderPause
from tests.xero_api import xero_connection_create


@pytest.fixture
def november(three_org_tenant):
    with time_machine.travel(datetime(2026, 11, 20, 1, 0, tzinfo=UTC), tick=False):
        yield three_org_tenant


def test_pausing_a_number_several_organisations_have_asks_which(staff_client, november):
    asked = staff_client.post("/reminders/pauses/", {"invoice_number": "INV-0001"})
    page = asked.content.decode()
    assert asked.status_code == 200 and not ReminderPause.objects.exists()
    assert "Which INV-0001?" in page
    wattle = november.connections["au"].xero_tenant_id
    assert f'name="organisation" value="{wattle}"' in page
    assert "Wattle Catering</button> INV-0001, Matilda Byrne, 275.50 AUD" in page
    assert '<input type="hidden" name="invoice_number" value="INV-0001">' in page
    assert 'action="/reminders/" class="filters organisation-filter"' in page  # not back here


def test_the_answer_pauses_that_organisations_invoice(staff_client, november):
    wattle = november.connections["au"].xero_tenant_id
    staff_client.post(
        "/reminders/pauses/",
        {"invoice_number": "INV-0001", "resume_on": "2026-12-24", "organisation": wattle},
    )
    pause = ReminderPause.objects.get()
    assert (pause.invoice_id, pause.xero_tenant_id) == ("au-invoice-0001", wattle)

    page = staff_client.get("/reminders/").content.decode()
    assert '<td data-label="Organisation">Wattle Catering</td>' in page


def test_the_preview_names_and_filters_by_organisation(staff_client, november):
    page = staff_client.get("/reminders/").content.decode()
    for name in ("Kauri Bakery", "Wattle Catering", "Thistle Joinery"):
        assert f"“Due soon” for INV-0001 of {name}" in page

    thistle = november.connections["uk"].xero_tenant_id
    filtered = staff_client.get(f"/reminders/?organisation={thistle}").content.decode()
    assert "for INV-0001 of Thistle Joinery" in filtered
    assert "of Kauri Bakery" not in filtered and "of Wattle Catering" not in filtered


def test_the_pauses_filter_by_organisation(staff_client, november):
    for key in ("nz", "uk"):
        ReminderPause.objects.create(
            tenant=november.tenant, contact_id=november.contacts[key].contact_id,
            xero_tenant_id=november.connections[key].xero_tenant_id,
            label=november.contacts[key].name,
        )  # fmt: skip
    kauri = november.connections["nz"].xero_tenant_id
    page = staff_client.get(f"/reminders/?organisation={kauri}").content.decode()
    assert "Aroha Ngata" in page and "Fiona Campbell" not in page


def test_a_customers_reply_pauses_with_their_organisation(november):
    from billing_events.replies import contact_reply_pause

    # An NZ number: the tenant's default country reads it (not what this test is about).
    contact_reply_pause(tenant=november.tenant, phone="+64211234567", on=datetime(2026, 11, 20))
    [pause] = ReminderPause.objects.all()
    assert pause.xero_tenant_id == november.connections["nz"].xero_tenant_id


def test_with_one_organisation_the_page_names_none(staff_client, tenant_a):
    xero_connection_create(tenant=tenant_a, name="Kauri Bakery")
    page = staff_client.get("/reminders/").content.decode()
    assert "Organisation" not in page and 'name="organisation"' not in page
