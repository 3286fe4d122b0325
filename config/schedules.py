"""Every recurring job, declared once and synced by name after each migrate.

Entries: name -> (function path, schedule type, minutes). Schedules not listed here are removed,
so renaming or deleting a job here is all it takes.
"""

from django_q.models import Schedule

SCHEDULES: dict[str, tuple[str, str, int | None]] = {}

# --- billing_events: the inbox requeue, and the reconciliation poll (each organisation at its own
# OrganisationSync.poll_interval_minutes, 15 by default; this only checks who is due).
SCHEDULES["billing_events: requeue due Xero events"] = (
    "billing_events.tasks.events_requeue_due",
    "I",
    1,
)
SCHEDULES["billing_events: reconciliation poll"] = (
    "billing_events.tasks.polls_enqueue_due",
    "I",
    1,
)


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
