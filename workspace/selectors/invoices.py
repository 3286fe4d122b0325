"""The Invoices list: filters, keyset pages that never count the table, totals by
currency in one aggregate query."""

import base64
import json
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import Exists, F, OuterRef, Q, QuerySet, Sum
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan, TupleLessThan

from connections.models import Tenant
from messaging.models import InboundMessage, Message
from messaging.selectors import (
    PHONE_PROBLEMS,
    RESENDABLE,
)
from snapshots.models import ContactSnapshot, InvoiceSnapshot
from snapshots.selectors import (
    OPEN_SALES_INVOICE,
    invoices_overdue_q,
    organisations_today,
)

PAGE_SIZE = 50
# Paid and voided invoices stay on the list this long after Xero last changed them (the time
# of the change that closed them: snapshots keep no payment times).
RECENTLY_CLOSED = timedelta(days=30)
# A customer's text that needs a person counts for this long after it came.
REPLY_NEEDS_PERSON_FOR = timedelta(days=30)

STATE_LABELS = {
    "awaiting": "Awaiting payment",
    "part_paid": "Part paid",
    "overdue": "Overdue",
    "paid": "Paid",
    "voided": "Voided",
}
# (first, last) days overdue of each bucket; None: no upper end.
BUCKETS = {"1-7": (1, 7), "8-30": (8, 30), "31-60": (31, 60), "61-": (61, None)}
# sort key → (field, descending). Xero gives every approved invoice a due date, so the keyset
# never meets a NULL among the invoices listed here.
SORTS = {
    "due": ("due_date", False),
    "-due": ("due_date", True),
    "amount": ("amount_due", False),
    "-amount": ("amount_due", True),
    "number": ("number", False),
}


@dataclass(frozen=True)
class InvoiceFilters:
    q: str = ""
    organisation: str = ""
    state: str = ""
    overdue: str = ""
    group: str = ""
    needs_person: bool = False
    # The invoices that need a person, once read (invoice_filters_resolve): a page and its
    # totals share one reading of the send log.
    needing: frozenset[str] | None = None
    sort: str = "due"


# --- the list ---------------------------------------------------------------------------------


def _listed(*, tenant: Tenant, as_of: datetime) -> QuerySet[InvoiceSnapshot]:
    """Every open sales invoice, and those paid or voided in the last 30 days."""
    recently = Q(status__in=["PAID", "VOIDED"], updated_date_utc__gte=as_of - RECENTLY_CLOSED)
    return InvoiceSnapshot.objects.filter(
        Q(status="AUTHORISED") | recently, tenant=tenant, type="ACCREC"
    )


def _days_overdue_q(today: dict[str, date], first: int, last: int | None) -> Q:
    """Invoices due between `last` and `first` days before their organisation's today."""
    q = Q(pk__in=[])
    for xero_tenant_id, day in today.items():
        bounds = {"due_date__lte": day - timedelta(days=first)}
        if last is not None:
            bounds["due_date__gte"] = day - timedelta(days=last)
        org = ~Q(xero_tenant_id__in=[x for x in today if x]) if not xero_tenant_id else None
        q |= Q(org or Q(xero_tenant_id=xero_tenant_id), **bounds)
    return q


def _state_q(state: str, overdue: Q) -> Q:
    authorised = Q(status="AUTHORISED")
    return {
        "open": authorised,
        "overdue": overdue,
        "part_paid": authorised & Q(amount_paid__gt=0) & ~overdue,
        "awaiting": authorised & Q(amount_paid=0) & ~overdue,
        "paid": Q(status="PAID"),
        "voided": Q(status="VOIDED"),
    }[state]


def _needs_person_ids(*, tenant: Tenant, as_of: datetime) -> set[str]:
    """InvoiceIDs whose last message failed or found no usable phone, or that the customer
    texted back about (from a number Dunwell texted about the invoice) something only a person
    can answer and nobody has marked handled — read from the send log's side in two queries:
    its failures and the recent replies are few, however many invoices there are."""
    texts = Message.objects.filter(tenant=tenant).order_by()
    newer = texts.filter(invoice_id=OuterRef("invoice_id"), created_at__gt=OuterRef("created_at"))
    failed_last = (
        texts.filter(Q(status__in=RESENDABLE) | Q(error_code__in=PHONE_PROBLEMS))
        .exclude(invoice_id="")
        .exclude(Exists(newer))
    )
    replies = InboundMessage.objects.filter(
        tenant=tenant,
        intent=InboundMessage.Intent.OTHER,
        handled_at__isnull=True,
        received_at__gte=as_of - REPLY_NEEDS_PERSON_FOR,
    )
    replied_about = texts.filter(recipient__in=replies.values("from_phone")).exclude(invoice_id="")
    return {
        *failed_last.values_list("invoice_id", flat=True),
        *replied_about.values_list("invoice_id", flat=True),
    }


def invoice_filters_resolve(
    *, tenant: Tenant, filters: InvoiceFilters, as_of: datetime
) -> InvoiceFilters:
    """The filters with what they need read once for a whole request (the page, its totals,
    every batch of the CSV)."""
    if not filters.needs_person or filters.needing is not None:
        return filters
    return replace(filters, needing=frozenset(_needs_person_ids(tenant=tenant, as_of=as_of)))


def invoices_filtered(
    *, tenant: Tenant, filters: InvoiceFilters, as_of: datetime, invoices: QuerySet | None = None
) -> QuerySet[InvoiceSnapshot]:
    """The invoices the list shows for these filters (of `invoices`, by default every invoice
    the list shows), unordered."""
    today = organisations_today(tenant=tenant, as_of=as_of)
    if invoices is None:
        invoices = _listed(tenant=tenant, as_of=as_of)
    if filters.organisation:
        invoices = invoices.filter(xero_tenant_id=filters.organisation)
    if filters.state:
        invoices = invoices.filter(_state_q(filters.state, invoices_overdue_q(today=today)))
    if filters.overdue in BUCKETS:
        invoices = invoices.filter(
            OPEN_SALES_INVOICE, _days_overdue_q(today, *BUCKETS[filters.overdue])
        )
    if filters.group:
        # ContactGroupIDs are GUIDs: a match in the JSON text is a match of the id.
        members = ContactSnapshot.objects.filter(tenant=tenant, group_ids__icontains=filters.group)
        invoices = invoices.filter(contact_id__in=members.values("contact_id"))
    if filters.q:
        invoices = invoices.filter(
            Q(number__icontains=filters.q)
            | Q(contact_id__in=_contact_ids_named(tenant=tenant, name=filters.q))
        )
    if filters.needs_person:
        needing = filters.needing
        if needing is None:
            needing = _needs_person_ids(tenant=tenant, as_of=as_of)
        invoices = invoices.filter(invoice_id__in=needing)
    return invoices


# Up to this many contacts matching a search are named to the database as a list, so it can
# combine the number's and the contacts' indexes (a bitmap OR) instead of walking every invoice;
# a search that matches more is left a subquery (then matches are many and a page fills fast).
NAMED_CONTACTS_LISTED = 500


def _contact_ids_named(*, tenant: Tenant, name: str):
    named = ContactSnapshot.objects.filter(tenant=tenant, name__icontains=name)
    ids = list(named.values_list("contact_id", flat=True)[: NAMED_CONTACTS_LISTED + 1])
    return ids if len(ids) <= NAMED_CONTACTS_LISTED else named.values("contact_id")


def cursor_encode(value, pk: int) -> str:
    raw = json.dumps([str(value), pk]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _cursor_decode(cursor: str, field_name: str):
    """(value, pk) from a cursor, or None for one that is not ours (then the first page)."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value, pk = json.loads(raw)
        parse = {"due_date": date.fromisoformat, "amount_due": Decimal}.get(field_name, str)
        return parse(value), int(pk)
    except (ValueError, TypeError, ArithmeticError):
        return None


def _ordered(invoices: QuerySet, sort: str) -> tuple[QuerySet, str, bool]:
    field_name, descending = SORTS.get(sort, SORTS["due"])
    order = [f"-{field_name}", "-pk"] if descending else [field_name, "pk"]
    return invoices.order_by(*order), field_name, descending


def invoices_page(
    *, tenant: Tenant, filters: InvoiceFilters, as_of: datetime, after: str = "",
    size: int | None = None,
) -> tuple[list[InvoiceSnapshot], str]:  # fmt: skip
    """One page after the cursor, and the cursor of the next page ("" on the last).

    Keyset paging: the page starts where the last one ended, (sort value, pk) > cursor, on an
    index — as fast at page 2,000 as at page 1 — and n + 1 rows tell whether more follow.
    """
    invoices, field_name, descending = _ordered(
        invoices_filtered(tenant=tenant, filters=filters, as_of=as_of), filters.sort
    )
    position = _cursor_decode(after, field_name) if after else None
    if position:
        compare = TupleLessThan if descending else TupleGreaterThan
        invoices = invoices.filter(compare(Tuple(F(field_name), F("pk")), position))
    size = size or PAGE_SIZE
    rows = list(invoices[: size + 1])
    if len(rows) <= size:
        return rows, ""
    last = rows[size - 1]
    return rows[:size], cursor_encode(getattr(last, field_name), last.pk)


@dataclass(frozen=True)
class CurrencyTotal:
    currency: str
    outstanding: Decimal
    overdue: Decimal


def invoice_totals(
    *, tenant: Tenant, filters: InvoiceFilters, as_of: datetime
) -> list[CurrencyTotal]:
    """Outstanding and overdue per currency of the filtered invoices, in one aggregate query."""
    # Only open invoices count, so the totals start from them: an index-only scan of the open
    # ones (invoicesnapshot_open_totals) rather than every row the list shows.
    open_invoices = InvoiceSnapshot.objects.filter(OPEN_SALES_INVOICE, tenant=tenant)
    invoices = invoices_filtered(
        tenant=tenant, filters=filters, as_of=as_of, invoices=open_invoices
    )
    return totals_by_currency(invoices, today=organisations_today(tenant=tenant, as_of=as_of))


def totals_by_currency(invoices: QuerySet, *, today: dict[str, date]) -> list[CurrencyTotal]:
    rows = (
        invoices.filter(OPEN_SALES_INVOICE)
        .values("currency")
        .annotate(
            outstanding=Sum("amount_due"),
            overdue=Sum("amount_due", filter=invoices_overdue_q(today=today)),
        )
        .order_by("currency")
    )
    return [
        CurrencyTotal(row["currency"], row["outstanding"], row["overdue"] or Decimal(0))
        for row in rows
    ]
