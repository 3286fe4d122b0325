"""A small, fast Xero + Twilio stand-in for the benchmarks, counting every call it answers.

Why not the sandbox app: it runs inside Django, so every counted call would also cost
a Django request on the same two cores the benchmark measures. This is a threaded stdlib server
that makes up a consistent Xero organisation from the ids it is asked about:

- GET  /api.xro/2.0/Invoices?IDs=a,b   ACCREC AUTHORISED invoices; the contact of an invoice is
                                       one of CONTACTS_PER_ORG contacts of that organisation,
                                       chosen by the invoice id (so the naive path and Dunwell
                                       see the same data)
- GET  /api.xro/2.0/Invoices?Statuses=AUTHORISED&page=N   the organisation's open invoices
                                       (STANDIN_OPEN_INVOICES per organisation, 100 a page)
- GET  /api.xro/2.0/Invoices/{id}      one invoice (what the naive guides call)
- GET  /api.xro/2.0/Contacts?IDs=…  and  /Contacts/{id}
- GET  /api.xro/2.0/Contacts?page=N  the organisation's CONTACTS_PER_ORG contacts, 100 a page
- GET  /connections, POST /connect/token
- POST /2010-04-01/Accounts/{sid}/Messages.json  201 "queued", like Twilio
- GET  /_stats, GET /_messages, POST /_reset     the counters (not part of either API)

Xero's limits are enforced per Xero-tenant-id (FACTS.md "Xero: accounting API"): 60 calls in any
60 s and 5 at once, answered with 429 + Retry-After + X-Rate-Limit-Problem, and counted.
Loopback only. Run: python bench/standin.py --port 8765
"""

import argparse
import functools
import hashlib
import json
import os
import threading
import time
import uuid
from collections import Counter, defaultdict, deque
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

CONTACTS_PER_ORG = int(os.getenv("STANDIN_CONTACTS_PER_ORG", "20"))
OPEN_INVOICES = int(os.getenv("STANDIN_OPEN_INVOICES", "0"))
MINUTE_LIMIT = int(os.getenv("STANDIN_MINUTE_LIMIT", "60"))
CONCURRENT_LIMIT = int(os.getenv("STANDIN_CONCURRENT_LIMIT", "5"))
# Real Xero answers in a few hundred ms; 0 measures Dunwell alone.
XERO_LATENCY = float(os.getenv("STANDIN_XERO_LATENCY_MS", "0")) / 1000
# Real Twilio answers a create in 0.1–0.3 s; 0 measures Dunwell alone.
TWILIO_LATENCY = float(os.getenv("STANDIN_TWILIO_LATENCY_MS", "0")) / 1000
NAMESPACE = uuid.UUID("6f1c1d0e-8a47-4a52-9d3e-0b1d5e7c2a11")
PAGE_SIZE = 100


def _xero_date(moment: datetime) -> str:
    return f"/Date({int(moment.timestamp() * 1000)}+0000)/"


def _n(text: str) -> int:
    return int(hashlib.blake2b(text.encode(), digest_size=8).hexdigest(), 16)


def contact_id(org: str, index: int) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{org}:contact:{index}"))


def contact_id_for(org: str, invoice_id: str) -> str:
    return contact_id(org, _n(invoice_id) % CONTACTS_PER_ORG)


def open_invoice_id(org: str, index: int) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{org}:open:{index}"))


@functools.cache
def open_invoice_ids(org: str) -> frozenset[str]:
    """So that GET ?IDs= describes an open invoice as the listing did, even after a restart."""
    return frozenset(open_invoice_id(org, index) for index in range(OPEN_INVOICES))


def invoice(org: str, invoice_id: str, *, overdue: bool = False) -> dict:
    now = datetime.now(UTC)
    # Open invoices fell due 0–30 days ago, spread by id, so each day's sweep meets every stage.
    # Issued at midnight: fetched again, an invoice nobody changed says what it said (Xero's
    # UpdatedDateUTC does not move by itself).
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    issued = midnight - timedelta(days=14 + _n(invoice_id) % 31) if overdue else now
    contact_id = contact_id_for(org, invoice_id)
    return {
        "Type": "ACCREC",
        "InvoiceID": invoice_id,
        "InvoiceNumber": f"INV-{invoice_id[:8]}",
        "Reference": "",
        "Status": "AUTHORISED",
        "Contact": {"ContactID": contact_id, "Name": f"Customer {contact_id[:8]}"},
        "Date": _xero_date(issued),
        "DueDate": _xero_date(issued + timedelta(days=14)),
        "CurrencyCode": "NZD",
        "SubTotal": "100.00",
        "TotalTax": "15.00",
        "Total": "115.00",
        "AmountDue": "115.00",
        "AmountPaid": "0.00",
        "Payments": [],
        # An open invoice was last changed when it was issued: before Dunwell connected, so the
        # initial import takes it as the past (billing_events connection_initial_import).
        "UpdatedDateUTC": _xero_date(issued if overdue else now),
    }


def contact(contact_id: str) -> dict:
    number = 2000000 + _n(contact_id) % 7000000
    return {
        "ContactID": contact_id,
        "ContactStatus": "ACTIVE",
        "Name": f"Customer {contact_id[:8]}",
        "FirstName": "Sam",
        "EmailAddress": f"{contact_id[:8]}@example.com",
        "Phones": [
            {
                "PhoneType": "MOBILE",
                "PhoneNumber": str(number),
                "PhoneAreaCode": "21",
                "PhoneCountryCode": "64",
            }
        ],
        "ContactGroups": [],
        "UpdatedDateUTC": _xero_date(datetime.now(UTC)),
    }


def _busiest_minute(moments: list[float]) -> int:
    """The most of these (sorted) moments that fall in any 60 s window."""
    most, first = 0, 0
    for last, moment in enumerate(moments):
        while moment - moments[first] >= 60:
            first += 1
        most = max(most, last - first + 1)
    return most


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        with self.lock:
            self.calls = Counter()  # "GET Invoices?IDs" → n
            self.by_org = Counter()
            self.refused = Counter()  # "minute" / "concurrent" → n
            self.window = defaultdict(deque)
            self.requested = defaultdict(list)  # org → monotonic time of every request, 429s too
            self.in_flight = Counter()
            self.messages = []  # (sid, accepted_at epoch s, To)
            self.started = time.time()

    def admit(self, org: str) -> tuple[str, float] | None:
        """Take a place in the organisation's Xero budget, or say why not (and for how long)."""
        now = time.monotonic()
        with self.lock:
            self.requested[org].append(now)
            window = self.window[org]
            while window and window[0] <= now - 60:
                window.popleft()
            if len(window) >= MINUTE_LIMIT:
                self.refused["minute"] += 1
                return "minute", window[0] + 60 - now
            if self.in_flight[org] >= CONCURRENT_LIMIT:
                self.refused["concurrent"] += 1
                return "concurrent", 1
            window.append(now)
            self.in_flight[org] += 1
            self.by_org[org] += 1
            return None

    def leave(self, org: str):
        with self.lock:
            self.in_flight[org] -= 1

    def stats(self) -> dict:
        with self.lock:
            xero = sum(self.calls.values())
            return {
                "xero_calls": xero,
                "xero_calls_by_kind": dict(self.calls),
                "xero_429": dict(self.refused),
                "xero_429_total": sum(self.refused.values()),
                "organisations_called": len(self.by_org),
                "max_calls_one_organisation": max(self.by_org.values(), default=0),
                "max_requests_any_60s_one_organisation": max(
                    map(_busiest_minute, self.requested.values()), default=0
                ),
                "twilio_messages": len(self.messages),
            }


STATE = State()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: requests.Session reuses the connection
    # Headers and body leave in two writes: with Nagle on, the body waited for the client's
    # delayed ACK, ~40 ms added to every call on a kept-alive connection.
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    def _reply(self, status: int, body=None, headers: dict | None = None):
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def do_GET(self):
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path == "/_stats":
            return self._reply(200, STATE.stats())
        if url.path == "/_messages":
            with STATE.lock:
                return self._reply(200, list(STATE.messages))
        if url.path == "/connections":
            return self._reply(200, [])
        if url.path.startswith("/api.xro/2.0/"):
            return self._xero(url.path.removeprefix("/api.xro/2.0/"), query)
        return self._reply(404, {"Detail": "not found"})

    def _xero(self, resource: str, query: dict):
        org = self.headers.get("Xero-tenant-id", "")
        kind = resource.split("/")[0] + ("/{id}" if "/" in resource else "")
        kind += "?IDs" if "IDs" in query else ("?page" if "page" in query else "")
        refusal = STATE.admit(org)
        if refusal:
            problem, seconds = refusal
            return self._reply(
                429,
                {"Title": "Too many requests"},
                {"Retry-After": str(max(1, round(seconds))), "X-Rate-Limit-Problem": problem},
            )
        try:
            with STATE.lock:
                STATE.calls[f"GET {kind}"] += 1
            if XERO_LATENCY:
                time.sleep(XERO_LATENCY)
            body = self._xero_body(org, resource, query)
        finally:
            STATE.leave(org)
        remaining = max(MINUTE_LIMIT - len(STATE.window[org]), 0)
        headers = {"X-MinLimit-Remaining": str(remaining), "X-DayLimit-Remaining": "4999"}
        self._reply(200 if body is not None else 404, body, headers)

    def _xero_body(self, org: str, resource: str, query: dict):
        name, _, one = resource.partition("/")
        ids = [i for i in query.get("IDs", "").split(",") if i] or ([one] if one else [])
        if name == "Invoices":
            if not ids:  # the open invoices of the organisation, a page at a time
                page = int(query.get("page", 1))
                first = (page - 1) * PAGE_SIZE
                wanted = range(first, min(first + PAGE_SIZE, OPEN_INVOICES))
                ids = [open_invoice_id(org, i) for i in wanted]
                records = [invoice(org, i, overdue=True) for i in ids]
                pages = max(1, -(-OPEN_INVOICES // PAGE_SIZE))
                return {
                    "Invoices": records,
                    "pagination": {
                        "page": page,
                        "pageSize": PAGE_SIZE,
                        "pageCount": pages,
                        "itemCount": OPEN_INVOICES,
                    },
                }
            return {"Invoices": [invoice(org, i, overdue=i in open_invoice_ids(org)) for i in ids]}
        if name == "Contacts":
            if not ids:  # every contact of the organisation, a page at a time (the import)
                page = int(query.get("page", 1))
                first = (page - 1) * PAGE_SIZE
                wanted = range(first, min(first + PAGE_SIZE, CONTACTS_PER_ORG))
                ids = [contact_id(org, index) for index in wanted]
                pages = max(1, -(-CONTACTS_PER_ORG // PAGE_SIZE))
                return {
                    "Contacts": [contact(i) for i in ids],
                    "pagination": {
                        "page": page,
                        "pageSize": PAGE_SIZE,
                        "pageCount": pages,
                        "itemCount": CONTACTS_PER_ORG,
                    },
                }
            return {"Contacts": [contact(i) for i in ids]}
        return None

    def do_POST(self):
        url = urlsplit(self.path)
        body = self._body()
        if url.path == "/_reset":
            STATE.reset()
            return self._reply(200, {})
        if url.path == "/connect/token":
            token = {"access_token": "a", "refresh_token": "r", "expires_in": 1800}
            return self._reply(200, {**token, "token_type": "Bearer"})
        if url.path.endswith("/Messages.json"):
            if TWILIO_LATENCY:
                time.sleep(TWILIO_LATENCY)
            form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
            sid = "SM" + uuid.uuid4().hex
            with STATE.lock:
                STATE.messages.append((sid, time.time(), form.get("To", "")))
            account = url.path.split("/")[3]
            return self._reply(
                201,
                {
                    "sid": sid,
                    "account_sid": account,
                    "to": form.get("To"),
                    "from": form.get("From"),
                    "body": form.get("Body"),
                    "status": "queued",
                    "num_segments": "1",
                    "direction": "outbound-api",
                    "date_created": datetime.now(UTC).strftime("%a, %d %b %Y %H:%M:%S +0000"),
                    "uri": f"{url.path.removesuffix('.json')}/{sid}.json",
                },
            )
        self._reply(404, {"Detail": "not found"})


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    server = Server(("127.0.0.1", args.port), Handler)
    print(f"stand-in on http://127.0.0.1:{args.port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
