"""Writes for Xero events: store the inbox, process it per organisation, reconcile by polling.

The database is the truth (ARCHITECTURE.md "Background work"): every event is a row with its own
attempts / next_attempt_at / last_error, claimed with a conditional UPDATE; tasks are only kicks.
"Never twice" rests on two things: transitions are decided against the stored snapshot under a
row lock, and every notification carries a dedup key that messaging's unique constraint enforces.
"""

import json
import logging
import re
import uuid
from collections import defaultdict
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.db import connection as db_connection
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django_q.tasks import async_task

from billing_events.inbox import inbox_insert, xero_tenants_with_events_due
from billing_events.models import (
    ContactSnapshot,
    CreditNoteSnapshot,
    InvoiceSnapshot,
    OrganisationSync,
    XeroEvent,
)
from billing_events.payment_links import invoice_pay_url
from billing_events.segment_sync import segments_learn, segments_refresh_if_due
from billing_events.selectors import contact_card, invoice_tracking
from billing_events.transitions import (
    Notification,
    contact_fields,
    contact_transitions,
    credit_note_transitions,
    invoice_transitions,
)
from connections.selectors import tenant_ids_for_xero_tenants
from connections.xero import XeroClient, XeroError
from connections.xero_format import parse_xero_date
from messaging.contacts import ContactCard
from messaging.services import messages_cancel, notify

logger = logging.getLogger(__name__)

# Categories are compared case-insensitively (FACTS.md "Xero: webhooks"); SUBSCRIPTION events
# (App Store only) and anything new are stored for audit and ignored.
INVOICE, CREDITNOTE, CONTACT = "INVOICE", "CREDITNOTE", "CONTACT"
HANDLED_CATEGORIES = frozenset({INVOICE, CREDITNOTE, CONTACT})

# A claimed batch is invisible to other workers for this long; a worker killed mid-batch leaves
# it to the once-a-minute requeue after that (longer than Q_CLUSTER timeout 60 s).
CLAIM_LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 10
FIRST_RETRY = timedelta(seconds=30)
LONGEST_RETRY = timedelta(hours=1)
# How long one task keeps taking batches of an organisation that keeps receiving events.
DRAIN_FOR = timedelta(seconds=20)

PROCESS_TASK = "billing_events.tasks.events_process_task"
NO_CONNECTION = "No active connection for this tenantId."


class MalformedDelivery(ValueError):
    """Correctly signed, but not the JSON object Xero sends."""


def _retry_delay(attempts: int) -> timedelta:
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LONGEST_RETRY)


# The columns are 64-bit: a larger number (only a forged or broken body has one) would be a 500.
_SEQUENCE_MAX = 2**63 - 1


def _sequence(value) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= _SEQUENCE_MAX:
        return value
    return 0


def _event_date(value):
    try:
        return parse_xero_date(value) if isinstance(value, str) else None
    except ValueError:
        return None


def events_kick(*, xero_tenant_id: str) -> None:
    async_task(PROCESS_TASK, xero_tenant_id)


def _kicks(xero_tenant_ids: list[str]) -> None:
    # On the ORM broker every kick is an INSERT: one transaction for all of them costs one
    # commit instead of one per organisation (bench/RESULTS.md "Webhook ingest").
    with transaction.atomic():
        if settings.Q_CLUSTER.get("orm") and db_connection.vendor == "postgresql":
            # A kick is not state (the minute requeue re-kicks due events), so it need not wait
            # for its own WAL flush; the events it points at were committed durably already.
            with db_connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        for xero_tenant_id in xero_tenant_ids:
            events_kick(xero_tenant_id=xero_tenant_id)


def _kicks_unless_pending(xero_tenant_ids: set[str], *, stored_at) -> None:
    """Kick the organisations that have no due, unclaimed events stored before `stored_at`.

    For the others a kick is on its way (their own delivery's, or the minute requeue's), and the
    task it starts claims every due event of the organisation, ours included: a claim that was
    already running when ours committed is followed by another (events_drain). The order is
    strict, so of deliveries racing each other the earliest always kicks. A burst for one
    organisation then costs one queued task, not one per delivery: the kicks were a third of the
    webhook's time (bench/RESULTS.md "Webhook ingest").
    """
    pending = xero_tenants_with_events_due(xero_tenant_ids, received_before=stored_at)
    if xero_tenant_ids - pending:
        _kicks(sorted(xero_tenant_ids - pending))


def _kick_on_commit(xero_tenant_ids, *, stored_at=None) -> None:
    """Kick processing once committed; for events just stored (`stored_at`), only where no kick
    is pending already."""
    # robust: the events are committed already; a broker hiccup must not turn Xero's 200 into a
    # 500 (the minute schedule picks the events up anyway).
    if not xero_tenant_ids:
        return
    if stored_at is None:
        kick = partial(_kicks, sorted(xero_tenant_ids))
    else:
        kick = partial(_kicks_unless_pending, set(xero_tenant_ids), stored_at=stored_at)
    transaction.on_commit(kick, robust=True)


# JSON may escape half a surrogate pair ("\ud800"), which no database text column can hold.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _storable(value):
    """Strings as the database can hold them: a signed body carrying U+0000 (PostgreSQL text and
    jsonb refuse it) or a lone surrogate (not UTF-8 at all) was a 500. The raw body is kept as
    it came."""
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value.replace("\x00", ""))
    if isinstance(value, list):
        return [_storable(item) for item in value]
    if isinstance(value, dict):
        return {_storable(key): _storable(item) for key, item in value.items()}
    return value


def _not_json(constant: str):
    # Python's json accepts NaN and Infinity; JSON (and the jsonb / JSON_VALID columns) do not.
    raise ValueError(f"{constant} is not JSON")


def _parse_delivery(raw_body: bytes) -> dict:
    try:
        payload = _storable(json.loads(raw_body, parse_constant=_not_json))
    except (ValueError, RecursionError) as error:  # UnicodeDecodeError; "[[[[…" nested too deep
        raise MalformedDelivery("body is not JSON") from error
    if not isinstance(payload, dict) or not isinstance(payload.get("events"), list):
        raise MalformedDelivery("body has no events list")
    if not all(isinstance(event, dict) for event in payload["events"]):
        raise MalformedDelivery("an event is not an object")
    return payload


def _xero_tenant_id(event: dict) -> str:
    return str(event.get("tenantId") or "")


def _inbox_row(event: dict, tenant_ids: dict[str, int], *, received_at) -> dict:
    xero_tenant_id = _xero_tenant_id(event)
    category = str(event.get("eventCategory") or "").upper()
    tenant_id = tenant_ids.get(xero_tenant_id)
    resource_id = str(event.get("resourceId") or "")[:64]
    status, last_error = XeroEvent.Status.PENDING, ""
    if tenant_id is None:
        status, last_error = XeroEvent.Status.IGNORED, NO_CONNECTION
    elif category not in HANDLED_CATEGORIES or not resource_id:
        status, last_error = XeroEvent.Status.IGNORED, "Not an event Dunwell acts on."
    return {
        "tenant_id": tenant_id,
        "xero_tenant_id": xero_tenant_id[:64],
        "event_category": category[:32],
        "event_type": str(event.get("eventType") or "").upper()[:32],
        "resource_id": resource_id,
        "resource_url": str(event.get("resourceUrl") or "")[:500],
        "event_date": _event_date(event.get("eventDateUtc")),
        "event_data": event.get("data") if isinstance(event.get("data"), dict) else {},
        "status": status,
        "attempts": 0,
        "last_error": last_error,
        "received_at": received_at,
        # Due from the moment of receipt: which delivery came first is what decides the kicks.
        "next_attempt_at": received_at,
    }


def events_store(*, raw_body: bytes) -> None:
    """Keep the delivery byte for byte and every event in it, then kick processing on commit.

    Three statements in all, written out in billing_events/inbox.py: route, store, ask which
    organisations need a kick (and, rarely, the kicks themselves).
    """
    payload = _parse_delivery(raw_body)
    received_at = timezone.now()
    tenant_ids = tenant_ids_for_xero_tenants(
        {_xero_tenant_id(event) for event in payload["events"]} - {""}
    )
    events = [_inbox_row(event, tenant_ids, received_at=received_at) for event in payload["events"]]
    inbox_insert(
        delivery={
            "raw_body": raw_body,
            "first_event_sequence": _sequence(payload.get("firstEventSequence")),
            "last_event_sequence": _sequence(payload.get("lastEventSequence")),
            "received_at": received_at,
        },
        events=events,
    )
    pending = {e["xero_tenant_id"] for e in events if e["status"] == XeroEvent.Status.PENDING}
    _kick_on_commit(pending, stored_at=received_at)


def events_replay(*, events: QuerySet) -> int:
    """Put events back in the inbox. Safe: dedup keys make already-sent messages a no-op."""
    with transaction.atomic():
        xero_tenant_ids = set(events.values_list("xero_tenant_id", flat=True))
        count = events.update(
            status=XeroEvent.Status.PENDING,
            attempts=0,
            next_attempt_at=timezone.now(),
            last_error="",
            claim_token=None,
            processed_at=None,
        )
        _kick_on_commit(xero_tenant_ids)
    return count


def events_ignore_orphaned(*, xero_tenant_id: str) -> int:
    """Pending events of an organisation no longer connected: keep them, act on none."""
    return XeroEvent.objects.filter(
        xero_tenant_id=xero_tenant_id, status=XeroEvent.Status.PENDING
    ).update(
        status=XeroEvent.Status.IGNORED,
        last_error=NO_CONNECTION,
        claim_token=None,
    )


def _events_claim(*, connection) -> tuple[uuid.UUID, int]:
    token = uuid.uuid4()
    now = timezone.now()
    claimed = XeroEvent.objects.filter(
        xero_tenant_id=connection.xero_tenant_id,
        status=XeroEvent.Status.PENDING,
        next_attempt_at__lte=now,
    ).update(
        claim_token=token,
        tenant=connection.tenant,
        attempts=F("attempts") + 1,
        next_attempt_at=now + CLAIM_LEASE,
    )
    return token, claimed


def _events_fail(*, token: uuid.UUID, error: Exception) -> None:
    """Back off each claimed event by its own attempt count; give up after MAX_ATTEMPTS."""
    now = timezone.now()
    detail = f"{type(error).__name__}: {error}"[:2000]
    permanent = getattr(error, "permanent", False)
    # Xero's Retry-After (a spent day budget says hours) beats our own shorter backoff: asking
    # earlier would only be refused again by the client's budget.
    retry_after = timedelta(seconds=getattr(error, "retry_after", None) or 0)
    for event in XeroEvent.objects.filter(claim_token=token, status=XeroEvent.Status.PENDING):
        give_up = permanent or event.attempts >= MAX_ATTEMPTS
        event.status = XeroEvent.Status.FAILED if give_up else XeroEvent.Status.PENDING
        event.next_attempt_at = now + max(_retry_delay(event.attempts), retry_after)
        event.last_error = detail
        event.claim_token = None
        event.save(update_fields=["status", "next_attempt_at", "last_error", "claim_token"])


def events_process(*, connection) -> int:
    """Process this organisation's due events: one fetch per resource kind serves them all.

    Returns how many events were claimed. A failure backs off these events only; other
    organisations are processed by their own tasks and never wait for this one.
    """
    token, claimed = _events_claim(connection=connection)
    if not claimed:
        return 0
    ids: dict[str, set[str]] = defaultdict(set)
    events = XeroEvent.objects.filter(claim_token=token)
    for category, resource_id in events.values_list("event_category", "resource_id"):
        ids[category].add(resource_id)
    try:
        sync = _sync_for(connection=connection)
        if sync.imported_at is None:
            connection_initial_import(connection=connection)
            sync.refresh_from_db()
        client = XeroClient(connection)
        _records_apply(
            connection=connection,
            client=client,
            sync=sync,
            invoices=client.get_invoices(ids=sorted(ids[INVOICE])) if ids[INVOICE] else [],
            credit_notes=(
                client.get_credit_notes(ids=sorted(ids[CREDITNOTE])) if ids[CREDITNOTE] else []
            ),
            contact_ids=ids[CONTACT],
        )
    except Exception as error:  # every failure is recorded on the rows, then retried
        logger.warning(
            "xero events failed tenant=%s xero_tenant_id=%s error=%s",
            connection.tenant_id,
            connection.xero_tenant_id,
            type(error).__name__,
            exc_info=not isinstance(error, XeroError),
        )
        _events_fail(token=token, error=error)
        return claimed
    events.update(
        status=XeroEvent.Status.PROCESSED,
        processed_at=timezone.now(),
        last_error="",
        claim_token=None,
    )
    return claimed


def events_drain(*, connection) -> int:
    """Process the organisation's due events batch after batch, until a claim finds none.

    Deliveries that arrive meanwhile leave the kick to this task when they see events waiting
    before theirs (_organisations_with_a_kick_pending): the claim after each batch takes them.
    Past DRAIN_FOR a fresh kick takes over, so no task outlives Q_CLUSTER's timeout.
    """
    deadline = timezone.now() + DRAIN_FOR
    total = 0
    while claimed := events_process(connection=connection):
        total += claimed
        if timezone.now() >= deadline:
            events_kick(xero_tenant_id=connection.xero_tenant_id)
            break
    return total


def events_due_xero_tenant_ids() -> list[str]:
    return list(
        XeroEvent.objects.filter(
            status=XeroEvent.Status.PENDING, next_attempt_at__lte=timezone.now()
        )
        .values_list("xero_tenant_id", flat=True)
        .distinct()
        .order_by("xero_tenant_id")
    )


# --- snapshots and transitions ---------------------------------------------------------------


def _sync_for(*, connection) -> OrganisationSync:
    sync, _ = OrganisationSync.objects.get_or_create(
        xero_tenant_id=connection.xero_tenant_id, defaults={"tenant": connection.tenant}
    )
    return sync


def _snapshot_save(model, previous, lookup: dict, fields: dict):
    now = timezone.now()
    if previous is None:
        return model.objects.create(**lookup, **fields, first_seen_at=now, last_seen_at=now)
    for name, value in fields.items():
        setattr(previous, name, value)
    previous.last_seen_at = now
    previous.save()
    return previous


class _Organisation:
    """One organisation's records being applied: the snapshots read before, the cards to use."""

    def __init__(self, *, connection, sync: OrganisationSync, quiet: bool):
        self.connection = connection
        self.tenant = connection.tenant
        self.xero_tenant_id = connection.xero_tenant_id
        self.quiet = quiet
        self.notify_since = sync.imported_at.date() if sync.imported_at else None
        self.embedded_contacts: dict[str, dict] = {}
        # Reads local phone numbers, to place contacts without an address (FACTS.md "Contact").
        self.default_country = connection.country_code or self.tenant.default_country

    def lookup(self, **ids) -> dict:
        return {"tenant": self.tenant, "xero_tenant_id": self.xero_tenant_id, **ids}

    def snapshots(self, model, id_field: str, ids) -> dict:
        rows = model.objects.filter(xero_tenant_id=self.xero_tenant_id, **{f"{id_field}__in": ids})
        return {getattr(row, id_field): row for row in rows}

    # What a fetched record means against its snapshot (None: never seen), for the row-locked
    # path and the import's bulk insert alike.
    def contact_outcome(self, previous, xero_contact: dict):
        return contact_transitions(
            previous=previous, xero_contact=xero_contact, default_country=self.default_country
        )

    def invoice_outcome(self, previous, xero_invoice: dict):
        return invoice_transitions(
            previous=previous, xero_invoice=xero_invoice, notify_since=self.notify_since
        )

    def card(self, contact_id: str) -> ContactCard:
        snapshot = ContactSnapshot.objects.filter(
            xero_tenant_id=self.xero_tenant_id, contact_id=contact_id
        ).first()
        if snapshot is None:
            # The contact could not be fetched: the summary embedded in the invoice will do.
            embedded = self.embedded_contacts.get(contact_id, {})
            snapshot = ContactSnapshot(
                xero_tenant_id=self.xero_tenant_id,
                contact_id=contact_id,
                **contact_fields(embedded, default_country=self.default_country),
            )
        return contact_card(snapshot=snapshot)

    def send(self, notification: Notification, *, tracking=(), **extra_context) -> None:
        notify(
            tenant=self.tenant,
            kind=notification.kind,
            contact=self.card(notification.contact_id),
            context={
                **notification.context,
                "organisation_name": self.connection.name,
                **extra_context,
            },
            dedup_key=notification.dedup_key,
            invoice_id=notification.invoice_id,
            tracking=tracking,
        )


def _contact_apply(organisation: _Organisation, xero_contact: dict) -> None:
    contact_id = xero_contact["ContactID"]
    with transaction.atomic():
        previous = (
            ContactSnapshot.objects.select_for_update()
            .filter(xero_tenant_id=organisation.xero_tenant_id, contact_id=contact_id)
            .first()
        )
        outcome = organisation.contact_outcome(previous, xero_contact)
        if not outcome.stale:
            lookup = organisation.lookup(contact_id=contact_id)
            _snapshot_save(ContactSnapshot, previous, lookup, outcome.fields)


def _invoice_apply(organisation: _Organisation, xero_invoice: dict) -> None:
    invoice_id = xero_invoice["InvoiceID"]
    with transaction.atomic():
        # The row lock serialises a webhook batch and a poll that carry the same invoice: the
        # second one compares against what the first one wrote and finds nothing new.
        previous = (
            InvoiceSnapshot.objects.select_for_update()
            .filter(xero_tenant_id=organisation.xero_tenant_id, invoice_id=invoice_id)
            .first()
        )
        outcome = organisation.invoice_outcome(previous, xero_invoice)
        if outcome.stale:
            return
        snapshot = _snapshot_save(
            InvoiceSnapshot, previous, organisation.lookup(invoice_id=invoice_id), outcome.fields
        )
        if organisation.quiet:
            return
        if outcome.cancel_reminders:
            messages_cancel(
                tenant=organisation.tenant,
                dedup_prefix=f"invoice:{invoice_id}:reminder:",
                reason=f"Invoice is {snapshot.status} in Xero.",
            )
        if outcome.notifications:
            pay_url = invoice_pay_url(snapshot=snapshot)
            tracking = invoice_tracking(snapshot=snapshot)
        for notification in outcome.notifications:
            organisation.send(notification, tracking=tracking, online_invoice_url=pay_url)


def _credit_note_apply(organisation: _Organisation, xero_credit_note: dict) -> None:
    credit_note_id = xero_credit_note["CreditNoteID"]
    with transaction.atomic():
        previous = (
            CreditNoteSnapshot.objects.select_for_update()
            .filter(xero_tenant_id=organisation.xero_tenant_id, credit_note_id=credit_note_id)
            .first()
        )
        outcome = credit_note_transitions(
            previous=previous,
            xero_credit_note=xero_credit_note,
            notify_since=organisation.notify_since,
        )
        if outcome.stale:
            return
        lookup = organisation.lookup(credit_note_id=credit_note_id)
        _snapshot_save(CreditNoteSnapshot, previous, lookup, outcome.fields)
        if not organisation.quiet:
            for notification in outcome.notifications:
                organisation.send(notification)


def _snapshots_insert_new(
    organisation: _Organisation, model, id_field: str, records: dict[str, dict], outcome_of
) -> list[dict]:
    """Insert together the snapshots of records Dunwell has never seen — the import's usual case,
    where a row-locked transaction per record (~20 ms each, bench/RESULTS.md) made a few thousand
    open invoices outlast the task's 60 s timeout. Returns the records that have a snapshot, for
    the row-locked path. One inserted meanwhile by a webhook batch is kept (unique constraint)."""
    known = set(
        model.objects.filter(xero_tenant_id=organisation.xero_tenant_id).values_list(
            id_field, flat=True
        )
    )
    now = timezone.now()
    model.objects.bulk_create(
        [
            model(
                **organisation.lookup(**{id_field: record_id}),
                **outcome_of(None, record).fields,
                first_seen_at=now,
                last_seen_at=now,
            )
            for record_id, record in records.items()
            if record_id not in known
        ],
        ignore_conflicts=True,
    )
    return [record for record_id, record in records.items() if record_id in known]


def _records_apply(
    *,
    connection,
    client: XeroClient,
    sync: OrganisationSync,
    invoices=(),
    credit_notes=(),
    contacts=(),
    contact_ids=frozenset(),
    quiet: bool = False,
) -> None:
    """Feed fetched records through the transitions: contacts first, so messages use them.

    A first pass against the current snapshots (no lock) tells which contacts the notifications
    will need, so they are fetched in one call, outside any transaction; each record is then
    decided again under its row lock. Quietly (the import), records never seen are inserted
    together instead: nothing is announced, so there is nothing to decide under a lock.
    """
    organisation = _Organisation(connection=connection, sync=sync, quiet=quiet)
    for record in (*invoices, *credit_notes):
        if record.get("Contact", {}).get("ContactID"):
            organisation.embedded_contacts[record["Contact"]["ContactID"]] = record["Contact"]

    invoice_previews = {}
    if not quiet:
        known = organisation.snapshots(
            InvoiceSnapshot, "invoice_id", [invoice["InvoiceID"] for invoice in invoices]
        )
        for invoice in invoices:
            invoice_previews[invoice["InvoiceID"]] = invoice_transitions(
                previous=known.get(invoice["InvoiceID"]),
                xero_invoice=invoice,
                notify_since=organisation.notify_since,
            )
        known_notes = organisation.snapshots(
            CreditNoteSnapshot, "credit_note_id", [note["CreditNoteID"] for note in credit_notes]
        )
        note_previews = [
            credit_note_transitions(
                previous=known_notes.get(note["CreditNoteID"]),
                xero_credit_note=note,
                notify_since=organisation.notify_since,
            )
            for note in credit_notes
        ]
        wanted = {
            notification.contact_id
            for outcome in (*invoice_previews.values(), *note_previews)
            for notification in outcome.notifications
        }
        wanted -= set(organisation.snapshots(ContactSnapshot, "contact_id", wanted))
        contact_ids = set(contact_ids) | wanted
    contact_ids = set(contact_ids) - {contact["ContactID"] for contact in contacts}
    fetched_contacts = client.get_contacts(ids=sorted(contact_ids)) if contact_ids else []

    contacts_to_apply, invoices_to_apply = (*contacts, *fetched_contacts), invoices
    if quiet:
        contacts_to_apply = _snapshots_insert_new(
            organisation,
            ContactSnapshot,
            "contact_id",
            {contact["ContactID"]: contact for contact in contacts_to_apply},
            organisation.contact_outcome,
        )
        invoices_to_apply = _snapshots_insert_new(
            organisation,
            InvoiceSnapshot,
            "invoice_id",
            {invoice["InvoiceID"]: invoice for invoice in invoices},
            organisation.invoice_outcome,
        )
    for contact in contacts_to_apply:
        _contact_apply(organisation, contact)
    for invoice in invoices_to_apply:
        _invoice_apply(organisation, invoice)
    for credit_note in credit_notes:
        _credit_note_apply(organisation, credit_note)
    segments_learn(
        connection=connection, invoices=invoices, contacts=(*contacts, *fetched_contacts)
    )


# --- initial import and reconciliation poll --------------------------------------------------


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
    if sync.imported_at is None:
        connection_initial_import(connection=connection)
        return
    started = timezone.now()
    since = sync.last_polled_at
    try:
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
