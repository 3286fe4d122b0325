"""Benchmark 3: end to end — signed webhooks in, texts accepted by the stand-in Twilio out.

gunicorn (2 workers × 4 threads, as the Dockerfile) receives the deliveries; a real
`manage.py qcluster` with 1 or 2 workers processes them (billing_events → messaging → dispatch
through the twilio SDK). Brokers: the ORM broker on SQLite, the ORM broker on PostgreSQL, Redis
(on PostgreSQL). Latency of a text is from the POST of the delivery that first carried its
invoice to the stand-in's 201.

The organisations are connected and imported (contacts, open invoices) before the clock starts,
as they would have been days before. The jobs this run does not measure — the hourly check of
Xero's own reminder settings, the polls, the daily sweep — are moved past its end, so that
every Xero call counted is one the events caused.

    python -m bench.e2e [--events 300] [--organisations 50] [--rate 20]
    python -m bench.e2e --only pg-orm --workers 2      (one configuration)
    python -m bench.e2e --count-sql    (SQL statements per text in every process, by phase)
    python -m bench.e2e --twilio-latency-ms 150 --record e2e-twilio150   (Twilio as slow as the
                                                                         real one)
"""

import argparse
import json
import threading
import time

from bench import common
from bench.sqlcount import sql_reset, sql_totals
from bench.workload import body, deliveries, summary

CONFIGS = ("sqlite-orm", "pg-orm", "redis")


def _post_all(batches, rate: float) -> dict[str, float]:
    """POST each delivery at `rate` per second; return each invoice's first POST time."""
    first_seen: dict[str, float] = {}
    start = time.time()
    threads = []
    for i, delivery in enumerate(batches):
        time.sleep(max(0.0, start + i / rate - time.time()))
        for event in delivery["events"]:
            first_seen.setdefault(event["resourceId"], time.time())
        thread = threading.Thread(target=common.webhook_post, args=(body(delivery),))
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join()
    return first_seen


def run_one(
    config: str, workers: int, *, events: int, organisations: int, rate: float, count_sql: bool
) -> dict:
    batches = deliveries(events=events, organisations=organisations, wave=3)
    expected = summary(batches)["unique_invoices"]
    counting = {"DJANGO_SETTINGS_MODULE": "bench.sqlcount_settings"} if count_sql else {}
    sql_reset()
    with common.running(
        config,
        db="bench_e2e",
        organisations=organisations,
        log=f"e2e-{config}-{workers}",
        Q_WORKERS=str(workers),
        **counting,
    ) as (web, (cluster,)):
        before = sql_totals() if count_sql else {}  # starting up, not the texts
        first_seen = _post_all(batches, rate)
        deadline = time.time() + 180
        while common.standin_get("/_stats")["twilio_messages"] < expected:
            if time.time() > deadline:
                break
            time.sleep(0.5)
        peaks = common.peak_rss_mb(common.children(cluster.pid) + [cluster.pid])
        web_peaks = common.peak_rss_mb(common.children(web.pid))
        statements = {p: n - before[p] for p, n in sql_totals().items()} if count_sql else {}
    accepted = {sid: at for sid, at, _to in common.standin_get("/_messages")}
    stats = common.standin_get("/_stats")

    from messaging.models import Message

    latencies = [
        accepted[sid] - first_seen[invoice_id]
        for sid, invoice_id in Message.objects.exclude(provider_id="").values_list(
            "provider_id", "invoice_id"
        )
        if sid in accepted and invoice_id in first_seen
    ]
    start = min(first_seen.values())
    end = max(accepted.values(), default=start)
    sql = {}
    if count_sql:
        sql = {
            "sql_statements_per_text_by_phase": {
                phase: round(n / max(len(accepted), 1), 2) for phase, n in statements.items()
            },
            "sql_statements_per_text": round(sum(statements.values()) / max(len(accepted), 1), 1),
        }
    return {
        "config": config,
        "q_workers": workers,
        "expected_messages": expected,
        "messages_accepted": len(accepted),
        "messages_per_second": round(len(accepted) / max(end - start, 1e-9), 2),
        "offered_events_per_second": round(rate * events / len(batches), 1),
        "latency_p50_s": round(common.percentile(latencies, 0.5), 2),
        "latency_p95_s": round(common.percentile(latencies, 0.95), 2),
        "xero_calls": stats["xero_calls"],
        "xero_calls_by_kind": stats["xero_calls_by_kind"],
        "xero_429": stats["xero_429_total"],
        "qcluster_peak_rss_mb": {str(k): round(v, 1) for k, v in sorted(peaks.items())},
        "gunicorn_worker_peak_rss_mb": round(max(web_peaks.values(), default=0), 1),
        "load_average_after": common.load_average(),
        **sql,
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--organisations", type=int, default=50)
    parser.add_argument("--rate", type=float, default=20, help="deliveries per second")
    parser.add_argument("--only", choices=CONFIGS)
    parser.add_argument("--workers", type=int)
    parser.add_argument(
        "--record",
        default="e2e",
        help="the name the results are written under: `burst` for the one-organisation burst",
    )
    parser.add_argument(
        "--twilio-latency-ms",
        type=float,
        default=0,
        help="the stand-in Twilio answers each create this late (the real one takes 100–300 ms)",
    )
    parser.add_argument(
        "--count-sql",
        action="store_true",
        help="count SQL statements per text in every process, by phase (bench/sqlcount.py; "
        "the stack walk costs CPU, so texts/s read lower)",
    )
    args = parser.parse_args()
    if args.only:
        result = run_one(
            args.only,
            args.workers,
            events=args.events,
            organisations=args.organisations,
            rate=args.rate,
            count_sql=args.count_sql,
        )
        print("RESULT " + json.dumps(result))
        return
    results = []
    with common.standin(STANDIN_TWILIO_LATENCY_MS=args.twilio_latency_ms):
        for config in CONFIGS:
            for workers in (1, 2):
                # A process per configuration: Django's database settings are fixed at setup.
                args_one = ["--only", config, "--workers", str(workers), "--events",
                            str(args.events), "--organisations", str(args.organisations),
                            "--rate", str(args.rate)]  # fmt: skip
                args_one += ["--count-sql"] * args.count_sql
                result = common.subprocess_result("e2e", args_one)
                results.append({"config": config, "q_workers": workers, **result})
                print(json.dumps(results[-1]), flush=True)
    common.record(args.record, {"results": results})


if __name__ == "__main__":
    main()
