"""Messages and pauses written before they kept their organisation take it, at the migration,
from their invoice (else their contact) as Dunwell last saw it in Xero."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [
    ("messaging", "0007_indexes_for_the_invoices_page"),
    ("billing_events", "0009_payment_promises"),
]
AFTER = [
    ("messaging", "0008_organisation_on_messages"),
    ("billing_events", "0010_organisation_on_pauses"),
]


def _migrate(targets):
    """Migrate messaging and billing_events to `targets`, every other app to its latest."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    named = {app for app, _ in targets}
    targets = targets + [n for n in executor.loader.graph.leaf_nodes() if n[0] not in named]
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_old_messages_and_pauses_take_the_organisation_of_their_invoice_or_contact():
    apps = _migrate(BEFORE)
    tenant = apps.get_model("connections", "Tenant").objects.create(name="Old", slug="old")
    invoices = apps.get_model("snapshots", "InvoiceSnapshot").objects
    contacts = apps.get_model("snapshots", "ContactSnapshot").objects
    invoices.create(tenant=tenant, xero_tenant_id="org-au", invoice_id="i-1", type="ACCREC",
                    status="AUTHORISED")  # fmt: skip
    contacts.create(tenant=tenant, xero_tenant_id="org-uk", contact_id="c-2")
    messages = apps.get_model("messaging", "Message").objects
    for n, (invoice_id, contact_id) in enumerate([("i-1", "c-1"), ("", "c-2"), ("", "")]):
        messages.create(tenant=tenant, kind="invoice_issued", channel="sms", dedup_key=f"k{n}",
                        invoice_id=invoice_id, contact_id=contact_id)  # fmt: skip
    pauses = apps.get_model("billing_events", "ReminderPause").objects
    pauses.create(tenant=tenant, invoice_id="i-1")
    pauses.create(tenant=tenant, contact_id="c-2")

    apps = _migrate(AFTER)

    messages = apps.get_model("messaging", "Message").objects
    by_key = dict(messages.values_list("dedup_key", "xero_tenant_id"))
    assert by_key == {"k0": "org-au", "k1": "org-uk", "k2": ""}
    paused = apps.get_model("billing_events", "ReminderPause").objects.order_by("pk")
    assert list(paused.values_list("xero_tenant_id", flat=True)) == ["org-au", "org-uk"]
    _migrate([])
