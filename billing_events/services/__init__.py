"""Writes for Xero events: store the inbox, process it per organisation, reconcile by polling.

The database is the truth (docs/architecture.md "Background work"): every event is a row with its
own attempts / next_attempt_at / last_error, claimed with a conditional UPDATE; tasks are only
kicks. "Never twice" rests on two things: transitions are decided against the stored snapshot
under a row lock, and every notification carries a dedup key that messaging's unique constraint
enforces.

One module per job; the public names are importable from here.
"""

from billing_events.services.events import (
    CLAIM_LEASE,
    CONTACT,
    CREDITNOTE,
    DRAIN_FOR,
    HANDLED_CATEGORIES,
    INVOICE,
    MAX_ATTEMPTS,
    NO_CONNECTION,
    PROCESS_TASK,
    MalformedDelivery,
    events_drain,
    events_due_xero_tenant_ids,
    events_ignore_orphaned,
    events_kick,
    events_process,
    events_replay,
    events_store,
)
from billing_events.services.poll import (
    SEGMENTS_REFRESH_EVERY,
    SEGMENTS_RETRY_AFTER,
    connection_initial_import,
    connection_poll,
    invoices_apply,
    segments_refresh_if_due,
)
from billing_events.services.records import FIRST_RETRY, LONGEST_RETRY

__all__ = [
    "CLAIM_LEASE",
    "CONTACT",
    "CREDITNOTE",
    "DRAIN_FOR",
    "FIRST_RETRY",
    "HANDLED_CATEGORIES",
    "INVOICE",
    "LONGEST_RETRY",
    "MAX_ATTEMPTS",
    "MalformedDelivery",
    "NO_CONNECTION",
    "PROCESS_TASK",
    "SEGMENTS_REFRESH_EVERY",
    "SEGMENTS_RETRY_AFTER",
    "connection_initial_import",
    "connection_poll",
    "events_drain",
    "events_due_xero_tenant_ids",
    "events_ignore_orphaned",
    "events_kick",
    "events_process",
    "events_replay",
    "events_store",
    "invoices_apply",
    "segments_refresh_if_due",
]
