"""A segment's reminder schedule replaces the default one for its invoices, whole; the preview and
the reminders page say which schedule applies; a group deleted in Xero falls back to the default."""

from datetime import date, timedelta

import pytest
import time_machine

from billing_events.models import ReminderStage
from billing_events.reminders import reminders_preview
from messaging.models import Message
from snapshots.models import XeroContactGroup
from tests.a11y import assert_accessible
from tests.billing_events.helpers import API, api_json
from tests.billing_events.reminder_helpers import import_at, local, reminders_of, sweep_at
from tests.billing_events.standin import StandInXero

TRADE = "3e1b0f6a-8d4c-4b1e-9a2f-5c6d7e8f9a0b"  # Ruapehu Motors (INV-0142) is in it
TRADE_GROUP = {"contact_group_id": TRADE, "contact_group_name": "Trade customers"}


@pytest.fixture
def trade_schedule(tenant_a):
    return [
        ReminderStage.objects.create(
            tenant=tenant_a, key="trade_3", label="Trade, 3 days over", offset_days=3,
            **TRADE_GROUP,
        ),
        # Same number of days as the default "7 days overdue": another schedule, so allowed.
        ReminderStage.objects.create(
            tenant=tenant_a, key="trade_7", label="Trade, 7 days over", offset_days=7,
            **TRADE_GROUP,
        ),
    ]  # fmt: skip


@pytest.fixture
def xero(xero_api):
    stand_in = StandInXero(xero_api)
    stand_in.only("INV-0142", "INV-0150")
    return stand_in


def _days(start: str, end: str):
    day = date.fromisoformat(start)
    while day <= date.fromisoformat(end):
        yield day
        day += timedelta(days=1)


def test_the_segments_schedule_replaces_the_default_one_whole(new_connection, xero, trade_schedule):
    import_at(new_connection, "2026-12-01 08:00")
    for day in _days("2026-12-02", "2026-12-20"):
        sweep_at(new_connection, f"{day} 09:05")

    assert reminders_of("INV-0142") == [("trade_3", "2026-12-13"), ("trade_7", "2026-12-17")]
    assert reminders_of("INV-0150") == [
        ("due_soon", "2026-12-03"), ("due_today", "2026-12-10"), ("overdue_1", "2026-12-11"),
        ("overdue_7", "2026-12-17"),
    ]  # fmt: skip
    keys = set(Message.objects.filter(kind="reminder").values_list("dedup_key", flat=True))
    assert "invoice:243216c5-369e-4056-ac67-05388f86dc81:reminder:trade_3" in keys


def test_the_preview_and_the_page_say_which_schedule_applies(
    new_connection, xero, trade_schedule, staff_client, tenant_a
):
    import_at(new_connection, "2026-12-01 08:00")
    sweep_at(new_connection, "2026-12-02 09:05")  # fetches the contacts, and their groups
    moment = local("Pacific/Auckland", "2026-12-02 10:00")
    with time_machine.travel(moment, tick=False):
        preview = reminders_preview(tenant=tenant_a, as_of=moment)
        page = staff_client.get("/reminders/").text

    items = [item for items in preview.values() for item in items]
    schedules = {(item.invoice_number, item.stage): item.schedule for item in items}
    assert schedules[("INV-0142", "Trade, 3 days over")] == "Schedule for Trade customers"
    assert schedules[("INV-0150", "Due today")] == "Default schedule"
    assert "“Trade, 3 days over” for INV-0142" in page
    assert "Schedule for Trade customers" in page
    trade = page[page.index(">Schedule for Trade customers</h3>") :]
    assert "7 days overdue" in trade[: trade.index("Trade, 7 days over")]
    assert_accessible(page)


def test_when_its_group_is_deleted_in_xero_the_default_schedule_applies(
    new_connection, xero, trade_schedule, staff_client
):
    import_at(new_connection, "2026-12-01 08:00")
    sweep_at(new_connection, "2026-12-02 09:05")
    # Deleted in Xero: no longer listed (the contact's cached copy still names it).
    xero.mock.upsert("GET", f"{API}/ContactGroups", json=api_json("contact_groups__two"))
    for day in _days("2026-12-03", "2026-12-13"):
        sweep_at(new_connection, f"{day} 09:05")

    assert XeroContactGroup.objects.get(group_id=TRADE).status == "DELETED"
    assert [key for key, _ in reminders_of("INV-0142")] == ["due_soon", "due_today", "overdue_1"]
    page = staff_client.get("/reminders/").text
    assert (
        "The contact group Trade customers was deleted in Xero; the default is used instead."
        in page
    )


def test_an_owner_adds_a_stage_to_a_segments_schedule_on_the_page(owner_client, tenant_a):
    response = owner_client.post(
        "/reminders/steps/new/",
        {"applies_to": "country:GB", "label": "UK: 7 days over", "days": "7", "when": "after",
         "repeat_times": "0", "is_active": "on"},
    )  # fmt: skip

    assert response.status_code == 302
    stage = ReminderStage.objects.get(tenant=tenant_a, label="UK: 7 days over")
    assert (stage.country, stage.segment.label) == ("GB", "United Kingdom")
