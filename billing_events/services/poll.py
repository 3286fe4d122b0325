"""The initial import of a newly connected organisation and the reconciliation poll that
catches what webhooks missed (If-Modified-Since), segments included.
"""

import logging
from datetime import datetime, timedelta

from django.db.models import F
from django.utils import timezone

from billing_events.models import OrganisationSync
from billing_events.services.records import _records_apply, _retry_delay, _sync_for
from connections.services import organisation_refresh
from connections.xero import XeroClient, XeroError
from connections.xero_format import parse_xero_date
from snapshots.segment_sync import segments_refresh

logger = logging.getLogger(__name__)


# Tracking categories and contact groups cost a GET each (snapshots/segment_sync.py): fetched
# this often by the poll, sooner when a record names an option never seen.
SEGMENTS_REFRESH_EVERY = timedelta(hours=6)
SEGMENTS_RETRY_AFTER = timedelta(minutes=30)


def segments_refresh_if_due(*, connection, client: XeroClient, sync: OrganisationSync) -> None:
    """The poll's part: refresh when due, with the organisation's name, country, zone and
    currency. A failure is retried later and never fails the poll (invoices matter more than
    segments, which fall back to the default meanwhile)."""
    if sync.segments_refresh_due_at is not None and sync.segments_refresh_due_at > timezone.now():
        return
    try:
        # The organisation's own details ride along (one GET more every few hours).
        organisation_refresh(connection=connection, client=client)
        segments_refresh(connection=connection, client=client)
    except Exception as error:
        logger.warning(
            "segments refresh failed tenant=%s xero_tenant_id=%s error=%s",
            connection.tenant_id,
            connection.xero_tenant_id,
            type(error).__name__,
        )
        OrganisationSync.objects.filter(pk=sync.pk).update(
            segments_refresh_due_at=timezone.now() + SEGMENTS_RETRY_AFTER
        )
        return
    now = timezone.now()
    OrganisationSync.objects.filter(xero_tenant_id=connection.xero_tenant_id).update(
        segments_synced_at=now, segments_refresh_due_at=now + SEGMENTS_REFRESH_EVERY
    )


def connection_initial_import(*, connection) -> int:
    """Snapshot the contacts and open sales invoices of a newly connected organisation,
    announcing nothing.

    Called by the connections code after attaching an organisation (and by the first poll or
    event batch if it was not). Payments and credit notes dated before today are then treated
    as the past. Returns how many invoices were imported; 0 if the import was done before.
    """
    sync = _sync_for(connection=connection)
    if sync.imported_at is not None:
        return 0
    started = timezone.now()
    client = XeroClient(connection)
    # Open = AUTHORISED (there is no OVERDUE status, FACTS.md "Xero: accounting API").
    invoices = client.get_invoices(statuses=["AUTHORISED"], where='Type=="ACCREC"')
    # Every contact, 100 a page, once: event batches then find their customers snapshotted and
    # spend their one call on the invoices alone (a GET /Contacts?IDs= per batch was half the
    # calls, bench/RESULTS.md); CONTACT webhooks and the poll's If-Modified-Since keep them fresh.
    contacts = client.get_contacts()
    # An invoice changed after the organisation was connected is news, not the past: the import
    # may run minutes later (lazily, from the first event batch or poll), and must not swallow
    # an approval that happened in between. Those are left to the first poll, which starts from
    # the moment of connection, and to the event batch that is waiting for this import.
    connected_at = connection.connected_at
    past = [
        invoice
        for invoice in invoices
        if (parse_xero_date(invoice.get("UpdatedDateUTC")) or started) < connected_at
    ]
    _records_apply(
        connection=connection,
        client=client,
        sync=sync,
        invoices=past,
        contacts=contacts,
        quiet=True,
    )
    # The lists are due on a sync that never had them: fetched now, a new organisation's
    # tracking options and groups can be targeted at once, not only after the first poll.
    segments_refresh_if_due(connection=connection, client=client, sync=sync)
    OrganisationSync.objects.filter(pk=sync.pk).update(
        imported_at=started,
        last_polled_at=min(started, connected_at),
        next_poll_at=started + timedelta(minutes=sync.poll_interval_minutes),
    )
    return len(past)


def _invoice_ids_of_payments(payments) -> set[str]:
    return {
        payment["Invoice"]["InvoiceID"]
        for payment in payments
        if (payment.get("Invoice") or {}).get("InvoiceID") and payment.get("Status") != "DELETED"
    }


def _newest_change(records) -> datetime | None:
    """The latest UpdatedDateUTC among fetched records (a malformed date is no evidence)."""
    newest = None
    for record in records:
        try:
            updated = parse_xero_date(record.get("UpdatedDateUTC"))
        except ValueError:
            continue
        if updated and (newest is None or updated > newest):
            newest = updated
    return newest


def connection_poll(*, connection) -> None:
    """Ask Xero for everything changed since the last successful poll: missed webhooks lose
    nothing. There is no payment webhook (FACTS.md), so GET /Payments is the safety net, and a
    payment's invoice is fetched by id when the invoice list did not carry it."""
    sync = _sync_for(connection=connection)
    started = timezone.now()
    since = sync.last_polled_at
    try:
        if sync.imported_at is None:
            # A failed import is retried like a failed poll, not raised out of the task.
            connection_initial_import(connection=connection)
            return
        client = XeroClient(connection)
        contacts = client.get_contacts(modified_since=since)
        invoices = client.get_invoices(modified_since=since)
        credit_notes = client.get_credit_notes(modified_since=since)
        missing = _invoice_ids_of_payments(client.get_payments(modified_since=since)) - {
            invoice["InvoiceID"] for invoice in invoices
        }
        if missing:
            invoices = [*invoices, *client.get_invoices(ids=sorted(missing))]
        _records_apply(
            connection=connection,
            client=client,
            sync=sync,
            invoices=invoices,
            credit_notes=credit_notes,
            contacts=contacts,
        )
        sync.refresh_from_db()
        segments_refresh_if_due(connection=connection, client=client, sync=sync)
    except Exception as error:
        logger.warning(
            "xero poll failed tenant=%s xero_tenant_id=%s error=%s",
            connection.tenant_id,
            connection.xero_tenant_id,
            type(error).__name__,
            exc_info=not isinstance(error, XeroError),
        )
        OrganisationSync.objects.filter(pk=sync.pk).update(
            attempts=F("attempts") + 1,
            last_error=f"{type(error).__name__}: {error}"[:2000],
            next_poll_at=timezone.now() + _retry_delay(sync.attempts + 1),
        )
        return
    # Kept so alerts can tell "Xero changed things and no webhook came" from a quiet organisation.
    newest = _newest_change([*contacts, *invoices, *credit_notes])
    if sync.newest_change_at and (newest is None or newest < sync.newest_change_at):
        newest = sync.newest_change_at
    OrganisationSync.objects.filter(pk=sync.pk).update(
        last_polled_at=started,
        attempts=0,
        last_error="",
        next_poll_at=started + timedelta(minutes=sync.poll_interval_minutes),
        newest_change_at=newest,
    )


def invoices_apply(
    *, connection, client: XeroClient, invoices: list[dict], contact_ids=frozenset()
) -> None:
    """Feed invoices fetched elsewhere (the reminder sweep's re-check) through the transitions:
    snapshots are updated, a payment is announced and a paid invoice's reminders cancelled.
    `contact_ids` are fetched and snapshotted too (contacts the snapshots lack)."""
    _records_apply(
        connection=connection,
        client=client,
        sync=_sync_for(connection=connection),
        invoices=invoices,
        contact_ids=contact_ids,
    )
