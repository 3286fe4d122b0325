"""Templates are strict: mistakes are caught when saved, and the most specific one wins."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from messaging.models import MessageTemplate
from messaging.rendering import money_format, sms_size
from messaging.selectors import templates_choose
from snapshots.contacts import ContactCard


def _template(tenant, **fields):
    values = {"tenant": tenant, "kind": "invoice_issued", "channel": "sms", "body": "Hi",
              "contact_group_id": "G-NEW"}  # fmt: skip
    values.update(fields)
    return MessageTemplate(**values)


def _errors(template) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        template.full_clean()
    return [m for messages in caught.value.message_dict.values() for m in messages]


def test_an_unknown_variable_is_refused_with_its_line_and_name(tenant_a):
    errors = _errors(_template(tenant_a, body="Hello {{ first_name }}\nPay {{ amount_owing }}"))
    assert errors == ["Line 2: unknown variable “amount_owing”. Did you mean “amount_paid”?"]


def test_a_variable_the_kind_cannot_fill_is_refused_naming_what_it_can(tenant_a):
    errors = _errors(_template(tenant_a, body="{{ overdue_invoices }}\n{{ days_overdu }}"))
    assert errors == [
        "Line 1: “overdue_invoices” has no value in this kind of message.",
        "Line 2: unknown variable “days_overdu”.",
    ]
    reminder = _template(tenant_a, kind="reminder", body="{{ days_overdu }} days")
    assert _errors(reminder) == [
        "Line 1: unknown variable “days_overdu”. Did you mean “days_overdue”?"
    ]


@pytest.mark.parametrize(
    "body",
    [
        "{{ contact.name }}",
        "{{ first_name|upper }}",
        "{% if paid %}x{% endif %}",
        "Hi {{ first_name",
    ],
)
def test_attributes_filters_tags_and_broken_braces_are_refused(tenant_a, body):
    assert any(e.startswith("Line 1:") for e in _errors(_template(tenant_a, body=body)))


def test_an_email_needs_a_subject_and_whatsapp_needs_a_content_sid(tenant_a):
    assert "An email needs a subject." in _errors(_template(tenant_a, channel="email"))
    errors = _errors(
        _template(tenant_a, channel="whatsapp", content_variables={"1": "{{ nickname }}"})
    )
    assert "Variable 1: Line 1: unknown variable “nickname”." in errors
    assert any("ContentSid" in e for e in errors)


def test_a_new_tenant_gets_active_sms_and_inactive_email_defaults_that_validate(tenant_a):
    templates = MessageTemplate.objects.filter(tenant=tenant_a)
    assert {t.kind for t in templates.filter(channel="sms", is_active=True)} == {
        "invoice_issued", "payment_received", "credit_note_issued", "reminder",
        "team_overdue_alert", "reply_payment_link",
        "reply_help", "reply_paid_thanks", "reply_not_found",
    }  # fmt: skip
    assert templates.filter(channel="email", is_active=False).count() == 6
    for template in templates:
        template.full_clean()


def test_the_most_specific_template_wins(tenant_a):
    default = MessageTemplate.objects.get(
        tenant=tenant_a, kind="reminder", channel="sms", reminder_stage=""
    )
    any_stage_trade = MessageTemplate.objects.create(
        tenant=tenant_a, kind="reminder", channel="sms", body="trade", contact_group_id="G-TRADE"
    )
    first_stage_trade = MessageTemplate.objects.create(
        tenant=tenant_a, kind="reminder", channel="sms", body="trade 7d",
        contact_group_id="G-TRADE", reminder_stage="7d",
    )  # fmt: skip
    trade = ContactCard(contact_id="c1", name="Trade Co", group_ids=("G-TRADE",))
    retail = ContactCard(contact_id="c2", name="Retail Ltd", group_ids=("G-RETAIL",))

    def chosen(contact, stage):
        return templates_choose(
            tenant=tenant_a, kind="reminder", contact=contact, reminder_stage=stage
        )["sms"]

    assert chosen(trade, "7d") == first_stage_trade
    assert chosen(trade, "14d") == any_stage_trade
    assert chosen(retail, "7d") == default
    first_stage_trade.is_active = False
    first_stage_trade.save()
    assert chosen(trade, "7d") == any_stage_trade


def test_money_is_natural_in_the_readers_currency_and_unambiguous_in_any_other():
    assert money_format(Decimal("1234.5"), "NZD", country="NZ") == "$1,234.50"
    assert money_format(Decimal("410"), "NZD", country="AU") == "NZD 410.00"
    assert money_format(Decimal("410"), "AUD", country="AU") == "$410.00"
    assert money_format(Decimal("1234.5"), "USD", country="NZ") == "USD 1,234.50"
    assert money_format(Decimal("99"), "GBP", country="GB") == "£99.00"
    assert money_format(Decimal("88"), "NZD", country="GB") == "NZD 88.00"
    assert money_format(Decimal("10"), "CHF", country="NZ") == "CHF 10.00"
    assert money_format(Decimal("1500"), "JPY", country="NZ") == "JPY 1,500"
    # Babel's French pattern has no-break spaces, which would force a text into UCS-2.
    assert money_format(Decimal("1234.5"), "EUR", country="FR") == "1 234,50 €"


def test_sms_segments_follow_gsm7_and_ucs2_rules():
    assert sms_size("a" * 160).segments == 1
    assert sms_size("a" * 161).segments == 2  # 153 per concatenated segment
    assert sms_size("€" * 80).units == 160  # extension table characters count double
    assert sms_size("€" * 80).encoding == "GSM-7"
    emoji = sms_size("Paid 👍")
    assert (emoji.encoding, emoji.ucs2_characters, emoji.units) == ("UCS-2", ("👍",), 7)
    assert sms_size("ā" * 70).segments == 1
    assert sms_size("ā" * 71).segments == 2  # 67 per concatenated segment
