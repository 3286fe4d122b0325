"""Benchmark 5: the collections workspace at 100,000 invoices — the Invoices page, one invoice,
one customer, and the CSV export.

One tenant with 4 organisations (2 NZD, 2 AUD) holds INVOICES sales invoices (70 % open,
25 % paid — half of those in the last 30 days — 5 % voided), due from 120 days ago to 30 days
ahead, for 20,000 contacts, with ~45,000 messages in the send log (some failed or skipped for
want of a phone) and a few hundred replies. Everything is inserted with bulk_create.

Each page is requested N times through Django's full request path (middleware, session, view,
template) in this process, as a logged-in member, and timed to the last byte; the SQL statements
of one request are counted. The same pages are first timed on the schema without the indexes
this page added (snapshots 0003 and 0004, messaging 0007), then with them, in the same run; the
deep page is also read with OFFSET, the naive paging keyset replaces.

    python -m bench.workspace [--invoices 100000] [--requests 20]
"""

import argparse
import random
import subprocess
import time
import uuid
from datetime import timedelta
from decimal import Decimal

from bench import common

DB = "bench_workspace"
ORGANISATIONS = (
    ("Kauri Bakery Ltd", "NZD", "Pacific/Auckland"),
    ("Wattle Catering Pty Ltd", "AUD", "Australia/Sydney"),
    ("Rimu Joinery Ltd", "NZD", "Pacific/Auckland"),
    ("Banksia Florists Pty Ltd", "AUD", "Australia/Sydney"),
)
CONTACTS = 20_000
FIRST = ["Aroha", "Ben", "Grace", "Hemi", "Isla", "Jack", "Kiri", "Liam", "Mere", "Noah", "Olivia",
         "Pita", "Ruby", "Sam", "Tama", "Zoe"]  # fmt: skip
LAST = ["Carter", "Ngata", "Lee", "Walker", "Harris", "Smith", "Tane", "Wilson", "Brown",
        "Clark", "Hart", "Young", "King", "Wright", "Scott", "Green", "Baker", "Adams", "Hill",
        "Moore"]  # fmt: skip
# The schema without the workspace's indexes: the naive baseline.
BEFORE = (("snapshots", "0002"), ("messaging", "0006"))
STATIC_PLAIN = "django.contrib.staticfiles.storage.StaticFilesStorage"


def _migrate(environment: dict, *target) -> None:
    subprocess.run(
        [common.PYTHON, "manage.py", "migrate", *target, "--noinput", "-v0"],
        cwd=common.ROOT, env=environment, check=True,
    )  # fmt: skip


def seed(invoices: int) -> dict:
    """The tenant, its organisations, contacts, invoices, messages and replies."""
    from django.utils import timezone

    from connections.models import XeroConnection, XeroGrant
    from connections.services import tenant_create
    from messaging.models import InboundMessage, Message
    from snapshots.models import ContactSnapshot, InvoiceSnapshot

    rng = random.Random(19)
    now = timezone.now()
    tenant, membership = tenant_create(
        name="Bench Workspace", owner_email="owner@workspace.bench", timezone="Pacific/Auckland"
    )
    grant = XeroGrant.objects.create(
        tenant=tenant, access_token="a", refresh_token="r", expires_at=now + timedelta(days=1)
    )
    organisations = []
    for index, (name, currency, zone) in enumerate(ORGANISATIONS):
        XeroConnection.objects.create(
            tenant=tenant, grant=grant, xero_tenant_id=common.org_id(index), name=name,
            connection_id=str(uuid.uuid4()), country_code=currency[:2], timezone=zone,
            currency=currency,
        )  # fmt: skip
        organisations.append((common.org_id(index), currency))
    contacts = []
    for n in range(CONTACTS):
        xero_tenant_id = organisations[n % len(organisations)][0]
        contacts.append(
            ContactSnapshot(
                tenant=tenant,
                xero_tenant_id=xero_tenant_id,
                contact_id=str(uuid.uuid4()),
                name=f"{rng.choice(FIRST)} {rng.choice(LAST)} {n}",
                phones=[{"PhoneType": "MOBILE", "PhoneNumber": f"021 {n:07}"}] if n % 10 else [],
                email=f"c{n}@example.test" if n % 3 == 0 else "",
            )  # fmt: skip
        )
    ContactSnapshot.objects.bulk_create(contacts, batch_size=2000)
    rows = []
    for n in range(invoices):
        contact = contacts[rng.randrange(CONTACTS)]
        currency = dict(organisations)[contact.xero_tenant_id]
        total = Decimal(rng.randrange(2000, 500000)) / 100
        kind = rng.random()
        status, paid = ("AUTHORISED", Decimal(0))
        if kind < 0.25:
            status, paid = "PAID", total
        elif kind < 0.30:
            status = "VOIDED"
        elif kind < 0.40:
            paid = (total / 3).quantize(Decimal("0.01"))
        rows.append(
            InvoiceSnapshot(
                tenant=tenant,
                xero_tenant_id=contact.xero_tenant_id,
                invoice_id=str(uuid.uuid4()),
                type="ACCREC",
                status=status,
                number=f"INV-{n:06}",
                contact_id=contact.contact_id,
                currency=currency,
                total=total,
                amount_paid=paid,
                amount_due=0 if status != "AUTHORISED" else total - paid,
                due_date=(now - timedelta(days=rng.randrange(-30, 120))).date(),
                updated_date_utc=now - timedelta(days=rng.randrange(0, 60)),
            )  # fmt: skip
        )
    InvoiceSnapshot.objects.bulk_create(rows, batch_size=2000)
    # About 8 % of messages fail or are skipped for want of a phone.
    statuses = ["delivered"] * 30 + ["sent"] * 3 + ["failed", "undelivered", "skipped"]
    messages = []
    for invoice in rows:
        if rng.random() < 0.3:
            for k in range(rng.randint(1, 3)):
                status = rng.choice(statuses)
                messages.append(
                    Message(
                        tenant=tenant,
                        kind="reminder" if k else "invoice_issued",
                        channel="sms",
                        dedup_key=f"invoice:{invoice.invoice_id}:{k}",
                        status=status,
                        invoice_id=invoice.invoice_id,
                        contact_id=invoice.contact_id,
                        recipient=f"+6421{rng.randrange(10**7):07}",
                        body="Hello " * 20,
                        error_code="no_phone" if status == "skipped" else "",
                        created_at=now - timedelta(days=rng.randrange(0, 90), minutes=k),
                    )  # fmt: skip
                )
    Message.objects.bulk_create(messages, batch_size=2000)
    InboundMessage.objects.bulk_create(
        InboundMessage(
            tenant=tenant,
            message_sid=f"SM{uuid.uuid4().hex}",
            channel="sms",
            from_phone=message.recipient,
            to="+6498876543",
            body="Can I pay next week?",
            intent="other",
            received_at=now - timedelta(days=rng.randrange(0, 40)),
        )  # fmt: skip
        for message in rng.sample(messages, 400)
    )
    return {
        "tenant": tenant,
        "owner": membership.user,
        "contacts": CONTACTS,
        "invoices": invoices,
        "messages": len(messages),
        "sample_invoice": rows[len(rows) // 2].invoice_id,
        "sample_contact": rows[len(rows) // 2].contact_id,
        "organisation": organisations[0][0],
    }


def _statements(request) -> int:
    from django.db import connection

    count = []
    with connection.execute_wrapper(lambda execute, *a: count.append(1) or execute(*a)):
        request()
    return len(count)


def _get(client, url: str) -> int:
    response = client.get(url, HTTP_HOST="127.0.0.1")
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert response.status_code == 200, (url, response.status_code)
    return len(body)


def timed(client, url: str, requests: int) -> dict:
    _get(client, url)  # warm-up: caches, the session, the plan
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        _get(client, url)
        times.append((time.perf_counter() - started) * 1000)
    return {
        "url": url,
        "p50_ms": round(common.percentile(times, 0.5), 1),
        "p95_ms": round(common.percentile(times, 0.95), 1),
        "sql_statements": _statements(lambda: _get(client, url)),
    }


def _deep_cursor(seeded: dict, depth: int) -> str:
    """The cursor of the page starting `depth` rows into the default order."""
    from django.utils import timezone

    from workspace.selectors import InvoiceFilters, cursor_encode, invoices_filtered

    ordered = invoices_filtered(
        tenant=seeded["tenant"], filters=InvoiceFilters(), as_of=timezone.now()
    ).order_by("due_date", "pk")
    row = ordered.values_list("due_date", "pk")[depth - 1]
    return cursor_encode(*row)


def _query_times(page, requests: int) -> dict:
    page()
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        page()
        times.append((time.perf_counter() - started) * 1000)
    return {"p50_ms": round(common.percentile(times, 0.5), 1),
            "p95_ms": round(common.percentile(times, 0.95), 1)}  # fmt: skip


def _offset_page(seeded: dict, depth: int, requests: int) -> dict:
    """The naive way to the same deep page: OFFSET, which reads and drops `depth` rows."""
    from django.utils import timezone

    from workspace.selectors import PAGE_SIZE, InvoiceFilters, invoices_filtered

    def page():
        ordered = invoices_filtered(
            tenant=seeded["tenant"], filters=InvoiceFilters(), as_of=timezone.now()
        ).order_by("due_date", "pk")
        return list(ordered[depth : depth + PAGE_SIZE + 1])

    return _query_times(page, requests)


def _keyset_page(seeded: dict, cursor: str, requests: int) -> dict:
    from django.utils import timezone

    from workspace.selectors import InvoiceFilters, invoices_page

    def page():
        return invoices_page(
            tenant=seeded["tenant"], filters=InvoiceFilters(), as_of=timezone.now(), after=cursor
        )

    return _query_times(page, requests)


def pages(seeded: dict, cursor: str) -> dict[str, str]:
    organisation = seeded["organisation"]
    return {
        "first page": "/invoices/",
        "filtered (organisation, overdue 31–60)": (
            f"/invoices/?organisation={organisation}&state=overdue&overdue=31-60"
        ),
        "search by contact name": "/invoices/?q=Hemi+Hart",
        "search by invoice number": "/invoices/?q=INV-04217",
        "needs a person": "/invoices/?needs_person=on",
        "sorted by amount due": "/invoices/?sort=-amount",
        "deep page (row 50,000)": f"/invoices/?after={cursor}",
        "invoice page": f"/invoices/{seeded['sample_invoice']}/",
        "customer page": f"/customers/{seeded['sample_contact']}/",
        "CSV (organisation, overdue 31–60)": (
            f"/invoices.csv?organisation={organisation}&state=overdue&overdue=31-60"
        ),
    }


def measure(seeded: dict, cursor: str, requests: int) -> dict:
    from django.conf import settings
    from django.db import connection
    from django.test import Client, override_settings

    with connection.cursor() as cursor_:
        cursor_.execute("ANALYZE")
    client = Client()
    client.force_login(seeded["owner"])
    # Production serves the stylesheet's hashed name from collectstatic's manifest; the page's
    # own work is what is measured here, so the plain storage names it without a manifest.
    plain = {**settings.STORAGES, "staticfiles": {"BACKEND": STATIC_PLAIN}}
    with override_settings(STORAGES=plain):
        return {
            name: timed(client, url, max(3, requests // 5) if ".csv" in url else requests)
            for name, url in pages(seeded, cursor).items()
        }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=20)
    args = parser.parse_args()
    url = common.database_fresh(DB)
    environment = common.env(database_url=url)
    _migrate(environment)
    for app, migration in BEFORE:
        _migrate(environment, app, migration)
    common.apply_env(database_url=url)
    from django.db import connections

    started = time.monotonic()
    seeded = seed(args.invoices)
    seconds = round(time.monotonic() - started, 1)
    depth = args.invoices // 2
    cursor = _deep_cursor(seeded, depth)
    without = measure(seeded, cursor, args.requests)
    connections.close_all()
    _migrate(environment)  # the workspace's indexes
    with_indexes = measure(seeded, cursor, args.requests)
    keyset = _keyset_page(seeded, cursor, args.requests)
    offset = _offset_page(seeded, depth, args.requests)
    common.record(
        "workspace",
        {
            "invoices": args.invoices,
            "organisations": len(ORGANISATIONS),
            "contacts": seeded["contacts"],
            "messages": seeded["messages"],
            "seed_seconds": seconds,
            "requests_per_page": args.requests,
            "pages": {
                name: {
                    **figures,
                    "without_indexes_p50_ms": without[name]["p50_ms"],
                    "without_indexes_p95_ms": without[name]["p95_ms"],
                    "ratio_p50": round(without[name]["p50_ms"] / max(figures["p50_ms"], 0.1), 1),
                }
                for name, figures in with_indexes.items()
            },
            "deep_page_query": {
                "row": depth,
                "keyset_p50_ms": keyset["p50_ms"],
                "keyset_p95_ms": keyset["p95_ms"],
                "offset_p50_ms": offset["p50_ms"],
                "offset_p95_ms": offset["p95_ms"],
            },
        },
    )


if __name__ == "__main__":
    main()
