from datetime import date, timedelta

import pytest
import time_machine
from django.utils import timezone

from billing_events.models import ReminderPause, ReminderSettings, ReminderStage, SweepRun
from billing_events.reminders import (
    reminder_pause_create,
    reminders_preview,
    sweep_run,
    team_digest_send,
)
from messaging.models import Message
from snapshots.models import InvoiceSnapshot
from tests.billing_events.helpers import calls_to
from tests.billing_events.reminder_helpers import import_at, local, reminders_of, sweep_at
from tests.billing_events.standin import StandInXero

TRADE_CUSTOMERS = "3e1b0f6a-8d4c-4b1e-9a2f-5c6d7e8f9a0b"


@pytest.fixture
def xero(xero_api):
    return StandInXero(xero_api)


def _settings(tenant, **fields) -> ReminderSettings:
    ReminderSettings.objects.filter(tenant=tenant).update(**fields)
    return ReminderSettings.objects.get(tenant=tenant)


def _days(start: str, end: str):
    day = date.fromisoformat(start)
    while day <= date.fromisoformat(end):
        yield day
        day += timedelta(days=1)


def _reminder_messages():
    return Message.objects.filter(kind="reminder").exclude(status="skipped")


@pytest.mark.parametrize(
    ("zone", "due"),
    [
        ("Pacific/Auckland", date(2027, 4, 4)),  # NZDT ends at 03:00 that morning
        ("America/New_York", date(2027, 3, 14)),  # EDT starts at 02:00 that morning
    ],
)
def test_each_default_stage_fires_on_its_own_local_day_across_midnight_and_dst(
    new_connection, xero, tenant_a, zone, due
):
    new_connection.timezone = zone
    new_connection.save()
    xero.only("INV-0142")
    xero.due_on(due, "INV-0142")
    import_at(new_connection, f"{due - timedelta(days=10)} 12:00")
    _settings(tenant_a, send_time="00:00")

    for day in _days(str(due - timedelta(days=8)), str(due + timedelta(days=31))):
        sweep_at(new_connection, f"{day} 00:01")
        sweep_at(new_connection, f"{day} 23:59")

    expected = [
        ("due_soon", -7), ("due_today", 0), ("overdue_1", 1),
        ("overdue_7", 7), ("overdue_14", 14), ("overdue_30", 30),
    ]  # fmt: skip
    assert reminders_of("INV-0142") == [
        (key, (due + timedelta(days=offset)).isoformat()) for key, offset in expected
    ]
    assert _reminder_messages().count() == 6


def test_a_payment_recorded_after_the_last_sync_stops_the_reminder(new_connection, xero):
    import_at(new_connection, "2026-12-10 08:00")
    xero.pay("INV-0142", on=date(2026, 12, 10))  # in Xero only: no webhook has arrived

    sweep_at(new_connection, "2026-12-10 09:05")

    assert reminders_of("INV-0142") == []
    assert reminders_of("INV-0150") == [("due_today", "2026-12-10")]
    assert InvoiceSnapshot.objects.get(number="INV-0142").status == "PAID"
    assert Message.objects.filter(kind="payment_received").count() == 1
    recheck = [c for c in calls_to(xero.mock, "Invoices") if "IDs=" in c.request.url]
    assert len(recheck) == 1


def test_a_rerun_a_second_worker_and_a_dead_workers_retry_send_each_stage_once(
    new_connection, xero
):
    import_at(new_connection, "2026-12-10 08:00")
    sweep_at(new_connection, "2026-12-10 09:05")
    sent = set(Message.objects.values_list("dedup_key", "channel"))
    assert {"invoice:243216c5-369e-4056-ac67-05388f86dc81:reminder:due_today"} <= {
        key for key, _ in sent
    }

    sweep_at(new_connection, "2026-12-10 09:20")  # the schedule again: the day is done
    run = SweepRun.objects.get()
    with_clock = local("Pacific/Auckland", "2026-12-10 09:30")
    with time_machine.travel(with_clock, tick=False):
        assert sweep_run(connection=new_connection, as_of=with_clock) is None  # a second worker

    # A worker died mid-run: another takes the run over after the lease, and sends nothing twice.
    SweepRun.objects.filter(pk=run.pk).update(
        status="running", started_at=with_clock - timedelta(minutes=30)
    )
    with time_machine.travel(with_clock, tick=False):
        assert sweep_run(connection=new_connection, as_of=with_clock).status == "done"
    assert set(Message.objects.values_list("dedup_key", "channel")) == sent
    assert _reminder_messages().count() == 2  # INV-0160's contact has no phone: skipped


def test_a_running_sweep_is_not_started_again_by_a_concurrent_kick(new_connection, xero):
    import_at(new_connection, "2026-12-10 08:00")
    moment = local("Pacific/Auckland", "2026-12-10 09:05")
    SweepRun.objects.create(
        tenant=new_connection.tenant,
        xero_tenant_id=new_connection.xero_tenant_id,
        local_date=date(2026, 12, 10),
        started_at=moment,
    )
    with time_machine.travel(moment + timedelta(minutes=1), tick=False):
        assert sweep_run(connection=new_connection, as_of=timezone.now()) is None
    assert not Message.objects.exists()


def test_after_a_three_day_outage_one_missed_reminder_is_caught_up_not_three(new_connection, xero):
    xero.only("INV-0142")
    import_at(new_connection, "2026-12-01 08:00")
    for day in _days("2026-12-02", "2026-12-10"):
        sweep_at(new_connection, f"{day} 09:05")
    # Down from the 11th to the 13th: "1 day overdue" (the 11th) was missed.
    for day in _days("2026-12-14", "2026-12-18"):
        sweep_at(new_connection, f"{day} 09:05")

    assert reminders_of("INV-0142") == [
        ("due_soon", "2026-12-03"),
        ("due_today", "2026-12-10"),
        ("overdue_1", "2026-12-14"),
        ("overdue_7", "2026-12-17"),
    ]


def test_skip_missed_reminders_drops_a_stage_missed_during_an_outage(
    new_connection, xero, tenant_a
):
    xero.only("INV-0142")
    _settings(tenant_a, skip_missed=True)
    import_at(new_connection, "2026-12-01 08:00")
    sweep_at(new_connection, "2026-12-10 09:05")
    sweep_at(new_connection, "2026-12-14 09:05")
    sweep_at(new_connection, "2026-12-17 09:05")

    assert reminders_of("INV-0142") == [
        ("due_today", "2026-12-10"),
        ("overdue_7", "2026-12-17"),
    ]


def test_a_late_reminder_is_never_followed_by_another_the_next_day(new_connection, xero):
    xero.only("INV-0142")
    import_at(new_connection, "2026-12-01 08:00")
    sweep_at(new_connection, "2026-12-16 09:05")  # catches up "1 day overdue"
    sweep_at(new_connection, "2026-12-17 09:05")  # "7 days overdue" waits a day
    sweep_at(new_connection, "2026-12-18 09:05")

    assert reminders_of("INV-0142") == [("overdue_1", "2026-12-16"), ("overdue_7", "2026-12-18")]


def test_excluded_groups_paused_contacts_paused_invoices_and_minimums_are_respected(
    new_connection, xero, tenant_a
):
    import_at(new_connection, "2026-12-01 08:00")
    _settings(tenant_a, excluded_group_ids=[TRADE_CUSTOMERS])  # Ruapehu Motors
    kauri = InvoiceSnapshot.objects.get(number="INV-0150")
    reminder_pause_create(
        tenant=tenant_a, contact_id=kauri.contact_id, resume_on=date(2026, 12, 12)
    )
    totara = InvoiceSnapshot.objects.get(number="INV-0160")
    reminder_pause_create(tenant=tenant_a, invoice_id=totara.invoice_id)  # indefinitely
    ReminderStage.objects.filter(tenant=tenant_a, key="overdue_7").update(minimum_amount_due=300)

    for day in _days("2026-12-10", "2026-12-18"):
        sweep_at(new_connection, f"{day} 09:05")

    assert reminders_of("INV-0142") == []
    # Paused until the 12th, then caught up once; $220 is below the 7-day stage's minimum.
    assert reminders_of("INV-0150") == [("overdue_1", "2026-12-12")]
    assert reminders_of("INV-0160") == []

    ReminderPause.objects.filter(invoice_id=totara.invoice_id).delete()
    ReminderStage.objects.filter(tenant=tenant_a, key="overdue_7").update(minimum_amount_due=None)
    sweep_at(new_connection, "2026-12-19 09:05")
    assert reminders_of("INV-0160") == [("overdue_7", "2026-12-19")]


def test_the_team_gets_one_digest_a_day_listing_every_overdue_invoice(
    new_connection, xero, tenant_a
):
    _settings(tenant_a, team_phones="+64 21 111 2222\n")
    import_at(new_connection, "2026-12-17 08:00")
    sweep_at(new_connection, "2026-12-17 09:05")
    team_digest_send(tenant=tenant_a, day=date(2026, 12, 17))  # a second call changes nothing

    (digest,) = Message.objects.filter(kind="team_overdue_alert")
    assert digest.recipient == "+64211112222"
    assert digest.body == (
        "Alpha Plumbing: 3 overdue invoice(s) to follow up today:\n"
        "- INV-0142 Ruapehu Motors $485.00, 7 days overdue\n"
        "- INV-0150 Kauri Cafe $220.00, 7 days overdue\n"
        "- INV-0160 Totara Builders $99.00, 7 days overdue"
    )
    assert _reminder_messages().count() == 2


def test_stages_before_the_due_date_do_not_alert_the_team(new_connection, xero, tenant_a):
    _settings(tenant_a, team_phones="+64211112222")
    ReminderStage.objects.filter(tenant=tenant_a).update(alert_team=True)
    import_at(new_connection, "2026-12-03 08:00")
    sweep_at(new_connection, "2026-12-03 09:05")

    assert _reminder_messages().count() == 2
    assert not Message.objects.filter(kind="team_overdue_alert").exists()


def test_the_30_day_preview_is_what_the_sweep_then_does_day_by_day(new_connection, xero, tenant_a):
    import_at(new_connection, "2026-12-01 07:00")
    kauri = InvoiceSnapshot.objects.get(number="INV-0150")
    reminder_pause_create(
        tenant=tenant_a, contact_id=kauri.contact_id, resume_on=date(2026, 12, 12)
    )
    ReminderStage.objects.filter(tenant=tenant_a, key="overdue_1").update(minimum_amount_due=100)
    sweep_at(new_connection, "2026-12-01 09:05")  # fetches the contacts the preview reads
    with time_machine.travel(local("Pacific/Auckland", "2026-12-01 10:00"), tick=False):
        preview = reminders_preview(tenant=tenant_a, days=30, as_of=timezone.now())

    for day in _days("2026-12-02", "2026-12-31"):
        sweep_at(new_connection, f"{day} 09:05")

    handed_over = {
        (item.invoice_number, item.occurrence, day.isoformat())
        for day, items in preview.items()
        for item in items
        if item.sends or item.reason == "No usable phone number"
    }
    sent = {
        (number, occurrence, on)
        for number in ("INV-0142", "INV-0150", "INV-0160")
        for occurrence, on in reminders_of(number)
    }
    assert handed_over == sent
    assert ("INV-0150", "overdue_1", "2026-12-12") in sent  # paused, then caught up once
    skipped = {
        (item.invoice_number, item.occurrence, item.reason)
        for items in preview.values()
        for item in items
        if not item.sends
    }
    assert skipped == {
        ("INV-0150", "due_soon", "Paused"),
        ("INV-0150", "due_today", "Paused"),
        ("INV-0150", "overdue_1", "Paused"),
        ("INV-0160", "due_soon", "No usable phone number"),
        ("INV-0160", "due_today", "No usable phone number"),
        ("INV-0160", "overdue_1", "Below the stage's minimum amount"),
        ("INV-0160", "overdue_7", "No usable phone number"),
        ("INV-0160", "overdue_14", "No usable phone number"),
    }
    sending = {
        (i.invoice_number, i.occurrence) for items in preview.values() for i in items if i.sends
    }
    messages = {(m.invoice_id, m.dedup_key.rsplit(":", 1)[-1]) for m in _reminder_messages()}
    assert len(messages) == len(sending)


def test_stages_that_fell_due_before_connecting_are_not_caught_up(new_connection, xero):
    # 11 days overdue when the tenant connects Dunwell: +1 and +7 are the past, not an outage.
    xero.only("INV-0142")
    xero.due_on(date(2026, 12, 1), "INV-0142")
    import_at(new_connection, "2026-12-12 08:00")
    for day in _days("2026-12-12", "2026-12-16"):
        sweep_at(new_connection, f"{day} 09:05")

    assert reminders_of("INV-0142") == [("overdue_14", "2026-12-15")]
