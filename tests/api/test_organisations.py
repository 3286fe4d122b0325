"""The organisation through the REST API: returned as {id, name} on messages, the reminder
preview and templates' segments; `organisation` filters and answers "which organisation?"; an
invoice number several organisations have is refused with its candidates; another tenant's
organisation id is refused and shows nothing."""

import pytest

from billing_events.models import XeroContactGroup
from messaging.models import MessageTemplate
from tests.api.conftest import message_create
from tests.xero_api import xero_connection_create


@pytest.fixture
def log(three_org_tenant):
    world = three_org_tenant
    return {
        key: message_create(
            world.tenant,
            invoice_id=world.invoices[key].invoice_id,
            contact_id=world.contacts[key].contact_id,
            contact_name=world.contacts[key].name,
            xero_tenant_id=world.connections[key].xero_tenant_id,
        )
        for key in ("nz", "au", "uk")
    }


def _org(world, key) -> dict:
    connection = world.connections[key]
    return {"id": connection.xero_tenant_id, "name": connection.name}


def test_messages_say_their_organisation_and_filter_by_it(api, log, three_org_tenant):
    listed = api.get("/api/v1/messages/").json()["results"]
    assert {m["id"]: m["organisation"] for m in listed}[log["au"].pk] == _org(
        three_org_tenant, "au"
    )
    wattle = three_org_tenant.connections["au"].xero_tenant_id
    filtered = api.get(f"/api/v1/messages/?organisation={wattle}").json()["results"]
    assert [m["id"] for m in filtered] == [log["au"].pk]
    detail = api.get(f"/api/v1/messages/{log['uk'].pk}/").json()
    assert detail["organisation"] == _org(three_org_tenant, "uk")


def test_a_message_to_no_organisation_says_null(api, tenant_a):
    message = message_create(tenant_a, kind="team_overdue_alert")
    assert api.get(f"/api/v1/messages/{message.pk}/").json()["organisation"] is None


def test_an_invoice_number_several_organisations_have_is_refused_with_its_candidates(
    api, log, three_org_tenant
):
    refused = api.get("/api/v1/messages/?invoice_number=INV-0001")
    assert refused.status_code == 400
    kauri, wattle, thistle = (
        three_org_tenant.connections[key].xero_tenant_id for key in ("nz", "au", "uk")
    )
    assert refused.json()["error"]["fields"]["organisation"] == [
        "INV-0001 is an invoice of 3 of your organisations: give `organisation`, one of these ids.",
        f"{kauri}: Kauri Bakery — INV-0001, Aroha Ngata, 410.00 NZD",
        f"{thistle}: Thistle Joinery — INV-0001, Fiona Campbell, 88.00 GBP",
        f"{wattle}: Wattle Catering — INV-0001, Matilda Byrne, 275.50 AUD",
    ]
    answered = api.get(f"/api/v1/messages/?invoice_number=INV-0001&organisation={wattle}")
    assert [m["id"] for m in answered.json()["results"]] == [log["au"].pk]


def test_another_tenants_organisation_is_refused_and_shows_nothing(api, log, tenant_b):
    theirs = xero_connection_create(tenant=tenant_b, name="Bravo Bakery").xero_tenant_id
    message_create(tenant_b, xero_tenant_id=theirs)
    for url in (
        f"/api/v1/messages/?organisation={theirs}",
        f"/api/v1/reminders/preview/?organisation={theirs}",
    ):
        refused = api.get(url)
        assert refused.status_code == 400, url
        assert refused.json()["error"]["fields"] == {
            "organisation": ["Not one of your Xero organisations."]
        }


def test_the_reminder_preview_names_and_filters_by_organisation(api, three_org_tenant, daytime):
    daytime.move_to("2026-11-20T01:00:00Z")
    days = api.get("/api/v1/reminders/preview/").json()
    organisations = {r["organisation"]["name"] for day in days for r in day["reminders"]}
    assert organisations == {"Kauri Bakery", "Wattle Catering", "Thistle Joinery"}

    thistle = three_org_tenant.connections["uk"].xero_tenant_id
    days = api.get(f"/api/v1/reminders/preview/?organisation={thistle}").json()
    assert {r["organisation"]["id"] for day in days for r in day["reminders"]} == {thistle}


def test_a_segments_organisation_is_returned_and_a_foreign_group_refused(
    api, owner_api, three_org_tenant, tenant_b
):
    body = {"kind": "invoice_issued", "channel": "sms", "body": "Hi {{ first_name }}"}
    created = api.post("/api/v1/templates/", {**body, "contact_group_id": "au-corporate"})
    assert created.status_code == 201, created.content
    assert created.json()["organisation"] == _org(three_org_tenant, "au")
    assert created.json()["contact_group_name"] == "Corporate"
    everyone = MessageTemplate.objects.filter(tenant=three_org_tenant.tenant, country="").first()
    assert api.get(f"/api/v1/templates/{everyone.pk}/").json()["organisation"] is None

    XeroContactGroup.objects.create(
        tenant=tenant_b, xero_tenant_id="org-b", group_id="b-corporate", name="Corporate"
    )
    foreign = api.post(
        "/api/v1/templates/", {**body, "channel": "email", "subject": "Hi",
                               "contact_group_id": "b-corporate"},
    )  # fmt: skip
    assert foreign.status_code == 400
    assert foreign.json()["error"]["fields"]["contact_group_id"] == [
        "“b-corporate” is not a contact group of your Xero organisations."
    ]

    schedule = owner_api.get("/api/v1/reminder-schedule/").json()
    schedule["stages"].append(
        {"key": "uk_retail", "label": "UK retail", "offset_days": 3,
         "contact_group_id": "uk-retail"}
    )  # fmt: skip
    saved = owner_api.put("/api/v1/reminder-schedule/", schedule, format="json")
    assert saved.status_code == 200, saved.content
    [stage] = [s for s in saved.json()["stages"] if s["key"] == "uk_retail"]
    assert stage["organisation"] == _org(three_org_tenant, "uk")


def test_pausing_a_shared_invoice_number_needs_its_organisation(api, three_org_tenant):
    refused = api.post("/api/v1/reminders/pauses/", {"invoice_number": "INV-0001"})
    assert refused.status_code == 400
    assert len(refused.json()["error"]["fields"]["organisation"]) == 4  # the question + 3
    assert not three_org_tenant.tenant.reminder_pauses.exists()

    wattle = three_org_tenant.connections["au"].xero_tenant_id
    created = api.post(
        "/api/v1/reminders/pauses/",
        {"invoice_number": "INV-0001", "organisation": wattle, "resume_on": "2026-12-24"},
    )
    assert created.status_code == 201, created.content
    assert (created.json()["invoice_id"], created.json()["organisation"]) == (
        "au-invoice-0001",
        _org(three_org_tenant, "au"),
    )


def test_pauses_are_listed_by_organisation_and_removed(api, three_org_tenant):
    for key in ("nz", "uk"):
        api.post(
            "/api/v1/reminders/pauses/",
            {"contact_name": three_org_tenant.contacts[key].name,
             "organisation": three_org_tenant.connections[key].xero_tenant_id},
        )  # fmt: skip
    thistle = three_org_tenant.connections["uk"].xero_tenant_id
    [pause] = api.get(f"/api/v1/reminders/pauses/?organisation={thistle}").json()
    assert (pause["label"], pause["organisation"]["name"]) == ("Fiona Campbell", "Thistle Joinery")
    assert api.delete(f"/api/v1/reminders/pauses/{pause['id']}/").status_code == 204
    assert len(api.get("/api/v1/reminders/pauses/").json()) == 1
