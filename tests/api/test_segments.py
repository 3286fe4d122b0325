"""Segments through the REST API: templates and reminder stages for a tracking option, a group or
a country; names filled in from Xero; one segment at most; a deleted one said so."""

from snapshots.models import XeroContactGroup, XeroTrackingOption

REGION, NORTH = "351953c4-8127-4009-88c3-f9cd8c9cbe9f", "ae777a87-5ef3-4fa0-a4f0-d10e1f13073a"
BODY = {"kind": "invoice_issued", "channel": "sms", "body": "Hi {{ first_name }}"}


def _north(tenant, status="ACTIVE"):
    return XeroTrackingOption.objects.create(
        tenant=tenant, xero_tenant_id="org-a", category_id=REGION, category_name="Region",
        option_id=NORTH, option_name="North", status=status,
    )  # fmt: skip


def test_a_template_for_a_tracking_option_is_named_from_xero(api, tenant_a):
    _north(tenant_a)
    created = api.post("/api/v1/templates/", {**BODY, "tracking_option_id": NORTH})
    assert created.status_code == 201, created.content
    template = created.json()
    assert (template["tracking_category_id"], template["tracking_label"]) == (
        REGION, "Region: North"
    )  # fmt: skip
    assert (template["segment"], template["segment_note"]) == ("Region: North", "")


def test_a_template_for_a_country_and_region_keeps_working_with_contact_group_id(api, tenant_a):
    XeroContactGroup.objects.create(
        tenant=tenant_a, xero_tenant_id="org-a", group_id="g-vip", name="VIP"
    )
    by_region = api.post("/api/v1/templates/", {**BODY, "country": "au", "region": "NSW"})
    assert by_region.json()["segment"] == "Australia, NSW"
    by_group = api.post("/api/v1/templates/", {**BODY, "contact_group_id": "g-vip",
                                               "contact_group_name": "VIP"})  # fmt: skip
    assert by_group.status_code == 201 and by_group.json()["segment"] == "VIP"


def test_two_segments_or_an_unknown_country_are_refused(api, tenant_a):
    XeroContactGroup.objects.create(tenant=tenant_a, xero_tenant_id="org-a", group_id="g", name="G")
    both = api.post("/api/v1/templates/", {**BODY, "country": "AU", "contact_group_id": "g"})
    assert both.status_code == 400
    assert "Choose one segment at most" in both.json()["error"]["message"]
    nowhere = api.post("/api/v1/templates/", {**BODY, "country": "ZZ"})
    assert nowhere.json()["error"]["fields"]["country"] == [
        "“ZZ” is not an ISO 3166 country code, e.g. AU."
    ]


def test_a_template_whose_group_was_deleted_in_xero_says_so(api, tenant_a):
    XeroContactGroup.objects.create(
        tenant=tenant_a, xero_tenant_id="org-a", group_id="g-vip", name="VIP", status="DELETED"
    )
    api.post("/api/v1/templates/", {**BODY, "contact_group_id": "g-vip"})
    listed = api.get("/api/v1/templates/?kind=invoice_issued").json()
    [vip] = [t for t in listed if t["contact_group_id"] == "g-vip"]
    assert vip["segment_note"] == (
        "The contact group VIP was deleted in Xero; the default is used instead."
    )


def test_a_segments_reminder_schedule_is_put_and_read_back(owner_api, tenant_a):
    _north(tenant_a)
    schedule = owner_api.get("/api/v1/reminder-schedule/").json()
    schedule["stages"].append(
        {"key": "north_3", "label": "North nudge", "offset_days": 7, "tracking_option_id": NORTH}
    )
    response = owner_api.put("/api/v1/reminder-schedule/", schedule, format="json")
    assert response.status_code == 200, response.content
    [north] = [s for s in response.json()["stages"] if s["key"] == "north_3"]
    assert (north["segment"], north["tracking_category_id"]) == ("Region: North", REGION)

    schedule["stages"].append(
        {"key": "north_7", "label": "Clash", "offset_days": 7, "tracking_option_id": NORTH}
    )
    clash = owner_api.put("/api/v1/reminder-schedule/", schedule, format="json")
    assert clash.status_code == 400
