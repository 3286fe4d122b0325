"""reminder-schedule/ (read by everyone, replaced by owners) and reminders/preview/."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine

from billing_events.models import ReminderSettings, ReminderStage
from snapshots.models import ContactSnapshot, InvoiceSnapshot
from tests.xero_api import xero_connection_create

SCHEDULE = {
    "send_time": "07:30:00",
    "skip_missed": True,
    "reply_pause_days": 5,
    "excluded_group_ids": ["9b3c-group"],
    "team_phones": ["+64 21 555 0001"],
    "team_emails": ["accounts@alpha.test"],
    "stages": [
        {"key": "due_today", "label": "Due today", "offset_days": 0},
        {"key": "overdue_7", "label": "A week late", "offset_days": 7, "alert_team": True,
         "minimum_amount_due": "50.00", "repeat_every_days": 7, "repeat_times": 2},
    ],
}  # fmt: skip


def test_anyone_in_the_tenant_reads_the_schedule(api):
    schedule = api.get("/api/v1/reminder-schedule/").json()
    assert [(s["key"], s["offset_days"]) for s in schedule["stages"]] == [
        ("due_soon", -7), ("due_today", 0), ("overdue_1", 1), ("overdue_7", 7),
        ("overdue_14", 14), ("overdue_30", 30),
    ]  # fmt: skip
    assert (schedule["send_time"], schedule["reply_pause_days"]) == ("09:00:00", 3)


def test_an_owner_replaces_the_schedule(owner_api, tenant_a):
    response = owner_api.put("/api/v1/reminder-schedule/", SCHEDULE)
    assert response.status_code == 200, response.content
    body = response.json()
    assert {k: body[k] for k in SCHEDULE if k != "stages"} == {
        k: v for k, v in SCHEDULE.items() if k != "stages"
    }
    week = ReminderStage.objects.get(tenant=tenant_a, key="overdue_7")
    assert (week.label, week.minimum_amount_due, week.repeat_times) == (
        "A week late", Decimal("50.00"), 2,
    )  # fmt: skip
    assert ReminderStage.objects.filter(tenant=tenant_a).count() == 2
    assert ReminderSettings.objects.get(tenant=tenant_a).team_phones == "+64 21 555 0001"


def test_two_stages_can_swap_their_days(owner_api, tenant_a):
    swapped = {**SCHEDULE, "stages": [
        {"key": "due_today", "label": "Late", "offset_days": 7},
        {"key": "overdue_7", "label": "Today", "offset_days": 0},
    ]}  # fmt: skip
    owner_api.put("/api/v1/reminder-schedule/", SCHEDULE)
    assert owner_api.put("/api/v1/reminder-schedule/", swapped).status_code == 200
    assert ReminderStage.objects.get(tenant=tenant_a, key="due_today").offset_days == 7


def test_stages_sent_without_a_key_get_one_made_from_their_day(owner_api, tenant_a):
    keyless = {**SCHEDULE, "stages": [
        {"key": "3_days_before_due", "label": "Soon", "offset_days": -3, "country": "AU"},
        {"label": "Soon", "offset_days": -3},
        {"label": "Today", "offset_days": 0},
    ]}  # fmt: skip

    response = owner_api.put("/api/v1/reminder-schedule/", keyless)

    assert response.status_code == 200, response.content
    assert sorted(s["key"] for s in response.json()["stages"]) == [
        "3_days_before_due", "3_days_before_due_2", "on_the_due_date",
    ]  # fmt: skip


def test_two_stages_on_the_same_day_are_refused(owner_api, tenant_a):
    clash = {**SCHEDULE, "stages": [
        {"key": "a", "label": "A", "offset_days": 3}, {"key": "b", "label": "B", "offset_days": 3},
    ]}  # fmt: skip
    response = owner_api.put("/api/v1/reminder-schedule/", clash)
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "stages": ["Two stages of one schedule (the same segment) have the same offset_days."]
    }
    assert ReminderStage.objects.filter(tenant=tenant_a).count() == 6


def test_staff_cannot_change_the_schedule(api, tenant_a):
    response = api.put("/api/v1/reminder-schedule/", SCHEDULE)
    assert response.status_code == 403
    assert response.json()["error"]["message"] == "Only an owner of this tenant can change this."
    assert ReminderStage.objects.filter(tenant=tenant_a).count() == 6


@pytest.fixture
def open_invoice(tenant_a):
    connection = xero_connection_create(tenant=tenant_a, name="Alpha Plumbing (NZ)")
    ContactSnapshot.objects.create(
        tenant=tenant_a, xero_tenant_id=connection.xero_tenant_id, contact_id="c-1",
        name="Aroha Ngata", phones=[{"PhoneType": "MOBILE", "PhoneNumber": "021 123 4567"}],
    )  # fmt: skip
    return InvoiceSnapshot.objects.create(
        tenant=tenant_a, xero_tenant_id=connection.xero_tenant_id, invoice_id="inv-142",
        type="ACCREC", status="AUTHORISED", number="INV-0142", contact_id="c-1",
        currency="NZD", total=Decimal("485"), amount_due=Decimal("485"),
        due_date=date(2026, 12, 10),
    )  # fmt: skip


@time_machine.travel(datetime(2026, 12, 1, 19, 0, tzinfo=UTC), tick=False)  # 08:00 on 2 Dec NZ
def test_the_preview_lists_the_coming_reminders_per_day(api, open_invoice):
    days = api.get("/api/v1/reminders/preview/?days=10").json()
    assert [(d["day"], [r["stage"] for r in d["reminders"]]) for d in days] == [
        ("2026-12-03", ["Due soon"]),
        ("2026-12-10", ["Due today"]),
        ("2026-12-11", ["1 day overdue"]),
    ]
    first = days[0]["reminders"][0]
    assert (first["invoice_number"], first["amount_due"], first["sends"]) == (
        "INV-0142", "485.00", True,
    )  # fmt: skip
    assert api.get("/api/v1/reminders/preview/?days=5").json()[-1]["day"] == "2026-12-03"


def test_the_preview_refuses_an_unreasonable_horizon(api):
    response = api.get("/api/v1/reminders/preview/?days=400")
    assert response.status_code == 400
    assert "days" in response.json()["error"]["fields"]
