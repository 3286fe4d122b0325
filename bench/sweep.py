"""Benchmark 4: the daily reminder sweep (issue 6) at scale — time and Xero calls, 3 sizes.

Each organisation is first imported (connection_initial_import: its open invoices, all overdue,
come from the stand-in, STANDIN_OPEN_INVOICES per organisation), then today's sweep is run to the
end (billing_events.reminders.sweep_run, pass after pass). The import and the sweep are counted
separately at the stand-in. Needs the reminders branch on main; until then it says so.

    python -m bench.sweep [--sizes 20x50,50x200,200x500]
"""

import argparse
import importlib.util
import os
import time

from bench import common
from bench.calls import _dispatch_pending

DB = "bench_sweep"


def run_size(organisations: int, invoices: int) -> dict:
    from django.db import connections
    from django.utils import timezone

    connections.close_all()
    url = common.database_fresh(DB)
    common.migrate(common.env(database_url=url))
    common.seed(organisations=organisations)

    from billing_events.models import OrganisationSync
    from billing_events.services import connection_initial_import
    from connections.selectors import connections_active

    reminders = importlib.import_module("billing_events.reminders")  # issue 6
    SweepRun, sweep_run = reminders.SweepRun, reminders.sweep_run
    OrganisationSync.objects.update(imported_at=None)  # let the import really run
    common.standin_reset()
    started = time.monotonic()
    for connection in connections_active():
        connection_initial_import(connection=connection)
    imported = time.monotonic() - started
    import_calls = common.standin_get("/_stats")["xero_calls"]

    common.standin_reset()
    started = time.monotonic()
    for connection in connections_active():
        while True:
            run = sweep_run(connection=connection, as_of=timezone.now())
            if run is None or run.status != SweepRun.Status.PARTIAL:
                break
            SweepRun.objects.filter(pk=run.pk).update(next_attempt_at=timezone.now())
    _dispatch_pending()
    swept = time.monotonic() - started
    stats = common.standin_get("/_stats")
    return {
        "organisations": organisations,
        "open_invoices_each": invoices,
        "import_seconds": round(imported, 1),
        "import_xero_calls": import_calls,
        "sweep_seconds": round(swept, 1),
        "sweep_xero_calls": stats["xero_calls"],
        "sweep_xero_calls_by_kind": stats["xero_calls_by_kind"],
        "sweep_xero_429": stats["xero_429_total"],
        "reminders_accepted_by_twilio": stats["twilio_messages"],
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="20x50,50x200,200x500")
    args = parser.parse_args()
    if importlib.util.find_spec("billing_events.reminders") is None:  # issue 6
        common.record("sweep", {"status": "pending: the reminder sweep (issue 6) is not on main"})
        return
    results = []
    for size in args.sizes.split(","):
        organisations, invoices = (int(n) for n in size.split("x"))
        os.environ["STANDIN_OPEN_INVOICES"] = str(invoices)
        with common.standin(STANDIN_OPEN_INVOICES=invoices):
            if not results:
                common.apply_env(database_url=f"{common.PG}/{DB}")
            results.append(run_size(organisations, invoices))
    common.record("sweep", {"results": results})


if __name__ == "__main__":
    main()
