"""templates/ CRUD with the editor's validation, and templates/preview/."""

from datetime import date
from decimal import Decimal

import pytest
import time_machine

from messaging.models import MessageTemplate
from snapshots.models import ContactSnapshot, InvoiceSnapshot
from tests.xero_api import xero_connection_create

REMINDER = {
    "kind": "reminder",
    "channel": "sms",
    "reminder_stage": "14d",
    "body": "Hi {{ first_name }}, {{ invoice_number }} is {{ days_overdue }} days overdue.",
}


def test_the_list_is_the_tenants_templates_and_filters(api, tenant_a, tenant_b):
    everything = api.get("/api/v1/templates/").json()
    assert {t["id"] for t in everything} == set(
        tenant_a.message_templates.values_list("pk", flat=True)
    )
    sms = api.get("/api/v1/templates/?channel=sms&kind=reminder").json()
    assert {(t["kind"], t["channel"]) for t in sms} == {("reminder", "sms")}
    assert len(sms) == tenant_a.message_templates.filter(kind="reminder", channel="sms").count()


def test_a_template_is_created_read_changed_and_deleted(api, tenant_a):
    created = api.post("/api/v1/templates/", REMINDER)
    assert created.status_code == 201, created.content
    url = f"/api/v1/templates/{created.json()['id']}/"
    assert api.get(url).json()["reminder_stage"] == "14d"
    patched = api.patch(url, {"is_active": False})
    assert patched.json()["is_active"] is False
    assert patched.json()["body"] == REMINDER["body"]
    replaced = api.put(url, {**REMINDER, "body": "Overdue: {{ invoice_number }}"})
    assert replaced.json()["is_active"] is True  # a PUT resets what it leaves out
    assert api.delete(url).status_code == 204
    assert api.get(url).status_code == 404


def test_an_invalid_body_is_refused_naming_the_line_and_the_variable(api, sms_template):
    response = api.patch(
        f"/api/v1/templates/{sms_template.pk}/",
        {"body": "Hi {{ first_name }},\nyou owe {{ amount_owed }} {{ invoice.number }}"},
    )
    assert response.status_code == 400
    problems = response.json()["error"]["fields"]["body"]
    assert problems == [
        "Line 2: unknown variable “amount_owed”. Did you mean “amount_due”?",
        "Line 2: “{{ invoice.number }}” is not a plain variable. Only {{ name }} is allowed — "
        "no dots, filters or tags.",
    ]
    sms_template.refresh_from_db()
    assert "amount_owed" not in sms_template.body


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"kind": "reminder", "channel": "email", "body": "Pay"}, "subject"),
        ({"kind": "reminder", "channel": "whatsapp", "content_sid": "nope"}, "content_sid"),
        ({"kind": "invoice_issued", "channel": "sms", "reminder_stage": "7d", "body": "x"},
         "reminder_stage"),
        ({"kind": "reminder", "channel": "sms", "body": "  "}, "body"),
        ({"kind": "reminder", "channel": "none", "body": "x"}, "channel"),
    ],
)  # fmt: skip
def test_the_editors_rules_apply(api, values, field):
    response = api.post("/api/v1/templates/", values)
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_a_second_template_for_the_same_rule_is_a_conflict(api):
    assert api.post("/api/v1/templates/", REMINDER).status_code == 201
    response = api.post("/api/v1/templates/", REMINDER)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "duplicate_template"


def test_another_tenants_template_is_not_found(api, tenant_b):
    theirs = MessageTemplate.objects.get(
        tenant=tenant_b, kind="reminder", channel="sms", reminder_stage=""
    )
    url = f"/api/v1/templates/{theirs.pk}/"
    assert api.get(url).status_code == 404
    assert api.patch(url, {"is_active": False}).status_code == 404
    assert api.delete(url).status_code == 404
    theirs.refresh_from_db()
    assert theirs.is_active


def test_the_preview_renders_an_example_with_encoding_and_segments(api):
    response = api.post(
        "/api/v1/templates/preview/",
        {"body": "Hi {{ first_name }}, {{ invoice_number }}: {{ amount_due }} due {{ due_date }}."},
    )
    assert response.status_code == 200
    assert response.json() == {
        "sample": "an example invoice (none from Xero yet)",
        "subject": "",
        "text": "Hi Aroha, INV-0142: $485.00 due 7 July 2026.",
        "sms": {
            "encoding": "GSM-7",
            "segments": 1,
            "characters": 44,
            "per_segment": 160,
            "ucs2_characters": [],
        },
    }


def test_the_preview_counts_ucs2_segments(api):
    body = "Kia ora {{ first_name }} 🙂 " + "x" * 60
    sms = api.post("/api/v1/templates/preview/", {"body": body}).json()["sms"]
    assert (sms["encoding"], sms["segments"], sms["ucs2_characters"]) == (
        "UCS-2", 2, ["🙂 (slightly smiling face)"],
    )  # fmt: skip


def test_an_email_preview_has_a_subject_and_no_sms_counter(api):
    preview = api.post(
        "/api/v1/templates/preview/",
        {"channel": "email", "subject": "Invoice {{ invoice_number }}", "body": "Hi"},
    ).json()
    assert (preview["subject"], preview["text"], preview["sms"]) == ("Invoice INV-0142", "Hi", None)


@time_machine.travel(date(2026, 7, 14), tick=False)
def test_the_preview_uses_an_invoice_of_the_tenant(api, tenant_a):
    connection = xero_connection_create(tenant=tenant_a, name="Alpha Plumbing Ltd")
    ContactSnapshot.objects.create(
        tenant=tenant_a, xero_tenant_id=connection.xero_tenant_id, contact_id="c-1",
        name="Wiremu Tane", first_name="Wiremu",
    )  # fmt: skip
    InvoiceSnapshot.objects.create(
        tenant=tenant_a, xero_tenant_id=connection.xero_tenant_id, invoice_id="inv-7",
        type="ACCREC", status="AUTHORISED", number="INV-0007", contact_id="c-1",
        currency="NZD", total=Decimal("99.5"), amount_due=Decimal("99.5"),
        due_date=date(2026, 7, 7),
    )  # fmt: skip
    preview = api.post(
        "/api/v1/templates/preview/",
        {
            "invoice_id": "inv-7",
            "body": "{{ first_name }}: {{ invoice_number }} {{ amount_due }} {{ days_overdue }} "
            "days, from {{ organisation_name }}. Thanks {{ payment_amount }}",
        },
    ).json()
    # The invoice's own values; what it cannot have (a payment) comes from the example.
    assert preview["text"] == (
        "Wiremu: INV-0007 $99.50 7 days, from Alpha Plumbing Ltd. Thanks $200.00"
    )
    assert preview["sample"] == "invoice INV-0007 to Wiremu Tane"


def test_the_preview_refuses_an_invalid_template_or_another_tenants_invoice(api, tenant_b):
    bad = api.post("/api/v1/templates/preview/", {"body": "{{ nope }}"})
    assert bad.status_code == 400
    assert bad.json()["error"]["fields"]["body"] == ["Line 1: unknown variable “nope”."]
    InvoiceSnapshot.objects.create(
        tenant=tenant_b, xero_tenant_id="org-b", invoice_id="inv-b", type="ACCREC",
        status="AUTHORISED",
    )  # fmt: skip
    theirs = api.post("/api/v1/templates/preview/", {"invoice_id": "inv-b", "body": "Hi"})
    assert theirs.status_code == 404


def test_the_preview_refuses_text_longer_than_the_channel_allows(api):
    response = api.post("/api/v1/templates/preview/", {"body": "{{ contact_name }}" + "x" * 1600})
    assert response.status_code == 400
    assert "limit 1,600" in response.json()["error"]["fields"]["body"][0]


def test_a_template_has_a_language_and_may_fall_back_to_email(api, tenant_a):
    created = api.post(
        "/api/v1/templates/",
        {**REMINDER, "language": "mi", "fallback_to_email": True,
         "body": "Kia ora {{ first_name }}, {{ invoice_number }}"},
    )  # fmt: skip
    assert created.status_code == 201, created.content
    assert (created.json()["language"], created.json()["fallback_to_email"]) == ("mi", True)
    default_language = api.post("/api/v1/templates/", REMINDER)
    assert default_language.json()["language"] == ""
    unknown = api.post("/api/v1/templates/", {**REMINDER, "language": "xx"})
    assert unknown.status_code == 400
    assert "language" in unknown.json()["error"]["fields"]
    email = {**REMINDER, "channel": "email", "subject": "Overdue", "fallback_to_email": True}
    refused = api.post("/api/v1/templates/", email)
    assert refused.status_code == 400
    assert refused.json()["error"]["fields"]["fallback_to_email"] == [
        "Only an SMS or WhatsApp template can fall back to email."
    ]
