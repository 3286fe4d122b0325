"""Searching the Invoices page by a part of an invoice number or a contact's name ("contains",
Django's icontains: UPPER(col) LIKE UPPER('%…%')) reads a trigram index on PostgreSQL instead of
every row. It needs the pg_trgm extension: where the database user may not create it, the
indexes are left out and search still works, by scanning."""

from django.db import migrations

INDEXES = {
    "invoicesnapshot_number_trgm": (
        "billing_events_invoicesnapshot", 'UPPER("number"::text) gin_trgm_ops', "type = 'ACCREC'"
    ),
    "contactsnapshot_name_trgm": (
        "billing_events_contactsnapshot", 'UPPER("name"::text) gin_trgm_ops', ""
    ),
}


def trigram_indexes_create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        if cursor.fetchone() is None:
            try:
                cursor.execute("SAVEPOINT trgm")
                cursor.execute("CREATE EXTENSION pg_trgm")
            except Exception:  # no privilege: search scans instead (see the docstring)
                cursor.execute("ROLLBACK TO SAVEPOINT trgm")
                return
        for name, (table, expression, condition) in INDEXES.items():
            where = f" WHERE {condition}" if condition else ""
            cursor.execute(
                f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" USING gin ({expression}){where}'
            )


def trigram_indexes_drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for name in INDEXES:
            cursor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):
    dependencies = [("snapshots", "0003_indexes_for_the_invoices_page")]

    operations = [migrations.RunPython(trigram_indexes_create, trigram_indexes_drop)]
