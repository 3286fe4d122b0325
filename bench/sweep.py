"""Benchmark 4: the daily reminder sweep at scale — time and Xero calls, for 3 sizes.

Each organisation is first imported for real (connection_initial_import: its contacts and its
open invoices, STANDIN_OPEN_INVOICES each, all overdue by 0–30 days, spread by id), counted apart.
Then today's sweep of every organisation is run to the end
(billing_events.reminders.sweep_run, pass after pass): re-check the invoices due a reminder
against Xero (GET /Invoices?IDs=, 50 a pass), decide, and queue the reminders (Message rows).
Sending them is messaging's work, measured by bench/e2e.py, and not included here.

The organisations are shared between 2 worker processes, as django-q2's 2 workers (Q_WORKERS)
share the sweep tasks. In production a pass takes at most PASS_SIZE invoices and the next pass
of that organisation comes a minute later (inside Xero's 60 calls a minute); here the passes run
back to back, so the time measured is the work, not the waiting.

    python -m bench.sweep [--sizes 20x50,200x50,200x500] [--workers 2]
"""

import argparse
import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor

from bench import common

DB = common.db_name("bench_sweep")


def _sweep(xero_tenant_ids: list[str]) -> tuple[int, int]:
    """Today's sweep of these organisations to the end, as sweep_run_task runs it; returns
    (passes, SQL statements). Runs in a worker process of its own, as a django-q2 worker would."""
    from django.db import connection as db_connection
    from django.utils import timezone

    common.apply_env(database_url=f"{common.PG}/{DB}")
    from billing_events.models import SweepRun
    from billing_events.reminders import sweep_run
    from connections.selectors import connections_active

    statements, passes = [], 0
    with db_connection.execute_wrapper(lambda execute, *a: statements.append(1) or execute(*a)):
        for connection in connections_active().filter(xero_tenant_id__in=xero_tenant_ids):
            while True:
                run = sweep_run(connection=connection, as_of=timezone.now())
                passes += run is not None
                if run is None or run.status != SweepRun.Status.PARTIAL:
                    break
                # Skip the minute between passes: the work is measured, not the waiting.
                SweepRun.objects.filter(pk=run.pk).update(next_attempt_at=timezone.now())
    return passes, len(statements)


def run_size(organisations: int, invoices: int, workers: int) -> dict:
    from django.db import connections
    from django.db.models import Count, Max

    connections.close_all()
    url = common.database_fresh(DB)
    common.migrate(common.env(database_url=url))
    common.seed(organisations=organisations)
    imported = common.import_organisations()

    from billing_events.models import ReminderSent
    from billing_events.reminders import PASS_SIZE
    from connections.selectors import connections_active
    from messaging.models import Message

    organisations_ids = list(connections_active().values_list("xero_tenant_id", flat=True))
    shares = [organisations_ids[i::workers] for i in range(workers)]
    connections.close_all()
    common.standin_reset()
    started = time.monotonic()
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=spawn) as pool:
        done = list(pool.map(_sweep, shares))
    passes, statements = sum(d[0] for d in done), sum(d[1] for d in done)
    swept = time.monotonic() - started
    stats = common.standin_get("/_stats")
    reminders = ReminderSent.objects.count()
    busiest = (
        ReminderSent.objects.values("xero_tenant_id")
        .annotate(n=Count("id"))
        .aggregate(most=Max("n"))["most"]
        or 0
    )
    return {
        "organisations": organisations,
        "open_invoices_each": invoices,
        "open_invoices": organisations * invoices,
        "import": imported,
        "sweep_seconds": round(swept, 1),
        "sweep_passes": passes,
        "max_reminders_one_organisation": busiest,
        "max_passes_one_organisation": -(-busiest // PASS_SIZE),
        "sweep_xero_calls": stats["xero_calls"],
        "sweep_xero_calls_by_kind": stats["xero_calls_by_kind"],
        "sweep_xero_429": stats["xero_429_total"],
        "max_xero_calls_one_organisation": stats["max_calls_one_organisation"],
        "reminders_due": reminders,
        "messages_queued": Message.objects.filter(kind="reminder").count(),
        "sql_statements": statements,
        "sweep_worker_processes": workers,
        "ms_per_reminder": round(1000 * swept / max(reminders, 1), 1),
        "load_average_after": common.load_average(),
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="20x50,200x50,200x500")
    parser.add_argument("--workers", type=int, default=2, help="processes, as Q_WORKERS")
    args = parser.parse_args()
    results = []
    for size in args.sizes.split(","):
        organisations, invoices = (int(n) for n in size.split("x"))
        os.environ["STANDIN_OPEN_INVOICES"] = str(invoices)
        with common.standin(STANDIN_OPEN_INVOICES=invoices):
            if not results:
                common.apply_env(database_url=f"{common.PG}/{DB}")
            results.append(run_size(organisations, invoices, args.workers))
            print(results[-1], flush=True)
    common.record("sweep", {"results": results})


if __name__ == "__main__":
    main()
