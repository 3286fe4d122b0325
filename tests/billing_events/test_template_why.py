"""The editor's "why": for an invoice chosen by number, the template each channel uses and the
reminder schedule, with the reason."""

from decimal import Decimal

import pytest

from billing_events.models import ReminderStage
from messaging.models import MessageTemplate
from snapshots.models import ContactSnapshot, InvoiceSnapshot
from tests.a11y import assert_accessible

XERO_TENANT_ID = "b7a6e1d2-3c4f-4a5b-8c9d-0e1f2a3b4c5d"
REGION, NORTH = "351953c4-8127-4009-88c3-f9cd8c9cbe9f", "ae777a87-5ef3-4fa0-a4f0-d10e1f13073a"
VIP = "17b44ed7-4389-4162-91cb-3dd5766e4b3f"


@pytest.fixture
def north_invoice(tenant_a):
    """INV-0142, tracked Region: North, to a VIP contact in Sydney."""
    ContactSnapshot.objects.create(
        tenant=tenant_a, xero_tenant_id=XERO_TENANT_ID, contact_id="c-1", name="Ruapehu Motors",
        group_ids=[VIP], group_names=["VIP"], country="AU", region="NSW", country_source="address",
    )  # fmt: skip
    return InvoiceSnapshot.objects.create(
        tenant=tenant_a, xero_tenant_id=XERO_TENANT_ID, invoice_id="i-1", type="ACCREC",
        status="AUTHORISED", number="INV-0142", contact_id="c-1", amount_due=Decimal("485"),
        tracking=[{"category_id": REGION, "option_id": NORTH, "category": "Region",
                   "option": "North"}],
    )  # fmt: skip


@pytest.fixture
def segment_templates(tenant_a):
    common = {"tenant": tenant_a, "channel": "sms", "body": "Hi {{ first_name }}"}
    north = {"tracking_category_id": REGION, "tracking_option_id": NORTH,
             "tracking_label": "Region: North"}  # fmt: skip
    for kind in ("invoice_issued", "reminder"):
        MessageTemplate.objects.create(
            **common, kind=kind, contact_group_id=VIP, contact_group_name="VIP"
        )
        MessageTemplate.objects.create(**common, kind=kind, **north)


def why(client, **query):
    return client.get("/messaging/templates/why/", query)


def test_staff_see_which_template_wins_for_an_invoice_and_why(
    staff_client, north_invoice, segment_templates
):
    page = why(staff_client, invoice="inv-0142", kind="invoice_issued").text

    assert "Invoice issued for INV-0142 to Ruapehu Motors" in page
    assert "Line items carry Region: North (tracking option beats the contact group VIP)" in page
    assert "Australia, NSW (from the address)" in page
    assert "No active template: nothing goes by Email" in page
    assert "Reminder schedule:</strong> Default schedule" in page
    assert_accessible(page)


def test_for_reminders_each_stage_of_the_invoices_schedule_is_shown(
    staff_client, tenant_a, north_invoice, segment_templates
):
    ReminderStage.objects.create(
        tenant=tenant_a, key="vip_3", label="VIP nudge", offset_days=3, contact_group_id=VIP,
        contact_group_name="VIP",
    )  # fmt: skip
    MessageTemplate.objects.create(
        tenant=tenant_a, kind="reminder", channel="sms", body="VIP nudge", reminder_stage="vip_3",
        contact_group_id=VIP, contact_group_name="VIP",
    )  # fmt: skip

    page = why(staff_client, invoice="INV-0142", kind="reminder").text

    assert "Schedule for VIP — Ruapehu Motors is in the contact group VIP" in page
    assert "VIP nudge (+3 days)" in page
    # The tracking option's any-stage template still beats the group's stage template.
    assert "Line items carry Region: North (tracking option beats the contact group VIP)" in page


def test_the_editor_answers_in_place_with_htmx(staff_client, tenant_a, north_invoice):
    template = tenant_a.message_templates.get(kind="invoice_issued", channel="sms")
    editor = staff_client.get(f"/messaging/templates/{template.pk}/").text
    assert 'hx-get="/messaging/templates/why/"' in editor
    assert_accessible(editor)

    fragment = staff_client.get(
        "/messaging/templates/why/",
        {"invoice": "INV-0142", "kind": "invoice_issued"},
        headers={"HX-Request": "true"},
    ).text
    assert "<html" not in fragment
    assert "No segment applies, so the default" in fragment


def test_an_unknown_or_other_tenants_invoice_is_said_plainly(staff_client, tenant_b, north_invoice):
    InvoiceSnapshot.objects.create(
        tenant=tenant_b, xero_tenant_id="b-org", invoice_id="b-1", type="ACCREC",
        status="AUTHORISED", number="INV-B-1", contact_id="b-c",
    )  # fmt: skip
    for number in ("INV-9999", "INV-B-1"):
        response = why(staff_client, invoice=number, kind="invoice_issued")
        assert response.status_code == 200
        assert "No invoice with this number has come from Xero." in response.text
        assert_accessible(response.text)
