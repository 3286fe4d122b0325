"""Benchmark 6: scale-out — one worker pool against two that share only PostgreSQL and Redis.

Two hosts running workers are modelled as two `manage.py qcluster` processes, each from its own
working directory and environment (bench/common.py `running`), sharing nothing but the database
and Redis; gunicorn receives the webhooks for both. The same deliveries (bench/workload.py, a
few organisations, so each organisation's Xero budget is pressed) are POSTed at a fixed rate
to one pool, then, on a fresh database, to two.

Reported: texts/s (texts accepted ÷ time from the first POST to the last accept), the latency,
and the proof that the budget of 60 Xero calls a minute per organisation held across the pools:
the stand-in's 429s (it refuses the 61st request in any 60 s, so any overspend shows as one)
and the most requests it received for one organisation in any 60 s window, refused ones included.

    python -m bench.scaleout [--events 1500] [--organisations 4] [--rate 5] [--workers 2]
    python -m bench.scaleout --only 2          (one pool count)
"""

import argparse
import json
import threading
import time

from bench import common
from bench.workload import body, deliveries, summary

POOLS = (1, 2)


def _post_all(batches, rate: float) -> float:
    """POST each delivery at `rate` per second, each from its own thread; the time of the first."""
    start = time.time()
    threads = []
    for i, delivery in enumerate(batches):
        time.sleep(max(0.0, start + i / rate - time.time()))
        thread = threading.Thread(target=common.webhook_post, args=(body(delivery),))
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join()
    return start


def run_one(pools: int, *, events: int, organisations: int, rate: float, workers: int) -> dict:
    batches = deliveries(events=events, organisations=organisations, wave=6)
    expected = summary(batches)["unique_invoices"]
    with common.running(
        "redis",
        db="bench_scaleout",
        organisations=organisations,
        pools=pools,
        log=f"scaleout-{pools}",
        Q_WORKERS=str(workers),
    ):
        start = _post_all(batches, rate)
        posted = time.time() - start
        deadline = time.time() + 300
        while common.standin_get("/_stats")["twilio_messages"] < expected:
            if time.time() > deadline:
                break
            time.sleep(0.5)
    accepted = [at for _sid, at, _to in common.standin_get("/_messages")]
    stats = common.standin_get("/_stats")
    end = max(accepted, default=start)
    return {
        "pools": pools,
        "q_workers_per_pool": workers,
        "workload": summary(batches),
        "posting_seconds": round(posted, 1),
        "expected_messages": expected,
        "messages_accepted": len(accepted),
        "seconds_to_last_text": round(end - start, 1),
        "messages_per_second": round(len(accepted) / max(end - start, 1e-9), 2),
        "xero_calls": stats["xero_calls"],
        "xero_calls_by_kind": stats["xero_calls_by_kind"],
        "xero_429": stats["xero_429_total"],
        "max_xero_requests_any_60s_one_organisation": stats[
            "max_requests_any_60s_one_organisation"
        ],
        "load_average_after": common.load_average(),
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1500)
    parser.add_argument("--organisations", type=int, default=4)
    parser.add_argument("--rate", type=float, default=5, help="deliveries per second")
    parser.add_argument("--workers", type=int, default=2, help="Q_WORKERS of each pool")
    parser.add_argument("--only", type=int, choices=POOLS)
    args = parser.parse_args()
    if args.only:
        result = run_one(
            args.only,
            events=args.events,
            organisations=args.organisations,
            rate=args.rate,
            workers=args.workers,
        )
        print("RESULT " + json.dumps(result))
        return
    results = []
    with common.standin():
        for pools in POOLS:
            one = ["--only", str(pools), "--events", str(args.events), "--organisations",
                   str(args.organisations), "--rate", str(args.rate), "--workers",
                   str(args.workers)]  # fmt: skip
            results.append({"pools": pools, **common.subprocess_result("scaleout", one)})
            print(json.dumps(results[-1]), flush=True)
    one_pool, two_pools = (r.get("messages_per_second") for r in results)
    common.record(
        "scaleout",
        {
            "results": results,
            "two_pools_over_one": round(two_pools / one_pool, 2)
            if one_pool and two_pools
            else None,
            "budget_held": all(
                r.get("xero_429") == 0
                and r.get("max_xero_requests_any_60s_one_organisation", 99) <= 60
                for r in results
            ),
        },
    )


if __name__ == "__main__":
    main()
