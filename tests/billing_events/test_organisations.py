"""The Reminders page of a tenant with several Xero organisations (tests/orgs.py): the preview
and the pauses name each one's organisation and filter by it, and pausing an invoice number
several organisations have asks which instead of pausing one of them silently."""

from datetime import UTC, date, datetime

import pytest
import time_machine

from billing_events.models import ReminderPause, ReminderStage
from billing_events.replies import contact_reply_pause
from tests.xero_api import xero_connection_create


@pytest.fixture
def three(three_org_tenant):
    with time_machine.travel(datetime(2026, 11, 20, 1, 0, tzinfo=UTC), tick=False):
        yield three_org_tenant


@pytest.fixture
def org_client(client, three):
    client.force_login(three.owner)
    return client


def test_pausing_a_number_several_organisations_have_asks_which(org_client, three):
    asked = org_client.post("/reminders/pauses/", {"invoice_number": "INV-0001"})
    page = asked.content.decode()
    assert asked.status_code == 200 and not ReminderPause.objects.exists()
    assert "Which INV-0001?" in page
    assert f'name="organisation" value="{three.au.xero_tenant_id}"' in page
    assert "Banksia Catering Pty Ltd</button> INV-0001, Grace Lee, 410.00 AUD" in page
    assert '<input type="hidden" name="invoice_number" value="INV-0001">' in page
    assert 'action="/reminders/" class="filters organisation-filter"' in page  # not back here


def test_the_answer_pauses_that_organisations_invoice(org_client, three):
    org_client.post(
        "/reminders/pauses/",
        {"invoice_number": "INV-0001", "resume_on": "2026-12-24",
         "organisation": three.au.xero_tenant_id},
    )  # fmt: skip
    pause = ReminderPause.objects.get()
    assert (pause.invoice_id, pause.xero_tenant_id) == (
        three.au.invoice_id,
        three.au.xero_tenant_id,
    )

    page = org_client.get("/reminders/").content.decode()
    assert '<td data-label="Organisation">Banksia Catering Pty Ltd</td>' in page


def test_the_preview_names_and_filters_by_organisation(org_client, three):
    page = org_client.get("/reminders/").content.decode()
    for org in three.orgs:
        assert f"for INV-0001 of {org.name}".replace("&", "&amp;") in page

    filtered = org_client.get(f"/reminders/?organisation={three.uk.xero_tenant_id}")
    filtered = filtered.content.decode()
    assert "for INV-0001 of Bramble &amp; Co Ltd" in filtered
    assert "of Harakeke Foods Ltd" not in filtered and "of Banksia Catering" not in filtered


def test_the_pauses_filter_by_organisation(org_client, three):
    for org in (three.nz, three.uk):
        ReminderPause.objects.create(
            tenant=three.tenant, contact_id=org.contact_id, xero_tenant_id=org.xero_tenant_id,
            label=org.contact_name,
        )  # fmt: skip
    page = org_client.get(f"/reminders/?organisation={three.nz.xero_tenant_id}").content.decode()
    assert "Moana Tane" in page and "Oliver Hughes" not in page


def test_a_customers_reply_pauses_with_their_organisation(three):
    contact_reply_pause(tenant=three.tenant, phone=three.nz.e164, on=date(2026, 11, 20))
    [pause] = ReminderPause.objects.all()
    assert pause.xero_tenant_id == three.nz.xero_tenant_id


def test_a_builder_steps_applies_to_labels_a_group_with_its_organisation(org_client, three):
    au_corporate = three.au.groups["Corporate"]
    page = org_client.get("/reminders/steps/new/").content.decode()
    assert (
        f'<option value="group:{au_corporate}">Corporate — Banksia Catering Pty Ltd</option>'
        in page
    )

    saved = org_client.post(
        "/reminders/steps/new/",
        {
            "days": "5",
            "when": "after",
            "applies_to": f"group:{au_corporate}",
            "repeat_times": "0",
            "is_active": "on",
        },
    )
    assert saved.status_code == 302, saved.content.decode()
    step = ReminderStage.objects.get(contact_group_id=au_corporate)
    assert (step.offset_days, step.contact_group_name) == (5, "Corporate")
    page = org_client.get("/reminders/").content.decode()
    assert ">Schedule for Corporate — Banksia Catering Pty Ltd</h3>" in page


def test_never_remind_these_groups_names_each_groups_organisation(org_client, three):
    page = org_client.get("/reminders/").content.decode()
    for org in three.orgs:
        label = f"Retail — {org.name}".replace("&", "&amp;")
        assert f'value="{org.groups["Retail"]}"' in page and f" {label}</label>" in page


def test_with_one_organisation_the_page_names_none(staff_client, tenant_a):
    xero_connection_create(tenant=tenant_a, name="Kauri Bakery")
    page = staff_client.get("/reminders/").content.decode()
    assert "Organisation" not in page and 'name="organisation"' not in page
