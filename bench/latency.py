"""Benchmark 5: idle latency — one invoice at a time, webhook POST to Twilio's create.

An idle Dunwell (gunicorn 2 × 4 and `manage.py qcluster` with its default workers) receives
single invoices one at a time: a signed delivery carrying one CREATE event is POSTed, the
harness waits until the stand-in Twilio has accepted its text, then waits a gap (1–2 s, varied
so that arrivals fall at every phase of the ORM broker's 1 s poll) before the next. Latency is
from the POST to the stand-in's 201. Three invoices are sent first and not counted (they warm
every worker process). Configurations: the embedded default (SQLite, ORM broker) and PostgreSQL
+ Redis.

    python -m bench.latency [--invoices 30] [--organisations 5]
    python -m bench.latency --only redis        (one configuration)
"""

import argparse
import json
import random
import time
import uuid
from datetime import UTC, datetime

from bench import common
from bench.workload import body

CONFIGS = ("sqlite-orm", "redis")
TIMEOUT = 30  # seconds for one text; a text later than this is counted as lost


WARM_UPS = 3


def _delivery(*, organisation: int, sequence: int) -> dict:
    invoice_id = str(uuid.uuid5(common.NAMESPACE, f"latency:{sequence}"))
    event = {
        "resourceUrl": f"https://api.xero.com/api.xro/2.0/Invoices/{invoice_id}",
        "resourceId": invoice_id,
        "eventDateUtc": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3],
        "eventType": "CREATE",
        "eventCategory": "INVOICE",
        "tenantId": common.org_id(organisation),
        "tenantType": "ORGANISATION",
    }
    return {"events": [event], "firstEventSequence": sequence, "lastEventSequence": sequence,
            "entropy": uuid.uuid4().hex.upper()[:20]}  # fmt: skip


def _one(*, organisation: int, sequence: int) -> float | None:
    """POST one invoice; seconds until its text is accepted, or None after TIMEOUT."""
    before = common.standin_get("/_stats")["twilio_messages"]
    posted = time.time()
    common.webhook_post(body(_delivery(organisation=organisation, sequence=sequence)))
    while time.time() < posted + TIMEOUT:
        messages = common.standin_get("/_messages")
        if len(messages) > before:
            return messages[before][1] - posted
        time.sleep(0.01)
    return None


def run_one(config: str, *, invoices: int, organisations: int) -> dict:
    rng = random.Random(21)
    with common.running(
        config, db="bench_latency", organisations=organisations, log=f"latency-{config}"
    ):
        # Warm-up, not counted: one invoice per worker process (Q_WORKERS is 2), so that no
        # measured text is the first a worker handles (imports, connections: ~0.4 s once).
        for warm in range(WARM_UPS):
            _one(organisation=warm % organisations, sequence=-1 - warm)
            time.sleep(0.5)
        latencies, lost = [], 0
        for n in range(1, invoices + 1):
            time.sleep(1 + rng.random())
            seconds = _one(organisation=n % organisations, sequence=n)
            if seconds is None:
                lost += 1
            else:
                latencies.append(seconds)
        stats = common.standin_get("/_stats")
    return {
        "config": config,
        "invoices": invoices,
        "texts_accepted": len(latencies),
        "texts_lost": lost,
        "latency_p50_s": round(common.percentile(latencies, 0.5), 3),
        "latency_p95_s": round(common.percentile(latencies, 0.95), 3),
        "latency_max_s": round(max(latencies, default=float("nan")), 3),
        "latencies_s": [round(x, 3) for x in latencies],
        "xero_calls": stats["xero_calls"],
        "xero_429": stats["xero_429_total"],
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--invoices", type=int, default=30)
    parser.add_argument("--organisations", type=int, default=5)
    parser.add_argument("--only", choices=CONFIGS)
    args = parser.parse_args()
    if args.only:
        result = run_one(args.only, invoices=args.invoices, organisations=args.organisations)
        print("RESULT " + json.dumps(result))
        return
    results = []
    with common.standin():
        for config in CONFIGS:
            one = ["--only", config, "--invoices", str(args.invoices),
                   "--organisations", str(args.organisations)]  # fmt: skip
            results.append({"config": config, **common.subprocess_result("latency", one)})
            print(json.dumps(results[-1]), flush=True)
    common.record("latency", {"results": results})


if __name__ == "__main__":
    main()
