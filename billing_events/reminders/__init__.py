"""Reminder sequences: the tenant's schedule, the daily sweep per organisation, the preview.

The sweep and the preview share one decision (`reminder_plan` in plan.py), so "what
will the next 30 days send?" is answered by the very code that sends. The rules, in order:

- An invoice follows one schedule: the default one, or the one of the most specific segment
  that applies to it (billing_events/schedules.py); its stages (and their repeats) fall on local
  days counted from its due date.
- On a sweep day, only the latest stage that is due and not yet sent is considered: a stage
  missed while Dunwell was down is caught up once, never once per missed day; with "skip missed
  reminders" a stage goes on its own day or not at all. A sent stage supersedes earlier ones.
- No invoice gets two reminders on one day, nor a late (caught-up) reminder the day after
  another one: stages the tenant put on adjacent days (due today, 1 day overdue) go as set.
- Paused contacts and invoices, excluded contact groups and amounts below a stage's minimum are
  skipped; messaging itself skips contacts without a usable number and opted-out numbers (the
  preview says so in advance).

"Never twice" rests on two unique constraints: SweepRun (one run per organisation and local
day) and ReminderSent (one row per invoice and stage occurrence, inserted in the same
transaction as the notification, whose own dedup key is `invoice:<id>:reminder:<occurrence>`).

One module per job (schedule, builder, plan, sweep, digest, preview, next_step, send_now); the
public names are importable from here.
"""

from billing_events.reminders.builder import (
    Builder,
    Step,
    Timeline,
    reminder_step_delete,
    reminder_step_save,
    reminder_step_test,
    schedule_builder,
    test_outcome,
)
from billing_events.reminders.digest import team_digest_send
from billing_events.reminders.next_step import END_OF_SCHEDULE, NextStep, reminder_next_steps
from billing_events.reminders.plan import (
    BELOW_MINIMUM,
    EXCLUDED,
    PAUSED,
    PREVIEW_HORIZON,
    REMINDED_YESTERDAY,
    SEND,
    SKIP,
    Occurrence,
    PlanItem,
    Sent,
    local_date,
    occurrence_due,
    occurrences_for,
    reminder_plan,
    schedule_for,
)
from billing_events.reminders.preview import PreviewItem, reminders_preview
from billing_events.reminders.schedule import (
    DEFAULT_STAGES,
    SCHEDULE_CONFLICT,
    ScheduleConflict,
    reminder_defaults_create,
    reminder_pause_add,
    reminder_pause_create,
    reminder_pauses_end,
    reminder_schedule_replace,
    stage_key_make,
)
from billing_events.reminders.send_now import SendNowRefused, reminder_send_now
from billing_events.reminders.sweep import (
    NEXT_PASS_AFTER,
    PASS_SIZE,
    RETRY_AFTER,
    RUN_LEASE,
    SNAPSHOTS_STALE_AFTER,
    SweepNow,
    sweep_run,
    sweeps_due,
    sweeps_run_now,
)

__all__ = [
    "BELOW_MINIMUM",
    "Builder",
    "DEFAULT_STAGES",
    "END_OF_SCHEDULE",
    "EXCLUDED",
    "NEXT_PASS_AFTER",
    "NextStep",
    "Occurrence",
    "PASS_SIZE",
    "PAUSED",
    "PREVIEW_HORIZON",
    "PlanItem",
    "PreviewItem",
    "REMINDED_YESTERDAY",
    "RETRY_AFTER",
    "RUN_LEASE",
    "SCHEDULE_CONFLICT",
    "SEND",
    "SKIP",
    "Step",
    "Timeline",
    "SNAPSHOTS_STALE_AFTER",
    "ScheduleConflict",
    "SendNowRefused",
    "Sent",
    "SweepNow",
    "local_date",
    "occurrence_due",
    "occurrences_for",
    "reminder_defaults_create",
    "reminder_pause_add",
    "reminder_next_steps",
    "reminder_pause_create",
    "reminder_pauses_end",
    "reminder_plan",
    "reminder_schedule_replace",
    "reminder_step_delete",
    "reminder_step_save",
    "reminder_step_test",
    "reminder_send_now",
    "reminders_preview",
    "schedule_builder",
    "schedule_for",
    "stage_key_make",
    "sweep_run",
    "sweeps_due",
    "sweeps_run_now",
    "team_digest_send",
    "test_outcome",
]
