"""The template editor: list, live preview against a real invoice, SMS counter, validation."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from messaging.models import MessageTemplate
from snapshots.models import ContactSnapshot, InvoiceSnapshot
from tests.a11y import assert_accessible
from tests.xero_api import xero_connection_create

XERO_TENANT_ID = "b7a6e1d2-3c4f-4a5b-8c9d-0e1f2a3b4c5d"


def invoice_create(tenant, *, number="INV-0142", name="Aroha Ngata", first_name="Aroha",
                   xero_tenant_id=XERO_TENANT_ID, groups=(), **fields):  # fmt: skip
    contact_id = f"contact-{number}"
    ContactSnapshot.objects.create(
        tenant=tenant, xero_tenant_id=xero_tenant_id, contact_id=contact_id, name=name,
        first_name=first_name, group_ids=[g[0] for g in groups], group_names=[g[1] for g in groups],
    )  # fmt: skip
    values = {
        "type": "ACCREC", "status": "AUTHORISED", "currency": "NZD", "total": Decimal("685.00"),
        "amount_due": Decimal("485.00"), "due_date": timezone.now().date() + timedelta(days=14),
    }  # fmt: skip
    return InvoiceSnapshot.objects.create(
        tenant=tenant, xero_tenant_id=xero_tenant_id, invoice_id=f"id-{number}", number=number,
        contact_id=contact_id, **{**values, **fields},
    )  # fmt: skip


def preview(client, body, channel="sms", **fields):
    response = client.post(
        "/messaging/templates/preview/", {"channel": channel, "body": body, **fields}
    )
    assert response.status_code == 200
    return response.text


def test_the_list_shows_every_template_by_kind_channel_and_group(staff_client, tenant_a):
    MessageTemplate.objects.create(
        tenant=tenant_a, kind="reminder", channel="sms", contact_group_id="g-trade",
        contact_group_name="Trade customers", body="Hi {{ first_name }}, please pay.",
    )  # fmt: skip
    page = staff_client.get("/messaging/templates/").text
    assert "Reminder" in page and "Payment received" in page
    assert "Trade customers" in page and "Everyone" in page
    assert_accessible(page)


def test_the_preview_fills_in_the_tenants_most_recent_invoice(staff_client, tenant_a, tenant_b):
    invoice_create(tenant_a, number="INV-0001", name="Old Customer", first_name="Old")
    invoice_create(tenant_a, number="INV-0142")
    invoice_create(tenant_b, number="INV-9999", name="Bravo Customer", first_name="Bravo",
                   xero_tenant_id="other-org")  # fmt: skip
    html = preview(staff_client, "Hi {{ first_name }}, {{ invoice_number }}: {{ amount_due }}")
    assert "Filled in with invoice INV-0142 to Aroha Ngata" in html
    assert "Hi Aroha, INV-0142: $485.00" in html
    assert "Bravo" not in html


def test_without_an_invoice_the_preview_uses_an_example(staff_client, tenant_a):
    html = preview(staff_client, "Thanks {{ first_name }}, we got {{ payment_amount }}.")
    assert "an example invoice (none from Xero yet)" in html
    assert "Thanks Aroha, we got $200.00." in html


def test_values_the_invoice_lacks_come_from_the_example(staff_client, tenant_a):
    invoice_create(tenant_a, due_date=date(2020, 1, 1))
    html = preview(staff_client, "{{ days_overdue }} days; paid {{ payment_amount }}")
    assert "days; paid $200.00" in html
    assert f"{(timezone.now().date() - date(2020, 1, 1)).days} days" in html


def test_the_counter_shows_gsm7_segments_and_the_estimated_cost(staff_client, settings):
    settings.SMS_PRICES = {"NZ": Decimal("0.0100")}
    html = preview(staff_client, "x" * 200)
    assert 'data-testid="sms-encoding">GSM-7<' in html
    assert 'data-testid="sms-segments">2<' in html
    assert 'data-testid="sms-cost">USD 0.0200<' in html
    assert "ucs2" not in html


def test_the_cost_is_priced_by_the_recipients_country_and_the_tenants_others(
    staff_client, tenant_a, settings
):
    settings.SMS_PRICES = {"NZ": Decimal("0.1100"), "AU": Decimal("0.0515")}
    settings.SMS_PRICE_PER_SEGMENT = "0.0079"
    xero_connection_create(tenant=tenant_a)  # a New Zealand organisation
    australian = xero_connection_create(tenant=tenant_a, name="Alpha Plumbing (AU)")
    australian.country_code = "AU"
    australian.save(update_fields=["country_code"])
    invoice = invoice_create(tenant_a)
    ContactSnapshot.objects.filter(contact_id=invoice.contact_id).update(country="GB")

    html = preview(staff_client, "x" * 200)

    assert 'data-testid="sms-cost">USD 0.0158<' in html  # two segments to the UK contact
    assert (
        "GB USD 0.0158 (this recipient) — no price set for it, estimated at the default "
        "USD 0.0079 a segment; AU USD 0.1030; NZ USD 0.2200." in " ".join(html.split())
    )
    # Twilio prices by the number texted: a New Zealand address with an Australian mobile.
    ContactSnapshot.objects.filter(contact_id=invoice.contact_id).update(
        country="NZ", phones=[{"PhoneType": "MOBILE", "PhoneNumber": "+61 412 555 201"}]
    )
    assert 'data-testid="sms-cost">USD 0.1030<' in preview(staff_client, "x" * 200)


def test_the_preview_refuses_a_variable_the_kind_cannot_fill(staff_client):
    html = preview(staff_client, "{{ overdue_invoices }}", kind="invoice_issued")
    assert "Line 1: “overdue_invoices” has no value in this kind of message." in html
    digest = preview(staff_client, "{{ overdue_invoices }}", kind="team_overdue_alert")
    assert "- INV-0142 Aroha Ngata $485.00, 7 days overdue" in digest


def test_curly_quotes_and_emoji_force_ucs2_and_are_highlighted(staff_client):
    html = preview(staff_client, "It’s due {{ due_date }} 🙂")
    assert 'data-testid="sms-encoding">UCS-2<' in html
    assert '<mark class="ucs2" title="Forces UCS-2 encoding">’</mark>' in html
    assert '<mark class="ucs2" title="Forces UCS-2 encoding">🙂</mark>' in html
    assert "’ (right single quotation mark)" in html


def test_an_unknown_variable_is_named_with_its_line_in_the_preview(staff_client):
    html = preview(staff_client, "Hello\nPay {{ amount_owed }} now")
    assert "Line 2: unknown variable “amount_owed”." in html
    assert 'role="alert"' in html


def test_saving_a_template_with_an_unknown_variable_is_refused_inline(staff_client, tenant_a):
    template = tenant_a.message_templates.get(kind="invoice_issued", channel="sms")
    response = staff_client.post(
        f"/messaging/templates/{template.pk}/",
        {"kind": "invoice_issued", "channel": "sms", "body": "Hi {{ frist_name }}",
         "is_active": "on"},
    )  # fmt: skip
    assert response.status_code == 200
    assert "Line 1: unknown variable “frist_name”. Did you mean “first_name”?" in response.text
    assert 'aria-invalid="true"' in response.text
    template.refresh_from_db()
    assert "frist_name" not in template.body
    assert_accessible(response.text)


def test_saving_a_valid_template_changes_it(staff_client, tenant_a):
    template = tenant_a.message_templates.get(kind="invoice_issued", channel="sms")
    response = staff_client.post(
        f"/messaging/templates/{template.pk}/",
        {"kind": "invoice_issued", "channel": "sms", "body": "Invoice {{ invoice_number }}",
         "is_active": "on"},
        follow=True,
    )  # fmt: skip
    assert "Template saved" in response.text
    template.refresh_from_db()
    assert template.body == "Invoice {{ invoice_number }}"


def test_a_template_for_a_contact_group_keeps_the_groups_name(staff_client, tenant_a):
    invoice_create(tenant_a, groups=[("g-trade", "Trade customers")])
    page = staff_client.get("/messaging/templates/new/?kind=reminder").text
    assert '<option value="group:g-trade">Trade customers</option>' in page
    staff_client.post(
        "/messaging/templates/new/",
        {"kind": "reminder", "channel": "sms", "applies_to": "group:g-trade",
         "body": "Trade reminder {{ invoice_number }}", "is_active": "on"},
    )  # fmt: skip
    template = tenant_a.message_templates.get(contact_group_id="g-trade")
    assert template.contact_group_name == "Trade customers"


def test_a_second_template_for_the_same_rule_is_refused_in_plain_words(staff_client, tenant_a):
    response = staff_client.post(
        "/messaging/templates/new/",
        {"kind": "invoice_issued", "channel": "sms", "body": "Again", "is_active": "on"},
    )
    assert "There is already a template for this kind, channel" in response.text
    assert tenant_a.message_templates.filter(kind="invoice_issued", channel="sms").count() == 1


def test_a_whatsapp_template_needs_its_content_sid_and_previews_its_variables(
    staff_client, tenant_a
):
    mapping = '{"1": "{{ first_name }}", "2": "{{ invoice_number }}"}'
    fields = {"kind": "reminder", "channel": "whatsapp", "body": "", "content_variables": mapping}
    response = staff_client.post("/messaging/templates/new/", {**fields, "content_sid": "HX1"})
    assert "A WhatsApp template needs a ContentSid" in response.text
    html = preview(staff_client, **fields)
    assert "<dt>{{1}}</dt><dd>Aroha</dd>" in html and "<dt>{{2}}</dt><dd>INV-0142</dd>" in html
    staff_client.post(
        "/messaging/templates/new/", {**fields, "content_sid": "HX" + "a" * 32, "is_active": "on"}
    )
    template = tenant_a.message_templates.get(channel="whatsapp")
    assert template.content_variables == {"1": "{{ first_name }}", "2": "{{ invoice_number }}"}


def test_whatsapp_variables_that_are_not_json_are_explained(staff_client):
    html = preview(staff_client, "", channel="whatsapp", content_variables="{1: first}")
    assert "WhatsApp variables — Not valid JSON" in html


@pytest.mark.parametrize("channel", ["sms", "email"])
def test_the_editor_page_is_accessible(staff_client, tenant_a, channel):
    template = tenant_a.message_templates.filter(kind="reminder", channel=channel).first()
    page = staff_client.get(f"/messaging/templates/{template.pk}/").text
    assert 'data-insert="invoice_number"' in page
    assert 'hx-post="/messaging/templates/preview/"' in page
    assert_accessible(page)


def test_a_template_in_another_language_sits_beside_the_default_one(staff_client, tenant_a):
    page = staff_client.get("/messaging/templates/new/").text
    assert '<option value="mi">Māori</option>' in page
    response = staff_client.post(
        "/messaging/templates/new/",
        {"kind": "invoice_issued", "channel": "sms", "language": "mi", "is_active": "on",
         "body": "Kia ora {{ first_name }}, nama {{ invoice_number }}"},
        follow=True,
    )  # fmt: skip
    assert "Template saved: Invoice issued · SMS · Everyone · Māori." in response.text
    listed = staff_client.get("/messaging/templates/").text
    assert "Everyone · Māori" in listed
    again = staff_client.post(
        "/messaging/templates/new/",
        {"kind": "invoice_issued", "channel": "sms", "language": "mi", "body": "Again"},
    )
    assert "There is already a template for this kind, channel, segment, stage and language" in (
        again.text
    )


def test_only_a_text_template_can_fall_back_to_email(staff_client, tenant_a):
    template = tenant_a.message_templates.get(kind="invoice_issued", channel="sms")
    page = staff_client.get(f"/messaging/templates/{template.pk}/").text
    assert 'data-channels="sms whatsapp"' in page and 'name="fallback_to_email"' in page
    assert_accessible(page)
    email = {"kind": "reminder", "channel": "email", "subject": "Overdue", "body": "Overdue",
             "reminder_stage": "30d", "fallback_to_email": "on"}  # fmt: skip
    refused = staff_client.post("/messaging/templates/new/", email)
    assert "Only an SMS or WhatsApp template can fall back to email." in refused.text
    staff_client.post(
        f"/messaging/templates/{template.pk}/",
        {"kind": "invoice_issued", "channel": "sms", "body": template.body,
         "fallback_to_email": "on", "is_active": "on"},
    )  # fmt: skip
    template.refresh_from_db()
    assert template.fallback_to_email
