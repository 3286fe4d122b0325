"""django-q2 tasks: kicks that load a row's owner and call one service (docs/architecture.md
"Background work")."""

from django.utils import timezone
from django_q.tasks import async_task

from billing_events.models import OrganisationSync
from billing_events.reminders import sweep_run, sweeps_due
from billing_events.services import (
    connection_poll,
    events_drain,
    events_due_xero_tenant_ids,
    events_ignore_orphaned,
    events_kick,
)
from connections.selectors import connection_for_xero_tenant, connections_active


def events_process_task(xero_tenant_id: str) -> int:
    connection = connection_for_xero_tenant(xero_tenant_id)
    if connection is None:
        return events_ignore_orphaned(xero_tenant_id=xero_tenant_id)
    return events_drain(connection=connection)


def events_requeue_due() -> int:
    """Every minute: kick each organisation with due, unclaimed events (a lost task is retried)."""
    xero_tenant_ids = events_due_xero_tenant_ids()
    for xero_tenant_id in xero_tenant_ids:
        events_kick(xero_tenant_id=xero_tenant_id)
    return len(xero_tenant_ids)


def connection_poll_task(xero_tenant_id: str) -> None:
    connection = connection_for_xero_tenant(xero_tenant_id)
    if connection is not None:
        connection_poll(connection=connection)


def polls_enqueue_due() -> int:
    """Every minute: poll each connected organisation whose own interval has passed."""
    not_due = set(
        OrganisationSync.objects.filter(next_poll_at__gt=timezone.now()).values_list(
            "xero_tenant_id", flat=True
        )
    )
    due = [c.xero_tenant_id for c in connections_active() if c.xero_tenant_id not in not_due]
    for xero_tenant_id in due:
        async_task("billing_events.tasks.connection_poll_task", xero_tenant_id)
    return len(due)


def sweep_run_task(xero_tenant_id: str) -> None:
    connection = connection_for_xero_tenant(xero_tenant_id)
    if connection is not None:
        sweep_run(connection=connection, as_of=timezone.now())


def sweeps_enqueue_due() -> int:
    """Every minute: start (or continue, or retry) the reminder run of each organisation whose
    local send time has passed today. The SweepRun row makes a second kick a no-op."""
    due = sweeps_due(at=timezone.now())
    for xero_tenant_id in due:
        async_task("billing_events.tasks.sweep_run_task", xero_tenant_id)
    return len(due)
