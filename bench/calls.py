"""Benchmark 2: Xero API calls per notification, Dunwell's pipeline against the naive path.

Calls are counted as requests made, answered or refused with 429.

The same 1,000 invoice events for 200 organisations (bench/workload.py) go, in one run, through
- the naive integration (bench/naive.py: per event GET invoice, GET contact, send), and
- Dunwell's real pipeline in this process: events_store (what the webhook view calls) →
  events_process_task (what the worker runs) → message_dispatch (what the dispatch task runs),
  on PostgreSQL, against the same stand-in, whose counters are the figures.

Every organisation is first connected and imported for real (connection_initial_import: its
contacts and open invoices, counted apart — it runs once per organisation). Then Dunwell is
measured three ways:
- backlog: all events stored before a worker gets to them (a burst, or a busy queue), the first
  wave of invoices after connecting;
- backlog, second wave: another 1,000 events for the same organisations and customers;
- arrival (fresh database): every delivery processed as soon as it is stored, as by an idle
  worker with nothing else queued — the least batching there can be.

SQL statements are counted per text on PostgreSQL, by phase: store (the webhook), process/fetch
(claim, Xero budget and fetch, snapshots), notify (messaging: template, recipient, the Message
and its dispatch kick), dispatch (claim, Twilio, acceptance).

    python -m bench.calls [--events 1000] [--organisations 200] [--profile]
    python -m bench.against calls …   (side by side with another commit: bench/against.py)
"""

import argparse
import cProfile
import io
import os
import pstats
import sys
import time
from collections import Counter

from bench import common
from bench.naive import naive_run
from bench.workload import body, deliveries, summary

DB = common.db_name("bench_calls")


def _fresh(organisations: int) -> dict:
    from django.db import connections

    connections.close_all()
    url = common.database_fresh(DB)
    common.migrate(common.env(database_url=url))
    common.seed(organisations=organisations)
    return common.import_organisations()


class Statements:
    """SQL statements counted by phase of a text's way from the webhook to Twilio's accept.

    The harness says which phase it is in (store, process, dispatch); while processing, a
    statement run from messaging's code (templates, recipient, the Message, its dispatch kick)
    counts as notify, the rest (claim, Xero budget and fetch, snapshots) as process/fetch. Found
    from the call stack, so the application needs no hook for it.
    """

    PHASES = ("store", "process", "notify", "dispatch")
    MESSAGING = str(common.ROOT / "messaging") + os.sep
    DISPATCH = str(common.ROOT / "messaging" / "services" / "dispatch.py")

    def __init__(self):
        self.phase = "store"
        self.counts = Counter()

    def __call__(self, execute, sql, params, many, context):
        phase = self.phase
        if phase == "process":
            phase = self._from_messaging() or phase
        self.counts[phase] += 1
        return execute(sql, params, many, context)

    def _from_messaging(self) -> str:
        """ "dispatch" under messaging's dispatch (a worker may send a batch's texts itself),
        "notify" elsewhere under messaging, "" outside it."""
        found = ""
        frame = sys._getframe(2)
        while frame is not None:
            name = frame.f_code.co_filename
            if name == self.DISPATCH:
                return "dispatch"
            if name.startswith(self.MESSAGING):
                found = "notify"
            frame = frame.f_back
        return found


def _dispatch_pending(sql: Statements) -> None:
    """Send what processing left waiting, as the dispatch tasks would (all of it, before the
    worker sent texts itself)."""
    from messaging.models import Message
    from messaging.services import message_dispatch

    sql.phase = "dispatch"
    for message in Message.objects.select_related("tenant").filter(status="pending"):
        message_dispatch(message=message)


def _store(batches, sql: Statements) -> None:
    from billing_events.services import events_store

    sql.phase = "store"
    for delivery in batches:
        events_store(raw_body=body(delivery))


def _process_due(sql: Statements) -> None:
    from billing_events.services import events_due_xero_tenant_ids
    from billing_events.tasks import events_process_task

    sql.phase = "process"
    for xero_tenant_id in events_due_xero_tenant_ids():
        events_process_task(xero_tenant_id)


def _measure(label: str, batches, run) -> dict:
    from django.db import connection

    from messaging.models import Message

    common.standin_reset()
    before = Message.objects.count()
    sql = Statements()
    started = time.monotonic()
    with connection.execute_wrapper(sql):
        run(batches, sql)
        _dispatch_pending(sql)
    seconds = time.monotonic() - started
    stats = common.standin_get("/_stats")
    workload = summary(batches)
    notifications = Message.objects.count() - before
    sent = stats["twilio_messages"]  # texts Twilio accepted, whoever sent them
    statements = sum(sql.counts.values())
    return {
        "scenario": label,
        "workload": workload,
        "seconds": round(seconds, 2),
        "notifications_created": notifications,
        "messages_dispatched": sent,
        "xero_calls": stats["xero_calls"],
        "xero_calls_by_kind": stats["xero_calls_by_kind"],
        "xero_429": stats["xero_429_total"],
        "xero_requests": stats["xero_calls"] + stats["xero_429_total"],
        "twilio_messages": stats["twilio_messages"],
        "xero_calls_per_notification": round(stats["xero_calls"] / max(notifications, 1), 3),
        "xero_calls_per_event": round(stats["xero_calls"] / workload["events"], 3),
        "sql_statements": statements,
        "sql_statements_per_text": round(statements / max(sent, 1), 1),
        "sql_statements_per_text_by_phase": {
            phase: round(sql.counts[phase] / max(sent, 1), 2) for phase in Statements.PHASES
        },
    }


def backlog(batches, sql: Statements) -> None:
    _store(batches, sql)
    _process_due(sql)


def arrival(batches, sql: Statements) -> None:
    from billing_events.tasks import events_process_task

    for delivery in batches:
        _store([delivery], sql)
        sql.phase = "process"
        for xero_tenant_id in sorted({e["tenantId"] for e in delivery["events"]}):
            events_process_task(xero_tenant_id)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--organisations", type=int, default=200)
    parser.add_argument("--profile", action="store_true", help="cProfile the first backlog run")
    args = parser.parse_args()
    wave1 = deliveries(events=args.events, organisations=args.organisations, wave=1)
    wave2 = deliveries(events=args.events, organisations=args.organisations, wave=2)

    with common.standin():
        common.standin_reset()
        naive = naive_run(wave1)
        naive_stats = common.standin_get("/_stats")
        naive.update(
            xero_calls=naive_stats["xero_calls"],
            xero_429=naive_stats["xero_429_total"],
            # A refused call was still made: counting only answered ones would flatter the naive
            # path the faster the machine (more refusals, fewer events left to fetch).
            xero_requests=naive_stats["xero_calls"] + naive_stats["xero_429_total"],
            twilio_messages=naive_stats["twilio_messages"],
        )

        common.apply_env(database_url=f"{common.PG}/{DB}")
        results = []
        imports = [_fresh(args.organisations)]
        profiler = cProfile.Profile() if args.profile else None
        if profiler:
            profiler.enable()
        results.append(_measure("backlog", wave1, backlog))
        if profiler:
            profiler.disable()
            results[-1]["seconds_include_cprofile_overhead"] = True
        results.append(_measure("backlog, second wave", wave2, backlog))
        imports.append(_fresh(args.organisations))
        results.append(_measure("arrival", wave1, arrival))

    for result in results:
        result["fewer_xero_calls_than_naive"] = round(
            naive["xero_requests"] / max(result["xero_requests"], 1), 1
        )
    output = {
        "organisations": args.organisations,
        "naive": naive,
        "dunwell": results,
        "import_once_per_organisation": imports[0],
    }
    if profiler:
        for order in ("cumulative", "tottime"):
            text = io.StringIO()
            pstats.Stats(profiler, stream=text).sort_stats(order).print_stats(30)
            output[f"profile_top_{order}"] = text.getvalue().splitlines()[:60]
    common.record("calls", output)


if __name__ == "__main__":
    main()
