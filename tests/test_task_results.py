"""Results of tasks that succeeded: saving one costs the same however many are kept, and the
ten-minute job keeps the newest (config/task_results.py)."""

import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.db.models.signals import post_init
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.models import Failure, Success, Task
from django_q.monitor import save_task

from config.schedules import SCHEDULES
from config.task_results import task_results_prune

pytestmark = pytest.mark.django_db


def _result(*, success=True, stopped=None) -> dict:
    stopped = stopped or timezone.now()
    return {
        "id": uuid.uuid4().hex,
        "name": f"task-{uuid.uuid4().hex[:8]}",
        "func": "billing_events.tasks.events_process_task",
        "args": ("a-xero-tenant-id",),
        "kwargs": {},
        "started": stopped - timedelta(seconds=1),
        "stopped": stopped,
        "result": 3,
        "success": success,
        "sync": True,  # keeps the test's connection open
    }


def _cost_to_save() -> tuple[int, int]:
    """(statements, rows loaded into models) to save one result."""
    loaded = []

    def count(sender, **kwargs):
        loaded.append(sender)

    post_init.connect(count)
    try:
        with CaptureQueriesContext(connection) as queries:
            save_task(_result(), get_broker())
    finally:
        post_init.disconnect(count)
    return len(queries), len(loaded)


def test_saving_a_result_costs_the_same_however_many_results_are_kept():
    alone = _cost_to_save()
    for _ in range(300):
        save_task(_result(), get_broker())

    assert _cost_to_save() == alone
    assert Success.objects.count() == 302


def test_the_prune_keeps_the_newest_successes_and_every_failure():
    now = timezone.now()
    for minutes in range(10):
        save_task(_result(stopped=now - timedelta(minutes=minutes)), get_broker())
    save_task(_result(success=False, stopped=now - timedelta(hours=5)), get_broker())

    assert task_results_prune(kept=4) == 6

    kept = Success.objects.order_by("-stopped").values_list("stopped", flat=True)
    assert list(kept) == [now - timedelta(minutes=m) for m in range(4)]
    assert Failure.objects.count() == 1
    assert task_results_prune(kept=4) == 0
    assert Task.objects.count() == 5


def test_the_prune_runs_every_ten_minutes():
    assert SCHEDULES["task-results-prune"] == (
        "config.task_results.task_results_prune",
        "I",
        10,
    )
