"""Writes of what Dunwell last saw in Xero: one upsert for every kind of snapshot.

Contacts, invoices and credit notes are stored the same way: the row is locked, its new
values are decided against it, and it is inserted or updated unless the record fetched was older.
What the new values *mean* (who must be told what) is the caller's: `decide` returns it.
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Protocol

from django.db import transaction
from django.utils import timezone

from connections.selectors import connection_for_xero_tenant
from connections.xero import XeroClient
from snapshots.contacts import ContactCard
from snapshots.fields import contact_fields, is_stale
from snapshots.models import ContactSnapshot, Snapshot
from snapshots.segment_sync import segments_learn
from snapshots.selectors import contact_card_find


class Decision(Protocol):
    """What `decide` returns: the snapshot's new field values, None when the record is stale."""

    fields: dict | None


def snapshot_upsert[D: Decision](
    *,
    model: type[Snapshot],
    tenant,
    xero_tenant_id: str,
    ids: dict,
    decide: Callable[[Snapshot | None], D],
) -> tuple[Snapshot | None, D]:
    """Lock the snapshot of one record (None: never seen), ask `decide` what it becomes, and
    save that. Returns the snapshot as saved (the previous one when the decision is stale) and
    the decision.

    The row lock serialises a webhook batch and a poll that carry the same record: the second
    one decides against what the first one wrote. Run it inside the caller's transaction, which
    holds the lock until whatever the decision leads to is done.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("snapshot_upsert() runs inside the caller's transaction.atomic().")
    previous = (
        model.objects.select_for_update().filter(xero_tenant_id=xero_tenant_id, **ids).first()
    )
    decision = decide(previous)
    if decision.fields is None:
        return previous, decision
    now = timezone.now()
    if previous is None:
        snapshot = model.objects.create(
            tenant=tenant,
            xero_tenant_id=xero_tenant_id,
            **ids,
            **decision.fields,
            first_seen_at=now,
            last_seen_at=now,
        )
        return snapshot, decision
    for name, value in decision.fields.items():
        setattr(previous, name, value)
    previous.last_seen_at = now
    previous.save()
    return previous, decision


def snapshots_insert_new(
    *,
    model: type[Snapshot],
    tenant,
    xero_tenant_id: str,
    id_field: str,
    fields_by_id: dict[str, Callable[[], dict]],
) -> set[str]:
    """Insert together the snapshots of records Dunwell has never seen — the import's usual case,
    where a row-locked transaction per record (~20 ms each, bench/RESULTS.md) made a few thousand
    open invoices outlast the task's 60 s timeout. `fields_by_id` gives each record's field
    values, computed only for the new ones. Returns the ids that already had a snapshot, for the
    row-locked path. One inserted meanwhile by a webhook batch is kept (unique constraint)."""
    known = set(
        model.objects.filter(xero_tenant_id=xero_tenant_id).values_list(id_field, flat=True)
    )
    now = timezone.now()
    model.objects.bulk_create(
        [
            model(
                tenant=tenant,
                xero_tenant_id=xero_tenant_id,
                **{id_field: record_id},
                **fields_of(),
                first_seen_at=now,
                last_seen_at=now,
            )
            for record_id, fields_of in fields_by_id.items()
            if record_id not in known
        ],
        ignore_conflicts=True,
    )
    return known & set(fields_by_id)


@dataclass(frozen=True)
class _ContactFetched:
    fields: dict | None  # None: Dunwell already holds a newer one


def _contact_decide(xero_contact: dict, countries: dict, previous) -> _ContactFetched:
    fields = contact_fields(xero_contact, **countries)
    return _ContactFetched(None if is_stale(previous, fields["updated_date_utc"]) else fields)


def contact_refresh(*, tenant, contact_id: str) -> ContactCard | None:
    """The contact as Xero has it now, for a resend after a wrong number: one GET Contacts?IDs=
    within the organisation's call budget, stored through the same upsert as webhooks and the
    poll. None when Dunwell has never seen the contact or its organisation is not connected.
    Raises XeroError (a spent budget is a 429); call it outside any transaction (XeroClient)."""
    snapshot = (
        ContactSnapshot.objects.filter(tenant=tenant, contact_id=contact_id)
        .order_by("-last_seen_at", "-pk")
        .first()
    )
    connection = snapshot and connection_for_xero_tenant(snapshot.xero_tenant_id)
    if connection is None or connection.tenant_id != tenant.pk:
        return None
    # A person is waiting for the answer: one retry at most, not a task's patience.
    contacts = XeroClient(connection, max_retries=1).get_contacts(ids=[contact_id])
    # Local phone numbers are read as the webhook path reads them (billing_events' records).
    countries = {
        "organisation_country": connection.country_code,
        "tenant_country": tenant.default_country,
    }
    for xero_contact in contacts:
        with transaction.atomic():
            snapshot_upsert(
                model=ContactSnapshot,
                tenant=tenant,
                xero_tenant_id=connection.xero_tenant_id,
                ids={"contact_id": xero_contact["ContactID"]},
                decide=partial(_contact_decide, xero_contact, countries),
            )
    segments_learn(connection=connection, contacts=contacts)
    return contact_card_find(tenant=tenant, contact_id=contact_id)
