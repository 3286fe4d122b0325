"""Every recurring job, declared once and synced by name after each migrate.

Entries: name -> (function path, schedule type, minutes). Schedules not listed here are removed,
so renaming or deleting a job here is all it takes.
"""

from django_q.models import Schedule

SCHEDULES: dict[str, tuple[str, str, int | None]] = {
    # connections: keep refresh tokens from reaching 60 days; trim the call log.
    "xero-grant-keep-alive": ("connections.tasks.grants_keep_alive", "H", None),
    "xero-call-log-prune": ("connections.tasks.xero_calls_prune", "D", None),
    # An organisation that removed the app drops out of GET /connections (FACTS.md).
    "xero-connections-check": ("connections.tasks.grants_connections_check", "D", None),
}

# messaging: kick due / lost sends and reconcile stale `sending` rows; poll unfinished statuses.
SCHEDULES["messaging.due"] = ("messaging.tasks.messages_due_task", Schedule.MINUTES, 1)
SCHEDULES["messaging.poll"] = ("messaging.tasks.messages_poll_task", Schedule.HOURLY, None)
# billing_events: re-kick due Xero events; poll each organisation at its own interval (15 min by
# default, OrganisationSync.poll_interval_minutes) — this entry only checks who is due.
SCHEDULES["billing_events.requeue"] = (
    "billing_events.tasks.events_requeue_due",
    Schedule.MINUTES,
    1,
)
SCHEDULES["billing_events.poll"] = ("billing_events.tasks.polls_enqueue_due", Schedule.MINUTES, 1)
# billing_events: the daily reminder run of each organisation at the tenant's local send time;
# every minute, so a day too big for one pass continues a minute later (SweepRun is the truth).
SCHEDULES["billing_events.reminders"] = (
    "billing_events.tasks.sweeps_enqueue_due",
    Schedule.MINUTES,
    1,
)
# dashboard: read whether Xero's own invoice reminders are on, once a day per organisation
# (new organisations within the hour), so the dashboard can warn without calling Xero itself.
SCHEDULES["dashboard.xero-invoice-reminders"] = (
    "dashboard.tasks.invoice_reminders_check_due_task",
    Schedule.HOURLY,
    None,
)

# alerts: raise and clear alerts from the state above (no Xero or Twilio calls), and
# send each tenant's weekly summary on Monday morning, its own time.
SCHEDULES["alerts.check"] = ("alerts.tasks.alerts_check_task", Schedule.MINUTES, 5)
SCHEDULES["alerts.weekly-summaries"] = (
    "alerts.tasks.weekly_summaries_due_task",
    Schedule.HOURLY,
    None,
)

# django-q2: keep the newest results of tasks that succeeded (config/task_results.py).
SCHEDULES["task-results-prune"] = ("config.task_results.task_results_prune", Schedule.MINUTES, 10)


def sync_schedules(**kwargs):
    for name, (func, schedule_type, minutes) in SCHEDULES.items():
        Schedule.objects.update_or_create(
            name=name,
            defaults={
                "func": func,
                "schedule_type": schedule_type,
                "minutes": minutes,
                "repeats": -1,
            },
        )
    Schedule.objects.exclude(name__in=SCHEDULES).delete()
