"""The organisation through the REST API (tests/orgs.py: three organisations, INV-0001 in each):
returned as {id, name} on messages, pauses, the reminder preview and templates' segments;
`organisation` filters and answers "which organisation?"; an invoice number several
organisations have is refused with its candidates; another tenant's organisation id is refused
and shows nothing."""

import pytest

from api_tokens.services import api_token_create
from billing_events.models import ReminderPause
from messaging.models import MessageTemplate
from snapshots.models import XeroContactGroup
from tests.api.conftest import client_with_token, message_create
from tests.xero_api import xero_connection_create


@pytest.fixture
def three(three_org_tenant):
    return three_org_tenant


@pytest.fixture
def org_api(three):
    """The owner of the three organisations' tenant, with a token."""
    return client_with_token(api_token_create(tenant=three.tenant, user=three.owner, name="T")[1])


@pytest.fixture
def log(three):
    return {
        key: message_create(
            three.tenant,
            invoice_id=org.invoice_id,
            contact_id=org.contact_id,
            contact_name=org.contact_name,
            xero_tenant_id=org.xero_tenant_id,
        )
        for key, org in (("nz", three.nz), ("au", three.au), ("uk", three.uk))
    }


def _org(org) -> dict:
    return {"id": org.xero_tenant_id, "name": org.name}


def test_messages_say_their_organisation_and_filter_by_it(org_api, log, three):
    listed = org_api.get("/api/v1/messages/").json()["results"]
    assert {m["id"]: m["organisation"] for m in listed}[log["au"].pk] == _org(three.au)
    filtered = org_api.get(f"/api/v1/messages/?organisation={three.au.xero_tenant_id}")
    assert [m["id"] for m in filtered.json()["results"]] == [log["au"].pk]
    detail = org_api.get(f"/api/v1/messages/{log['uk'].pk}/").json()
    assert detail["organisation"] == _org(three.uk)


def test_a_message_to_no_organisation_says_null(api, tenant_a):
    message = message_create(tenant_a, kind="team_overdue_alert")
    assert api.get(f"/api/v1/messages/{message.pk}/").json()["organisation"] is None


def test_an_invoice_number_several_organisations_have_is_refused_with_its_candidates(
    org_api, log, three
):
    refused = org_api.get("/api/v1/messages/?invoice_number=INV-0001")
    assert refused.status_code == 400
    assert refused.json()["error"]["fields"]["organisation"] == [
        "INV-0001 is an invoice of 3 of your organisations: give `organisation`, one of these ids.",
        f"{three.au.xero_tenant_id}: Banksia Catering Pty Ltd — INV-0001, Grace Lee, 410.00 AUD",
        f"{three.uk.xero_tenant_id}: Bramble & Co Ltd — INV-0001, Oliver Hughes, 410.00 GBP",
        f"{three.nz.xero_tenant_id}: Harakeke Foods Ltd — INV-0001, Moana Tane, 410.00 NZD",
    ]
    answered = org_api.get(
        f"/api/v1/messages/?invoice_number=INV-0001&organisation={three.au.xero_tenant_id}"
    )
    assert [m["id"] for m in answered.json()["results"]] == [log["au"].pk]


def test_another_tenants_organisation_is_refused_and_shows_nothing(org_api, log, tenant_b):
    theirs = xero_connection_create(tenant=tenant_b, name="Bravo Bakery").xero_tenant_id
    message_create(tenant_b, xero_tenant_id=theirs)
    ReminderPause.objects.create(tenant=tenant_b, contact_id="b-1", xero_tenant_id=theirs)
    for url in ("messages/", "reminders/preview/", "reminders/pauses/"):
        refused = org_api.get(f"/api/v1/{url}?organisation={theirs}")
        assert refused.status_code == 400, url
        assert refused.json()["error"]["fields"] == {
            "organisation": ["Not one of your Xero organisations."]
        }


def test_the_reminder_preview_names_and_filters_by_organisation(org_api, three, daytime):
    daytime.move_to("2026-11-20T01:00:00Z")
    days = org_api.get("/api/v1/reminders/preview/").json()
    named = {r["organisation"]["name"] for day in days for r in day["reminders"]}
    assert named == {org.name for org in three.orgs}

    query = f"?organisation={three.uk.xero_tenant_id}"
    days = org_api.get(f"/api/v1/reminders/preview/{query}").json()
    assert {r["organisation"]["id"] for day in days for r in day["reminders"]} == {
        three.uk.xero_tenant_id
    }


def test_a_segments_organisation_is_returned_and_a_foreign_group_refused(org_api, three, tenant_b):
    body = {"kind": "invoice_issued", "channel": "sms", "body": "Hi {{ first_name }}"}
    created = org_api.post(
        "/api/v1/templates/", {**body, "contact_group_id": three.au.groups["Corporate"]}
    )
    assert created.status_code == 201, created.content
    assert created.json()["organisation"] == _org(three.au)
    assert created.json()["contact_group_name"] == "Corporate"
    everyone, _ = MessageTemplate.objects.get_or_create(
        tenant=three.tenant, kind="invoice_issued", channel="sms", contact_group_id="",
        tracking_option_id="", country="", region="", reminder_stage="", language="",
        defaults={"body": "Hi {{ first_name }}"},
    )  # fmt: skip
    assert org_api.get(f"/api/v1/templates/{everyone.pk}/").json()["organisation"] is None

    XeroContactGroup.objects.create(
        tenant=tenant_b, xero_tenant_id="org-b", group_id="b-corporate", name="Corporate"
    )
    foreign = org_api.post(
        "/api/v1/templates/",
        {**body, "channel": "email", "subject": "Hi", "contact_group_id": "b-corporate"},
    )
    assert foreign.status_code == 400
    assert foreign.json()["error"]["fields"]["contact_group_id"] == [
        "“b-corporate” is not a contact group of your Xero organisations."
    ]

    schedule = org_api.get("/api/v1/reminder-schedule/").json()
    schedule["stages"].append(
        {"key": "uk_retail", "label": "UK retail", "offset_days": 3,
         "contact_group_id": three.uk.groups["Retail"]}
    )  # fmt: skip
    saved = org_api.put("/api/v1/reminder-schedule/", schedule, format="json")
    assert saved.status_code == 200, saved.content
    [stage] = [s for s in saved.json()["stages"] if s["key"] == "uk_retail"]
    assert stage["organisation"] == _org(three.uk)


def test_pausing_a_shared_invoice_number_needs_its_organisation(org_api, three):
    refused = org_api.post("/api/v1/reminders/pauses/", {"invoice_number": "INV-0001"})
    assert refused.status_code == 400
    assert len(refused.json()["error"]["fields"]["organisation"]) == 4  # the question + 3
    assert not ReminderPause.objects.exists()

    created = org_api.post(
        "/api/v1/reminders/pauses/",
        {"invoice_number": "INV-0001", "organisation": three.au.xero_tenant_id,
         "resume_on": "2026-12-24"},
    )  # fmt: skip
    assert created.status_code == 201, created.content
    assert (created.json()["invoice_id"], created.json()["organisation"]) == (
        three.au.invoice_id,
        _org(three.au),
    )


def test_pauses_are_listed_by_organisation_and_removed(org_api, three):
    for org in (three.nz, three.uk):
        org_api.post(
            "/api/v1/reminders/pauses/",
            {"contact_name": org.contact_name, "organisation": org.xero_tenant_id},
        )
    query = f"?organisation={three.uk.xero_tenant_id}"
    [pause] = org_api.get(f"/api/v1/reminders/pauses/{query}").json()
    assert (pause["label"], pause["organisation"]["name"]) == ("Oliver Hughes", "Bramble & Co Ltd")
    assert org_api.delete(f"/api/v1/reminders/pauses/{pause['id']}/").status_code == 204
    assert len(org_api.get("/api/v1/reminders/pauses/").json()) == 1
