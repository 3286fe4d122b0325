"""The webhook's two statements: write a delivery with its events, and ask which organisations
already have a kick on its way. Written as SQL rather than through the ORM, on purpose.

The webhook is the one request Xero times (5 s) and the benchmark holds to a p99 of 50 ms at
200 requests a second on two cores. Through the ORM, routing plus these statements
cost ~10 ms of CPU per request there, most of it composing SQL and the transaction around it;
written out, ~3 ms (bench/RESULTS.md "Webhook ingest").

On PostgreSQL the delivery and its events are one statement of fixed text: a data-modifying
WITH, with the events as one JSON parameter (so one commit, no BEGIN round trip, and no
per-value quoting in the driver, which was a third of the insert's CPU). SQLite has no such
WITH: there it is two statements in a transaction, each value through its field's
`get_db_prep_save` as the ORM would store it.
"""

import json
from datetime import datetime

from django.db import connection, transaction

from billing_events.models import XeroDelivery, XeroEvent

# SQLite only: Xero sends a handful of events per delivery; a forged or odd one with thousands
# is split so that no statement passes SQLite's 32,766 bound values.
ROWS_PER_STATEMENT = 500

# The events are one JSON array, its keys the column names (claim_token and processed_at are
# left NULL); the statement's text never changes, so the driver parses it once.
_STORE_POSTGRESQL = """
WITH delivery AS (
    INSERT INTO billing_events_xerodelivery
        (raw_body, first_event_sequence, last_event_sequence, received_at)
    VALUES (%s, %s, %s, %s)
    RETURNING id
)
INSERT INTO billing_events_xeroevent (
    delivery_id, tenant_id, xero_tenant_id, event_category, event_type, resource_id,
    resource_url, event_date, event_data, status, attempts, last_error, received_at,
    next_attempt_at
)
SELECT
    delivery.id, tenant_id, xero_tenant_id, event_category, event_type, resource_id,
    resource_url, event_date, event_data, status, attempts, last_error, received_at,
    next_attempt_at
FROM delivery, jsonb_populate_recordset(NULL::billing_events_xeroevent, %s::jsonb)
"""


def _timestamp(value):
    # Full precision: the kick check compares these to the microsecond.
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")


def _insert_sql(model, rows: list[dict]) -> tuple[str, list]:
    """INSERT of `rows` (field attname → value, the same names in each row)."""
    quote = connection.ops.quote_name
    fields = [model._meta.get_field(name) for name in rows[0]]
    row_sql = "(" + ", ".join(["%s"] * len(fields)) + ")"
    params = [
        field.get_db_prep_save(row[field.attname], connection) for row in rows for field in fields
    ]
    # Only the models' own names and placeholders go into the text; every value is bound.
    table, columns = quote(model._meta.db_table), ", ".join(quote(f.column) for f in fields)
    sql = f"INSERT INTO {table} ({columns}) VALUES {', '.join([row_sql] * len(rows))}"  # noqa: S608
    return sql, params


def inbox_insert(*, delivery: dict, events: list[dict]) -> None:
    """Store one delivery and its events (column → value), committed together, or in the
    caller's transaction."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                _STORE_POSTGRESQL,
                [
                    delivery["raw_body"],
                    delivery["first_event_sequence"],
                    delivery["last_event_sequence"],
                    delivery["received_at"],
                    json.dumps(events, default=_timestamp),
                ],
            )
        return
    delivery_sql, delivery_params = _insert_sql(XeroDelivery, [delivery])
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"{delivery_sql} RETURNING id", delivery_params)
        (delivery_id,) = cursor.fetchone()
        for start in range(0, len(events), ROWS_PER_STATEMENT):
            rows = events[start : start + ROWS_PER_STATEMENT]
            cursor.execute(
                *_insert_sql(XeroEvent, [{**row, "delivery_id": delivery_id} for row in rows])
            )


# One probe of the partial index `xeroevent_pending` per organisation, whatever the planner
# believes: as EXISTS, PostgreSQL made it a join, and with statistics older than a burst it
# hashed every pending event of every organisation (25 ms at 36,000 pending; here ~0.1 ms).
# The status is written into the text, not bound, so that the partial index applies.
_EVENTS_DUE = """
SELECT v.column1 FROM (VALUES {ids}) AS v
WHERE (
    SELECT 1 FROM billing_events_xeroevent AS e
    WHERE e.status = 'pending' AND e.xero_tenant_id = v.column1 AND e.next_attempt_at < %s
    LIMIT 1
) = 1
"""


def xero_tenants_with_events_due(xero_tenant_ids, *, received_before) -> set[str]:
    """Of these organisations, those with due, unclaimed events received before the moment."""
    ids = sorted(xero_tenant_ids)
    if not ids:
        return set()
    sql = _EVENTS_DUE.format(ids=", ".join(["(%s)"] * len(ids)))
    due = XeroEvent._meta.get_field("next_attempt_at")
    moment = due.get_db_prep_save(received_before, connection)
    with connection.cursor() as cursor:
        cursor.execute(sql, [*ids, moment])
        return {xero_tenant_id for (xero_tenant_id,) in cursor.fetchall()}
