"""Operators see what Dunwell last saw in Xero in the admin, and cannot rewrite it."""

import pytest

from snapshots.models import ContactSnapshot, CreditNoteSnapshot, InvoiceSnapshot

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "model",
    [
        "invoicesnapshot",
        "creditnotesnapshot",
        "contactsnapshot",
        "xerocontactgroup",
        "xerotrackingoption",
    ],
)
def test_every_snapshots_admin_page_lists(operator_client, model):
    assert operator_client.get(f"/admin/snapshots/{model}/").status_code == 200


@pytest.mark.parametrize(
    ("model", "id_field", "fields"),
    [
        (InvoiceSnapshot, "invoice_id", {"type": "ACCREC", "status": "AUTHORISED"}),
        (CreditNoteSnapshot, "credit_note_id", {"type": "ACCRECCREDIT", "status": "AUTHORISED"}),
        (ContactSnapshot, "contact_id", {"name": "Aroha Ngata"}),
    ],
)
def test_snapshots_cannot_be_edited_deleted_or_added(
    operator_client, tenant_a, model, id_field, fields
):
    snapshot = model.objects.create(
        tenant=tenant_a, xero_tenant_id="org-a", **{id_field: "x-1"}, **fields
    )
    changelist = f"/admin/snapshots/{model._meta.model_name}/"
    assert operator_client.get(f"{changelist}{snapshot.pk}/change/").status_code == 200
    edit = operator_client.post(f"{changelist}{snapshot.pk}/change/", {id_field: "x-2"})
    assert edit.status_code == 403
    delete = operator_client.post(f"{changelist}{snapshot.pk}/delete/", {"post": "yes"})
    assert delete.status_code == 403
    assert operator_client.get(f"{changelist}add/").status_code == 403
    snapshot.refresh_from_db()
    assert getattr(snapshot, id_field) == "x-1"
