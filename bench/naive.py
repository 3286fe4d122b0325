"""The integration the public guides describe, as a yardstick: per event, GET the invoice, GET its
contact, send a text. No batching, no cache, no budget, no dedup — and, like the guides, no
retry on 429 (the event is lost). Runs against bench/standin.py, whose counters do the counting.

    python -m bench.naive --events 1000 --organisations 200
"""

import argparse
import time

import requests

from bench.common import STANDIN, record, standin_get, standin_reset
from bench.workload import deliveries, summary

ACCOUNT = "AC" + "0" * 32


def naive_run(batches: list[dict]) -> dict:
    session = requests.Session()
    outcome = {"events": 0, "messages_sent": 0, "events_lost_to_429": 0}
    started = time.monotonic()
    for delivery in batches:
        for event in delivery["events"]:
            outcome["events"] += 1
            headers = {
                "Authorization": "Bearer naive",
                "Accept": "application/json",
                "Xero-tenant-id": event["tenantId"],
            }
            api = f"{STANDIN}/api.xro/2.0"
            invoice = session.get(f"{api}/Invoices/{event['resourceId']}", headers=headers)
            if invoice.status_code == 429:
                outcome["events_lost_to_429"] += 1
                continue
            contact_id = invoice.json()["Invoices"][0]["Contact"]["ContactID"]
            contact = session.get(f"{api}/Contacts/{contact_id}", headers=headers)
            if contact.status_code == 429:
                outcome["events_lost_to_429"] += 1
                continue
            phone = contact.json()["Contacts"][0]["Phones"][0]
            session.post(
                f"{STANDIN}/2010-04-01/Accounts/{ACCOUNT}/Messages.json",
                data={"To": f"+{phone['PhoneCountryCode']}{phone['PhoneAreaCode']}"
                      f"{phone['PhoneNumber']}", "From": "+6498876543", "Body": "Invoice"},
                auth=(ACCOUNT, "token"),
            )  # fmt: skip
            outcome["messages_sent"] += 1
    outcome["seconds"] = round(time.monotonic() - started, 2)
    return outcome


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--organisations", type=int, default=200)
    args = parser.parse_args()
    batches = deliveries(events=args.events, organisations=args.organisations)
    standin_reset()
    outcome = naive_run(batches)
    record("naive", {"workload": summary(batches), **outcome, "standin": standin_get("/_stats")})


if __name__ == "__main__":
    main()
