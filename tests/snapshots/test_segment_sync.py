"""Segments from Xero: line-item tracking and contact places recorded on the snapshots, tracking
categories and contact groups kept in step (poll + CONTACT webhooks), and a group or option
deleted in Xero falling back to the default template, said on the template list."""

from datetime import datetime, timedelta

import pytest
import time_machine

from billing_events.models import OrganisationSync
from billing_events.services import connection_initial_import, connection_poll
from billing_events.tasks import events_process_task
from messaging.models import Message, MessageTemplate
from snapshots.locations import country_code
from snapshots.models import ContactSnapshot, InvoiceSnapshot, XeroContactGroup, XeroTrackingOption
from tests.a11y import assert_accessible
from tests.billing_events.helpers import (
    API,
    CONTACT_ID,
    XERO_TENANT_ID,
    api_json,
    calls_to,
    mock_xero,
    post_xero_webhook,
)
from tests.sandbox.specs import assert_matches

pytestmark = pytest.mark.django_db

REGION = "351953c4-8127-4009-88c3-f9cd8c9cbe9f"
NORTH = "ae777a87-5ef3-4fa0-a4f0-d10e1f13073a"
TRADE = "3e1b0f6a-8d4c-4b1e-9a2f-5c6d7e8f9a0b"
NOTHING_CHANGED = {
    "Contacts": "contacts__empty",
    "CreditNotes": "creditnotes__empty",
    "Payments": "payments__empty",
    "Invoices": "invoices__empty",
}


def _moment(when: str) -> datetime:
    return datetime.fromisoformat(f"{when}+00:00")


def poll_at(connection, when: str) -> None:
    with time_machine.travel(_moment(when), tick=False):
        connection_poll(connection=connection)


def invoice_approved(client, xero_api, *, contacts: str = "contacts__addressed") -> Message:
    """Xero tells of INV-0142 (line items tracked Region: North) for Ruapehu Motors."""
    mock_xero(xero_api, Invoices="invoices__tracked_north", Contacts=contacts)
    assert post_xero_webhook(client, "invoice_update__single").status_code == 200
    events_process_task(XERO_TENANT_ID)
    return Message.objects.get(kind="invoice_issued")


def _template(tenant, body: str, **segment) -> MessageTemplate:
    return MessageTemplate.objects.create(
        tenant=tenant, kind="invoice_issued", channel="sms", body=body, **segment
    )


@pytest.fixture
def segment_templates(tenant_a):
    return {
        "north": _template(tenant_a, "North {{ invoice_number }}", tracking_category_id=REGION,
                           tracking_option_id=NORTH, tracking_label="Region: North"),
        "trade": _template(tenant_a, "Trade {{ invoice_number }}", contact_group_id=TRADE,
                           contact_group_name="Trade customers"),
        "nsw": _template(tenant_a, "NSW {{ invoice_number }}", country="AU", region="NSW"),
    }  # fmt: skip


def test_the_fixtures_are_shaped_like_xeros_answers():
    for fixture, schema in [
        ("tracking_categories__region", "TrackingCategories"),
        ("contact_groups__trade_and_cash", "ContactGroups"),
        ("invoices__tracked_north", "Invoices"),
        ("contacts__addressed", "Contacts"),
        ("contacts__phone_uk", "Contacts"),
    ]:
        assert_matches("xero_accounting.yaml", schema, api_json(fixture))


def test_snapshots_record_line_item_tracking_and_where_the_contact_is(client, connection, xero_api):
    invoice_approved(client, xero_api)

    invoice = InvoiceSnapshot.objects.get()
    assert invoice.tracking == [
        {"category_id": REGION, "option_id": NORTH, "category": "Region", "option": "North"}
    ]
    contact = ContactSnapshot.objects.get(contact_id=CONTACT_ID)
    # The STREET address (Sydney, "nsw") wins over the POBOX one (New Zealand).
    assert (contact.country, contact.region, contact.country_source) == ("AU", "nsw", "address")
    option = XeroTrackingOption.objects.get(option_id=NORTH)
    assert (option.label, option.status) == ("Region: North", "ACTIVE")


def test_a_contact_without_an_address_is_placed_by_its_phone(client, connection, xero_api):
    mock_xero(xero_api, Contacts="contacts__phone_uk")
    assert post_xero_webhook(client, "contact_update").status_code == 200
    events_process_task(XERO_TENANT_ID)
    contact = ContactSnapshot.objects.get(contact_id=CONTACT_ID)
    assert (contact.country, contact.region, contact.country_source) == ("GB", "", "phone")


def test_the_invoice_gets_the_tracking_options_template_over_group_and_region(
    client, connection, xero_api, segment_templates
):
    message = invoice_approved(client, xero_api)
    assert message.template == segment_templates["north"]
    assert message.body == "North INV-0142"


@pytest.mark.parametrize("gone", ["deleted", "archived"])
def test_an_option_gone_from_xero_falls_back_and_the_template_list_says_so(
    client, connection, xero_api, segment_templates, staff_client, gone
):
    segment_templates["trade"].delete()
    segment_templates["nsw"].delete()
    mock_xero(xero_api, **NOTHING_CHANGED)
    poll_at(connection, "2026-11-20T10:00:00")  # the lists: North is active
    categories = api_json("tracking_categories__region")
    region = categories["TrackingCategories"][0]
    if gone == "deleted":
        region["Options"] = [o for o in region["Options"] if o["TrackingOptionID"] != NORTH]
    else:
        region["Options"][0]["Status"] = "ARCHIVED"
    xero_api.upsert("GET", f"{API}/TrackingCategories", json=categories)
    poll_at(connection, "2026-11-20T16:30:00")  # six hours on: fetched again

    message = invoice_approved(client, xero_api)

    assert message.template.tracking_option_id == ""  # the default, and the message went out
    assert message.status != "skipped"
    page = staff_client.get("/messaging/templates/").text
    assert (
        f"The tracking option Region: North was {gone} in Xero; the default is used instead."
        in page
    )
    assert_accessible(page)


def test_a_group_deleted_in_xero_falls_back_to_the_default(
    client, connection, xero_api, segment_templates, staff_client
):
    segment_templates["north"].delete()
    segment_templates["nsw"].delete()
    mock_xero(xero_api, Contacts="contacts__addressed")
    with time_machine.travel(_moment("2026-11-20T09:00:00"), tick=False):
        assert post_xero_webhook(client, "contact_update").status_code == 200
        events_process_task(XERO_TENANT_ID)  # the contact, in Trade customers
    mock_xero(xero_api, **NOTHING_CHANGED)
    xero_api.upsert("GET", f"{API}/ContactGroups", json=api_json("contact_groups__two"))
    poll_at(connection, "2026-11-20T10:00:00")  # Xero no longer lists Trade customers
    assert XeroContactGroup.objects.get(group_id=TRADE).status == "DELETED"

    message = invoice_approved(client, xero_api)  # the contact's snapshot still names the group

    assert message.template.contact_group_id == ""
    assert message.status != "skipped"
    page = staff_client.get("/messaging/templates/").text
    assert (
        "The contact group Trade customers was deleted in Xero; the default is used instead."
        in page
    )


def test_the_first_import_fetches_the_lists_so_the_editor_offers_them_at_once(
    new_connection, xero_api, owner_client
):
    mock_xero(xero_api, Invoices="invoices__empty", Contacts="contacts__empty")
    with time_machine.travel(_moment("2026-11-20T10:00:00"), tick=False):
        connection_initial_import(connection=new_connection)

    assert len(calls_to(xero_api, "TrackingCategories")) == 1
    assert len(calls_to(xero_api, "ContactGroups")) == 1
    editor = owner_client.get("/messaging/templates/new/").text
    assert "Region: North" in editor and "Trade customers" in editor
    assert "Region: Central" not in editor  # archived in Xero: nothing new may target it
    with time_machine.travel(_moment("2026-11-20T10:15:00"), tick=False):
        connection_poll(connection=new_connection)  # the first poll: the lists are fresh
    assert len(calls_to(xero_api, "TrackingCategories")) == 1


def test_the_poll_fetches_the_lists_every_six_hours_not_every_poll(connection, xero_api):
    mock_xero(xero_api, **NOTHING_CHANGED)
    for when in ("2026-11-20T10:00:00", "2026-11-20T10:15:00", "2026-11-20T15:59:00"):
        poll_at(connection, when)
    assert len(calls_to(xero_api, "TrackingCategories")) == 1
    assert len(calls_to(xero_api, "ContactGroups")) == 1
    request = calls_to(xero_api, "TrackingCategories")[0].request
    assert request.params == {"includeArchived": "true"}
    statuses = dict(XeroTrackingOption.objects.values_list("option_name", "status"))
    # An archived category takes its options along; Xero never lists deleted ones.
    assert statuses == {"North": "ACTIVE", "South": "ACTIVE", "Central": "ARCHIVED",
                        "Online": "ARCHIVED"}  # fmt: skip
    assert set(XeroContactGroup.objects.values_list("name", "status")) == {
        ("Trade customers", "ACTIVE"), ("Cash sales", "ACTIVE"),
    }  # fmt: skip

    poll_at(connection, "2026-11-20T16:01:00")
    assert len(calls_to(xero_api, "TrackingCategories")) == 2


def test_an_invoice_naming_an_unknown_option_brings_the_lists_at_the_next_poll(
    client, connection, xero_api
):
    mock_xero(xero_api, **NOTHING_CHANGED)
    xero_api.upsert("GET", f"{API}/TrackingCategories", json={"TrackingCategories": []})
    poll_at(connection, "2026-11-20T10:00:00")
    with time_machine.travel(_moment("2026-11-20T10:05:00"), tick=False):
        invoice_approved(client, xero_api)  # carries Region: North, unknown until now
    xero_api.upsert(
        "GET", f"{API}/TrackingCategories", json=api_json("tracking_categories__region")
    )
    mock_xero(xero_api, **NOTHING_CHANGED)

    poll_at(connection, "2026-11-20T10:15:00")

    assert len(calls_to(xero_api, "TrackingCategories")) == 2
    assert XeroTrackingOption.objects.get(option_id=NORTH).status == "ACTIVE"


def test_a_contact_webhook_teaches_its_groups_without_listing_them(client, connection, xero_api):
    mock_xero(xero_api, Contacts="contacts__mobile")
    assert post_xero_webhook(client, "contact_update").status_code == 200
    events_process_task(XERO_TENANT_ID)

    group = XeroContactGroup.objects.get(group_id=TRADE)
    assert (group.name, group.status) == ("Trade customers", "ACTIVE")
    assert calls_to(xero_api, "ContactGroups") == []


def test_failing_lists_never_fail_the_poll_and_are_tried_again_later(connection, xero_api):
    mock_xero(xero_api, **NOTHING_CHANGED)
    xero_api.upsert(
        "GET", f"{API}/TrackingCategories", status=403, json={"Detail": "Forbidden scope"}
    )
    poll_at(connection, "2026-11-20T10:00:00")
    sync = OrganisationSync.objects.get()
    assert sync.last_polled_at == _moment("2026-11-20T10:00:00")
    assert sync.last_error == ""
    assert sync.segments_refresh_due_at == _moment("2026-11-20T10:00:00") + timedelta(minutes=30)


@pytest.mark.parametrize(
    ("typed", "code"),
    [("New Zealand", "NZ"), ("nz", "NZ"), ("U.K.", "GB"), ("Scotland", "GB"), ("AUS", "AU"),
     ("united states of america", "US"), ("Narnia", ""), ("", "")],
)  # fmt: skip
def test_countries_typed_in_xero_addresses_become_iso_codes(typed, code):
    assert country_code(typed) == code
