"""The webhook's two statements: write a delivery with its events, and ask which organisations
already have a kick on its way. Written as SQL rather than through the ORM, on purpose.

The webhook is the one request Xero times (5 s) and the benchmark holds to a p99 of 50 ms at
200 requests a second on two cores (issue #10). Through the ORM, routing plus these statements
cost ~10 ms of CPU per request there, most of it composing SQL and the transaction around it;
written out, ~3 ms (bench/RESULTS.md "Webhook ingest"). Values still go through each field's
`get_db_prep_save`, so dates, JSON and bytes are stored exactly as the ORM would store them.

On PostgreSQL the delivery and its events are one statement (a data-modifying WITH), so one
commit and no BEGIN round trip; SQLite has no such WITH and takes two in a transaction.
"""

from django.db import connection, transaction

from billing_events.models import XeroDelivery, XeroEvent

# Xero sends a handful of events per delivery; a forged or odd one with thousands is split so
# that no statement passes SQLite's 32,766 bound values.
ROWS_PER_STATEMENT = 500


def _insert_sql(model, rows: list[dict], *, expressions: dict[str, str]) -> tuple[str, list]:
    """INSERT of `rows` (field attname → value, the same names in each row); `expressions` are
    columns given as SQL instead of a value."""
    quote = connection.ops.quote_name
    fields = [model._meta.get_field(name) for name in rows[0]]
    columns = [quote(field.column) for field in fields] + [quote(name) for name in expressions]
    row_sql = "(" + ", ".join(["%s"] * len(fields) + list(expressions.values())) + ")"
    params = [
        field.get_db_prep_save(row[field.attname], connection) for row in rows for field in fields
    ]
    # Only the models' own names and placeholders go into the text; every value is bound.
    table, values = quote(model._meta.db_table), ", ".join([row_sql] * len(rows))
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES {values}"  # noqa: S608
    return sql, params


def inbox_insert(*, delivery: dict, events: list[dict]) -> None:
    """Store one delivery and its events, committed together (or in the caller's transaction)."""
    delivery_sql, delivery_params = _insert_sql(XeroDelivery, [delivery], expressions={})
    if connection.vendor == "postgresql" and 0 < len(events) <= ROWS_PER_STATEMENT:
        events_sql, events_params = _insert_sql(
            XeroEvent, events, expressions={"delivery_id": "(SELECT id FROM delivery)"}
        )
        with connection.cursor() as cursor:
            cursor.execute(
                f"WITH delivery AS ({delivery_sql} RETURNING id) {events_sql}",
                delivery_params + events_params,
            )
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"{delivery_sql} RETURNING id", delivery_params)
        (delivery_id,) = cursor.fetchone()
        for start in range(0, len(events), ROWS_PER_STATEMENT):
            rows = [
                {**event, "delivery_id": delivery_id}
                for event in events[start : start + ROWS_PER_STATEMENT]
            ]
            cursor.execute(*_insert_sql(XeroEvent, rows, expressions={}))


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
    moment = XeroEvent._meta.get_field("received_at").get_db_prep_save(received_before, connection)
    with connection.cursor() as cursor:
        cursor.execute(sql, [*ids, moment])
        return {xero_tenant_id for (xero_tenant_id,) in cursor.fetchall()}
