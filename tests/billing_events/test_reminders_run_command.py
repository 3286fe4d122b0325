"""manage.py reminders_run: the daily reminder run, now, as the schedule would run it."""

from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command

from billing_events.models import ReminderSent, SweepRun
from tests.billing_events.reminder_helpers import import_at, local, reminders_of, sweep_at
from tests.billing_events.standin import StandInXero


@pytest.fixture
def xero(xero_api):
    return StandInXero(xero_api)


def _reminders_run(connection, when: str, *args: str) -> str:
    out = StringIO()
    with time_machine.travel(local(connection.timezone, when), tick=False):
        call_command("reminders_run", *args, stdout=out)
    return out.getvalue()


def test_it_runs_today_before_the_send_time_and_prints_what_it_queued(
    new_connection, xero, tenant_a
):
    import_at(new_connection, "2026-12-10 06:00")

    out = _reminders_run(new_connection, "2026-12-10 07:00", "--tenant", tenant_a.slug)

    assert reminders_of("INV-0142") == [("due_today", "2026-12-10")]
    assert f"{tenant_a.slug} / Ruapehu Motors Ltd: 3 reminders queued (2026-12-10)." in out
    assert "  INV-0142: due_today\n" in out
    assert SweepRun.objects.get().status == "done"


def test_the_schedule_does_not_run_the_day_again_nor_does_a_second_command(
    new_connection, xero, tenant_a
):
    import_at(new_connection, "2026-12-10 06:00")
    _reminders_run(new_connection, "2026-12-10 07:00", "--all")
    queued = ReminderSent.objects.count()

    sweep_at(new_connection, "2026-12-10 09:05")  # the tenant's send time, 09:00
    again = _reminders_run(new_connection, "2026-12-10 09:10", "--tenant", tenant_a.slug)

    assert ReminderSent.objects.count() == queued
    assert "nothing queued: today's run (2026-12-10) already ran" in again


def test_after_the_scheduled_run_it_queues_nothing(new_connection, xero, tenant_a):
    import_at(new_connection, "2026-12-10 06:00")
    sweep_at(new_connection, "2026-12-10 09:05")
    queued = ReminderSent.objects.count()

    out = _reminders_run(new_connection, "2026-12-10 10:00", "--all")

    assert ReminderSent.objects.count() == queued > 0
    assert "nothing queued" in out


def test_it_runs_only_the_tenant_named(new_connection, xero, tenant_b):
    import_at(new_connection, "2026-12-10 06:00")

    out = _reminders_run(new_connection, "2026-12-10 07:00", "--tenant", tenant_b.slug)

    assert not ReminderSent.objects.exists()
    assert out == f"{tenant_b.slug}: no connected Xero organisation.\n"


def test_an_unknown_tenant_is_an_error(db):
    with pytest.raises(CommandError, match="No active tenant has the slug 'nobody'"):
        call_command("reminders_run", "--tenant", "nobody")
