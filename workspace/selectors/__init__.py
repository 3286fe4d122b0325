"""Reads of the collections workspace: every invoice across the tenant's organisations, one
invoice's story and one customer's.

The invoice list is read in a fixed number of queries whatever the size of the ledger: one for
the page (keyset paging, never a count), one aggregate for the totals, and a few per
organisation for the next steps, which come from the reminder sweep's own plan
(billing_events.reminders.reminder_next_steps) — never re-derived here.
"""

from workspace.selectors.invoices import (
    BUCKETS,
    NAMED_CONTACTS_LISTED,
    PAGE_SIZE,
    RECENTLY_CLOSED,
    REPLY_NEEDS_PERSON_FOR,
    SORTS,
    STATE_LABELS,
    CurrencyTotal,
    InvoiceFilters,
    cursor_encode,
    invoice_filters_resolve,
    invoice_totals,
    invoices_filtered,
    invoices_page,
)
from workspace.selectors.rows import (
    PAUSE_WORDS,
    SKIP_WORDS,
    InvoiceRow,
    NextStepView,
    invoice_filter_choices,
    invoice_rows,
    invoice_state,
    invoices_csv_rows,
    next_step_words,
)
from workspace.selectors.timeline import (
    CAUSAL_ORDER,
    SendNextPreview,
    TimelineEntry,
    contact_snapshot_of,
    customer_invoices,
    customer_page,
    customer_totals,
    invoice_pauses,
    send_next_preview,
    sent_words,
    timeline,
)

__all__ = [
    "BUCKETS",
    "CurrencyTotal",
    "InvoiceFilters",
    "NAMED_CONTACTS_LISTED",
    "PAGE_SIZE",
    "RECENTLY_CLOSED",
    "REPLY_NEEDS_PERSON_FOR",
    "SORTS",
    "STATE_LABELS",
    "cursor_encode",
    "invoice_filters_resolve",
    "invoice_totals",
    "invoices_filtered",
    "invoices_page",
    "InvoiceRow",
    "NextStepView",
    "PAUSE_WORDS",
    "SKIP_WORDS",
    "invoice_filter_choices",
    "invoice_rows",
    "invoice_state",
    "invoices_csv_rows",
    "next_step_words",
    "CAUSAL_ORDER",
    "SendNextPreview",
    "TimelineEntry",
    "contact_snapshot_of",
    "customer_invoices",
    "customer_page",
    "customer_totals",
    "invoice_pauses",
    "send_next_preview",
    "sent_words",
    "timeline",
]
