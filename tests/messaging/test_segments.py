"""One order decides which template applies: tracking option on the invoice > contact group >
country and region > country > default; a stage-specific reminder template wins within a rank."""

import pytest
from django.core.exceptions import ValidationError

from messaging.models import MessageTemplate
from messaging.selectors import templates_choose, templates_ranked
from snapshots.contacts import ContactCard
from snapshots.segments import TrackingTag, match_explain

NORTH = TrackingTag("351953c4-8127-4009-88c3-f9cd8c9cbe9f", "ae777a87-5ef3-4fa0-a4f0-d10e1f13073a",
                    "Region: North")  # fmt: skip
TRADE = "3e1b0f6a-8d4c-4b1e-9a2f-5c6d7e8f9a0b"

# In the Trade customers group, in Sydney (NSW) by its street address.
SYDNEY_TRADER = ContactCard(
    contact_id="c-1", name="Ruapehu Motors", group_ids=(TRADE,), group_names=("Trade customers",),
    country="AU", region="NSW", country_source="address",
)  # fmt: skip


def _template(tenant, body, **segment) -> MessageTemplate:
    template = MessageTemplate(tenant=tenant, kind="invoice_issued", channel="sms", body=body,
                               **segment)  # fmt: skip
    template.full_clean()
    template.save()
    return template


@pytest.fixture
def every_segment(tenant_a):
    """A template for each rank, besides the tenant's default."""
    return {
        "tracking": _template(
            tenant_a, "north", tracking_category_id=NORTH.category_id,
            tracking_option_id=NORTH.option_id, tracking_label=NORTH.label,
        ),
        "group": _template(
            tenant_a, "trade", contact_group_id=TRADE, contact_group_name="Trade customers"
        ),
        "region": _template(tenant_a, "nsw", country="AU", region="nsw"),
        "country": _template(tenant_a, "australia", country="au"),
    }  # fmt: skip


def _body(tenant, contact, tracking=(), kind="invoice_issued", stage="") -> str:
    chosen = templates_choose(
        tenant=tenant, kind=kind, contact=contact, tracking=tracking, reminder_stage=stage
    )
    return chosen["sms"].body


def test_the_tracking_option_beats_the_group_which_beats_region_which_beats_country(
    tenant_a, every_segment
):
    assert _body(tenant_a, SYDNEY_TRADER, tracking=[NORTH]) == "north"
    assert _body(tenant_a, SYDNEY_TRADER) == "trade"
    outside_the_group = ContactCard(**{**SYDNEY_TRADER.__dict__, "group_ids": ()})
    assert _body(tenant_a, outside_the_group) == "nsw"
    in_victoria = ContactCard(**{**outside_the_group.__dict__, "region": "VIC"})
    assert _body(tenant_a, in_victoria) == "australia"
    in_new_zealand = ContactCard(**{**in_victoria.__dict__, "country": "NZ"})
    default = MessageTemplate.objects.get(
        tenant=tenant_a, kind="invoice_issued", channel="sms", country="", contact_group_id="",
        tracking_option_id="",
    )  # fmt: skip
    assert _body(tenant_a, in_new_zealand) == default.body


def test_the_reason_names_what_the_winner_beat(tenant_a, every_segment):
    [winner, *rest] = templates_ranked(
        tenant=tenant_a, kind="invoice_issued", contact=SYDNEY_TRADER, tracking=[NORTH]
    )["sms"]
    assert winner.item == every_segment["tracking"]
    assert [m.item for m in rest][:3] == [
        every_segment["group"], every_segment["region"], every_segment["country"]
    ]  # fmt: skip
    assert match_explain([winner, *rest]) == (
        "Line items carry Region: North (tracking option beats the contact group Trade customers)"
    )


def test_a_contact_placed_by_its_phone_gets_its_countrys_template(tenant_a, every_segment):
    _template(tenant_a, "united kingdom", country="GB")
    by_phone = ContactCard(contact_id="c-2", name="Thistle and Rose", country="GB",
                           country_source="phone")  # fmt: skip
    [winner] = [
        m
        for m in templates_ranked(tenant=tenant_a, kind="invoice_issued", contact=by_phone)["sms"]
        if m.item.body == "united kingdom"
    ]
    assert _body(tenant_a, by_phone) == "united kingdom"
    assert winner.reason == "Thistle and Rose is in United Kingdom (from the phone number)"


def test_within_a_rank_a_stage_template_wins_then_the_label(tenant_a):
    reminder = {"tenant": tenant_a, "kind": "reminder", "channel": "sms"}
    MessageTemplate.objects.create(
        **reminder, body="trade", contact_group_id=TRADE, contact_group_name="Trade customers"
    )
    staged = MessageTemplate.objects.create(
        **reminder, body="trade 7", contact_group_id=TRADE, contact_group_name="Trade customers",
        reminder_stage="overdue_7",
    )  # fmt: skip
    MessageTemplate.objects.create(
        **reminder, body="wholesale", contact_group_id="g-w", contact_group_name="Wholesale"
    )
    both = ContactCard(contact_id="c-3", name="Both", group_ids=(TRADE, "g-w"))
    assert _body(tenant_a, both, kind="reminder", stage="overdue_7") == staged.body
    # Same rank, same stage-ness: "Trade customers" comes before "Wholesale" by name.
    assert _body(tenant_a, both, kind="reminder", stage="overdue_14") == "trade"


@pytest.mark.parametrize(
    ("segment", "problem"),
    [
        ({"contact_group_id": TRADE, "country": "AU"}, "Choose one segment at most"),
        ({"country": "XX"}, "is not an ISO 3166 country code"),
        ({"region": "NSW"}, "A region needs its country."),
        ({"tracking_option_id": NORTH.option_id}, "A tracking option needs its tracking category"),
    ],
)
def test_a_template_has_one_valid_segment_at_most(tenant_a, segment, problem):
    template = MessageTemplate(tenant=tenant_a, kind="invoice_issued", channel="sms", body="Hi",
                               **segment)  # fmt: skip
    with pytest.raises(ValidationError) as caught:
        template.full_clean()
    assert problem in str(caught.value)
