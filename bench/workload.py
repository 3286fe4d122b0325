"""The Xero webhook traffic every benchmark replays: deterministic, skewed like real customers.

Organisations are not equal: event counts follow a Zipf-like law (weight 1/rank^0.8), so the
busiest of 200 organisations gets ~100 of 1,000 events and many get a handful. 30 % of events
are an UPDATE of an invoice the organisation already announced (approval after creation, a
payment, an edit — FACTS.md: metadata only, at-least-once); the rest CREATE a new invoice.
Deliveries carry 1–10 events, as Xero batches them. Signed exactly as Xero signs (FACTS.md).
"""

import json
import random
import uuid
from datetime import UTC, datetime

from bench.common import NAMESPACE, org_id

SKEW = 0.8
UPDATE_SHARE = 0.3


def deliveries(*, events: int, organisations: int, seed: int = 10, wave: int = 0) -> list[dict]:
    rng = random.Random(seed * 1000 + wave)
    weights = [1 / (rank + 1) ** SKEW for rank in range(organisations)]
    known: dict[int, list[str]] = {}
    stream = []
    for n in range(events):
        org = rng.choices(range(organisations), weights)[0]
        invoices = known.setdefault(org, [])
        if invoices and rng.random() < UPDATE_SHARE:
            invoice_id, event_type = rng.choice(invoices), "UPDATE"
        else:
            invoice_id = str(uuid.uuid5(NAMESPACE, f"wave{wave}:seed{seed}:invoice{n}"))
            invoices.append(invoice_id)
            event_type = "CREATE"
        stream.append(
            {
                "resourceUrl": f"https://api.xero.com/api.xro/2.0/Invoices/{invoice_id}",
                "resourceId": invoice_id,
                "eventDateUtc": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3],
                "eventType": event_type,
                "eventCategory": "INVOICE",
                "tenantId": org_id(org),
                "tenantType": "ORGANISATION",
            }
        )
    batches, sequence, i = [], 1, 0
    while i < len(stream):
        size = rng.randint(1, 10)
        chunk = stream[i : i + size]
        batches.append(
            {
                "events": chunk,
                "firstEventSequence": sequence,
                "lastEventSequence": sequence + len(chunk) - 1,
                "entropy": uuid.UUID(int=rng.getrandbits(128)).hex.upper()[:20],
            }
        )
        sequence += len(chunk)
        i += size
    return batches


def body(delivery: dict) -> bytes:
    return json.dumps(delivery, separators=(",", ":")).encode()


def summary(batches: list[dict]) -> dict:
    events = [e for b in batches for e in b["events"]]
    per_org: dict[str, set] = {}
    for event in events:
        per_org.setdefault(event["tenantId"], set()).add(event["resourceId"])
    return {
        "deliveries": len(batches),
        "events": len(events),
        "organisations_with_events": len(per_org),
        "unique_invoices": sum(len(ids) for ids in per_org.values()),
        "max_events_one_organisation": max(
            sum(1 for e in events if e["tenantId"] == org) for org in per_org
        ),
    }
