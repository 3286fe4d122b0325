"""Writes of what Dunwell last saw in Xero: one upsert for every kind of snapshot.

Contacts, invoices and credit notes are stored the same way: the row is locked, its new
values are decided against it, and it is inserted or updated unless the record fetched was older.
What the new values *mean* (who must be told what) is the caller's: `decide` returns it.
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Protocol

from django.db import IntegrityError, transaction
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


# A record never seen has no row to lock: two workers may both decide it new. The second
# insert fails on the unique constraint, and its batch is decided again against the first's row.
INSERT_RACE_RETRIES = 3


def snapshots_upsert[D: Decision](
    *,
    model: type[Snapshot],
    tenant,
    xero_tenant_id: str,
    id_field: str,
    decide: dict[str, Callable[[Snapshot | None], D]],
) -> list[tuple[Snapshot | None, D]]:
    """Lock the snapshots of some records (by id; None: never seen), ask each record's `decide`
    what its snapshot becomes, and save that. Returns, in the order of `decide`, each snapshot
    as saved (the previous one when the decision is stale) and its decision.

    The row locks serialise a webhook batch and a poll that carry the same record: the second
    one decides against what the first one wrote. Rows are locked in id order, so two batches
    never wait for each other in a circle. A record two workers both found new is inserted by
    one; the other decides again against that row (`decide` must have no side effects). Run it
    inside the caller's transaction, which holds the locks until whatever the decisions lead to
    is done. A handful of statements whatever the size of the batch: lock and read, insert the
    new (in a savepoint), update the changed, touch the unchanged.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("snapshots_upsert() runs inside the caller's transaction.atomic().")
    for attempt in range(1, INSERT_RACE_RETRIES + 1):
        locked = (
            model.objects.select_for_update()
            .filter(xero_tenant_id=xero_tenant_id, **{f"{id_field}__in": list(decide)})
            .order_by(id_field)
        )
        previous = {getattr(row, id_field): row for row in locked}
        results = [
            (previous.get(record_id), d(previous.get(record_id))) for record_id, d in decide.items()
        ]
        now = timezone.now()
        new = [
            model(
                tenant=tenant,
                xero_tenant_id=xero_tenant_id,
                **{id_field: record_id},
                **decision.fields,
                first_seen_at=now,
                last_seen_at=now,
            )
            for record_id, (before, decision) in zip(decide, results, strict=True)
            if before is None and decision.fields is not None
        ]
        try:
            if new:
                with transaction.atomic():
                    model.objects.bulk_create(new)
            break
        except IntegrityError:
            if attempt == INSERT_RACE_RETRIES:
                raise
    inserted = iter(new)
    saved = []
    for before, decision in results:
        if decision.fields is None:
            saved.append((before, decision))
        elif before is None:
            saved.append((next(inserted), decision))
        else:
            saved.append((before, decision))
    _update(model, [(b, d.fields) for b, d in results if b is not None and d.fields is not None])
    return saved


def _update(model, rows: list[tuple[Snapshot, dict]]) -> None:
    """Save new values onto locked snapshots. Most records fetched again are as they were (the
    sweep's re-check): only their last_seen_at moves, in one plain UPDATE; bulk_update's CASE
    per field and row is for the few that changed."""
    now = timezone.now()
    changed, seen, fields = [], [], set()
    for snapshot, values in rows:
        differ = {name for name, value in values.items() if getattr(snapshot, name) != value}
        for name in differ:
            setattr(snapshot, name, values[name])
        snapshot.last_seen_at = now
        (changed if differ else seen).append(snapshot)
        fields |= differ
    if seen:
        model.objects.filter(pk__in=[snapshot.pk for snapshot in seen]).update(last_seen_at=now)
    if changed:
        model.objects.bulk_update(changed, sorted(fields | {"last_seen_at"}))


def snapshot_upsert[D: Decision](
    *,
    model: type[Snapshot],
    tenant,
    xero_tenant_id: str,
    ids: dict,
    decide: Callable[[Snapshot | None], D],
) -> tuple[Snapshot | None, D]:
    """snapshots_upsert for one record, `ids` its {id field: id}."""
    [(id_field, record_id)] = ids.items()
    [result] = snapshots_upsert(
        model=model,
        tenant=tenant,
        xero_tenant_id=xero_tenant_id,
        id_field=id_field,
        decide={record_id: decide},
    )
    return result


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
