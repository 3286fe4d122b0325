"""Records fetched from Xero, applied: each snapshot upserted under its row lock, and what
changed announced through messaging (notify, messages_cancel). Also the backoff that the
inbox and the poll share.
"""

from datetime import timedelta
from functools import partial

from django.db import transaction
from django.utils import timezone

from billing_events.models import OrganisationSync
from billing_events.payment_links import invoice_pay_url
from billing_events.transitions import (
    Notification,
    contact_transitions,
    credit_note_transitions,
    invoice_transitions,
)
from connections.selectors import names_for_customers
from connections.xero import XeroClient
from messaging.services import Notice, messages_cancel_many, notify_many
from snapshots.contacts import ContactCard
from snapshots.fields import contact_fields
from snapshots.models import ContactSnapshot, CreditNoteSnapshot, InvoiceSnapshot
from snapshots.segment_sync import segments_learn
from snapshots.selectors import contact_card, invoice_tracking
from snapshots.services import snapshots_insert_new, snapshots_upsert

FIRST_RETRY = timedelta(seconds=30)
LONGEST_RETRY = timedelta(hours=1)


def _retry_delay(attempts: int) -> timedelta:
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LONGEST_RETRY)


def _sync_for(*, connection) -> OrganisationSync:
    sync, _ = OrganisationSync.objects.get_or_create(
        xero_tenant_id=connection.xero_tenant_id, defaults={"tenant": connection.tenant}
    )
    return sync


class _Organisation:
    """One organisation's records being applied: the snapshots read before, the cards to use."""

    def __init__(self, *, connection, sync: OrganisationSync, quiet: bool):
        self.connection = connection
        self.tenant = connection.tenant
        self.xero_tenant_id = connection.xero_tenant_id
        self.quiet = quiet
        self.notify_since = sync.imported_at.date() if sync.imported_at else None
        self.embedded_contacts: dict[str, dict] = {}
        # Contact snapshots read or written while applying the batch: its cards need no re-read.
        self.contacts: dict[str, ContactSnapshot] = {}
        # Read local phone numbers, to place contacts without an address (FACTS.md "Contact").
        self.countries = {
            "organisation_country": connection.country_code,
            "tenant_country": self.tenant.default_country,
        }

    def snapshots(self, model, id_field: str, ids) -> dict:
        rows = model.objects.filter(xero_tenant_id=self.xero_tenant_id, **{f"{id_field}__in": ids})
        return {getattr(row, id_field): row for row in rows}

    def outcome(self, kind: str, record: dict, previous):
        """What a fetched record means against its snapshot (None: never seen), for the
        row-locked path and the import's bulk insert alike."""
        if kind == "contact":
            return contact_transitions(previous=previous, xero_contact=record, **self.countries)
        if kind == "invoice":
            return invoice_transitions(
                previous=previous, xero_invoice=record, notify_since=self.notify_since
            )
        return credit_note_transitions(
            previous=previous, xero_credit_note=record, notify_since=self.notify_since
        )

    def cards(self, contact_ids) -> dict[str, ContactCard]:
        """The cards of these contacts, from the batch's snapshots or read in one statement."""
        snapshots = {i: self.contacts[i] for i in contact_ids if i in self.contacts}
        unread = set(contact_ids) - set(snapshots)
        snapshots |= self.snapshots(ContactSnapshot, "contact_id", unread)
        for contact_id in set(contact_ids) - set(snapshots):
            # The contact could not be fetched: the summary embedded in the invoice will do.
            embedded = self.embedded_contacts.get(contact_id, {})
            snapshots[contact_id] = ContactSnapshot(
                contact_id=contact_id,
                xero_tenant_id=self.xero_tenant_id,
                **contact_fields(embedded, **self.countries),
            )
        return {
            contact_id: contact_card(snapshot=snapshot, organisation=self.connection)
            for contact_id, snapshot in snapshots.items()
        }

    def notices(self, announced: list[tuple[object, Notification, dict]]) -> list[Notice]:
        """The notifications of a batch as messaging takes them, with their contacts' cards."""
        cards = self.cards({notification.contact_id for _, notification, _ in announced})
        names = names_for_customers(self.connection)
        return [
            Notice(
                kind=notification.kind,
                contact=cards[notification.contact_id],
                context={**notification.context, **names, **extra},
                dedup_key=notification.dedup_key,
                invoice_id=notification.invoice_id,
                tracking=tracking,
            )
            for tracking, notification, extra in announced
        ]


# Per kind of record: its snapshot model, the snapshot's id field and Xero's name for it.
_KINDS = {
    "contact": (ContactSnapshot, "contact_id", "ContactID"),
    "invoice": (InvoiceSnapshot, "invoice_id", "InvoiceID"),
    "credit_note": (CreditNoteSnapshot, "credit_note_id", "CreditNoteID"),
}


def _batch_apply(organisation: _Organisation, records: dict[str, list[dict]]) -> None:
    """Upsert the records' snapshots under their row locks and, in the same transaction, act
    on what changed: reminders cancelled, notifications sent (unless quiet). Contacts go first,
    so the notifications read them. A few statements for the whole batch, not a few per record:
    each kind's snapshots are locked, inserted and updated together, and messaging makes the
    messages of all the notifications at once (notify_many)."""
    cancels: dict[str, str] = {}
    announced: list[tuple[object, Notification, dict]] = []
    with transaction.atomic():
        for kind, kind_records in records.items():
            if not kind_records:
                continue
            model, id_field, xero_id = _KINDS[kind]
            applied = snapshots_upsert(
                model=model,
                tenant=organisation.tenant,
                xero_tenant_id=organisation.xero_tenant_id,
                id_field=id_field,
                decide={
                    record[xero_id]: partial(organisation.outcome, kind, record)
                    for record in kind_records
                },
            )
            if organisation.quiet:
                continue
            if kind == "contact":
                organisation.contacts |= {s.contact_id: s for s, _ in applied if s is not None}
            for snapshot, outcome in applied:
                if outcome.stale:
                    continue
                if outcome.cancel_reminders:
                    prefix = f"invoice:{snapshot.invoice_id}:reminder:"
                    cancels[prefix] = f"Invoice is {snapshot.status} in Xero."
                tracking, extra = (), {}
                if kind == "invoice" and outcome.notifications:
                    tracking = invoice_tracking(snapshot=snapshot)
                    extra = {"online_invoice_url": invoice_pay_url(snapshot=snapshot)}
                announced += [(tracking, n, extra) for n in outcome.notifications]
        messages_cancel_many(tenant=organisation.tenant, reasons=cancels)
        notify_many(tenant=organisation.tenant, notices=organisation.notices(announced))


def _new_fields(organisation: _Organisation, kind: str, record: dict) -> dict:
    return organisation.outcome(kind, record, None).fields


def _snapshots_insert_new(organisation: _Organisation, kind: str, records: list[dict]) -> list:
    """Quietly (the import): insert the snapshots of records never seen, together; returns the
    records that already had one, for the row-locked path."""
    model, id_field, xero_id = _KINDS[kind]
    by_id = {record[xero_id]: record for record in records}
    known = snapshots_insert_new(
        model=model,
        tenant=organisation.tenant,
        xero_tenant_id=organisation.xero_tenant_id,
        id_field=id_field,
        fields_by_id={
            record_id: partial(_new_fields, organisation, kind, record)
            for record_id, record in by_id.items()
        },
    )
    return [record for record_id, record in by_id.items() if record_id in known]


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
        organisation.contacts = organisation.snapshots(ContactSnapshot, "contact_id", wanted)
        wanted -= set(organisation.contacts)
        contact_ids = set(contact_ids) | wanted
    contact_ids = set(contact_ids) - {contact["ContactID"] for contact in contacts}
    fetched_contacts = client.get_contacts(ids=sorted(contact_ids)) if contact_ids else []

    contacts_to_apply, invoices_to_apply = (*contacts, *fetched_contacts), invoices
    if quiet:
        contacts_to_apply = _snapshots_insert_new(organisation, "contact", contacts_to_apply)
        invoices_to_apply = _snapshots_insert_new(organisation, "invoice", invoices)
    _batch_apply(
        organisation,
        {
            "contact": contacts_to_apply,
            "invoice": invoices_to_apply,
            "credit_note": list(credit_notes),
        },
    )
    with transaction.atomic():
        option_unseen = segments_learn(
            connection=connection, invoices=invoices, contacts=(*contacts, *fetched_contacts)
        )
        if option_unseen:
            OrganisationSync.objects.filter(xero_tenant_id=connection.xero_tenant_id).update(
                segments_refresh_due_at=timezone.now()
            )
