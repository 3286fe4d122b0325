"""Reads of what Dunwell last saw in Xero: contact cards, invoice samples and numbers, the
contact groups and tracking options segments name, and which of those Xero has since removed."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.urls import reverse

from connections.models import Tenant, XeroConnection
from connections.selectors import (
    Organisation,
    names_for_customers,
    organisation_of,
    organisations_of,
)
from snapshots.contacts import ContactCard
from snapshots.models import ContactSnapshot, InvoiceSnapshot, XeroContactGroup, XeroTrackingOption
from snapshots.segments import GROUP, TRACKING, TrackingTag

# An open sales invoice: what reminders are about. Overdue has no status of its own in Xero
# (FACTS.md "Xero: accounting API"): it is an open one due before today in the organisation's zone.
OPEN_SALES_INVOICE = Q(type="ACCREC", status="AUTHORISED", amount_due__gt=0)


def organisations_today(*, tenant: Tenant, as_of: datetime) -> dict[str, date]:
    """Xero tenantId → today's date in that organisation's time zone (every organisation the
    tenant ever connected; "" stands for any other, in the tenant's own zone)."""
    zones = dict(
        XeroConnection.objects.filter(tenant=tenant).values_list("xero_tenant_id", "timezone")
    )
    today = {
        xero_tenant_id: as_of.astimezone(ZoneInfo(zone)).date()
        for xero_tenant_id, zone in zones.items()
    }
    today[""] = as_of.astimezone(ZoneInfo(tenant.timezone)).date()
    return today


def invoices_overdue_q(*, today: dict[str, date]) -> Q:
    """The overdue invoices, given organisations_today()."""
    known = [xero_tenant_id for xero_tenant_id in today if xero_tenant_id]
    due_before_today = Q(~Q(xero_tenant_id__in=known), due_date__lt=today[""])
    for xero_tenant_id in known:
        due_before_today |= Q(xero_tenant_id=xero_tenant_id, due_date__lt=today[xero_tenant_id])
    return OPEN_SALES_INVOICE & due_before_today


def contact_card(
    *, snapshot: ContactSnapshot, organisation: XeroConnection | None = None
) -> ContactCard:
    """The card messaging reads a contact from; `organisation` (the snapshot's own) saves the
    look-up when the caller has it."""
    if organisation is None and snapshot.xero_tenant_id:
        organisation = organisation_of(
            tenant=snapshot.tenant_id, xero_tenant_id=snapshot.xero_tenant_id
        )
    return ContactCard(
        contact_id=snapshot.contact_id,
        name=snapshot.name,
        first_name=snapshot.first_name,
        email=snapshot.email,
        phones=tuple(snapshot.phones),
        group_ids=tuple(snapshot.group_ids),
        group_names=tuple(snapshot.group_names),
        country=snapshot.country,
        region=snapshot.region,
        country_source=snapshot.country_source,
        xero_tenant_id=snapshot.xero_tenant_id,
        organisation_country=organisation.country_code if organisation else "",
        organisation_timezone=organisation.timezone if organisation else "",
    )


def organisations_by_xero_tenant(*, tenant: Tenant) -> dict[str, XeroConnection]:
    """The tenant's organisations by Xero tenantId (live rows over disconnected ones), for
    making many contact cards with one query."""
    rows = list(XeroConnection.objects.filter(tenant=tenant).order_by("connected_at"))
    live = [row for row in rows if row.status != XeroConnection.Status.DISCONNECTED]
    return {row.xero_tenant_id: row for row in rows + live}


def contact_card_find(*, tenant: Tenant, contact_id: str) -> ContactCard | None:
    """The tenant's Xero contact with this ContactID as last seen, for its page in messaging."""
    snapshot = (
        ContactSnapshot.objects.filter(tenant=tenant, contact_id=contact_id)
        .order_by("-last_seen_at", "-pk")
        .first()
    )
    return contact_card(snapshot=snapshot) if snapshot else None


def contact_cards_by_id(*, tenant: Tenant, contact_ids) -> dict[str, ContactCard]:
    """The tenant's contacts with these Xero ContactIDs as last seen, in two queries."""
    organisations = organisations_by_xero_tenant(tenant=tenant)
    snapshots = ContactSnapshot.objects.filter(tenant=tenant, contact_id__in=set(contact_ids))
    return {
        s.contact_id: contact_card(snapshot=s, organisation=organisations.get(s.xero_tenant_id))
        for s in snapshots.order_by("last_seen_at", "pk")
    }


def invoice_states(*, tenant: Tenant, invoice_ids) -> dict[str, tuple[str, Decimal]]:
    """Xero InvoiceID → (Status, AmountDue) of the tenant's invoices as last seen."""
    rows = InvoiceSnapshot.objects.filter(tenant=tenant, invoice_id__in=set(invoice_ids))
    return {
        invoice_id: (status, amount_due)
        for invoice_id, status, amount_due in rows.values_list("invoice_id", "status", "amount_due")
    }


def contact_cards_named(*, tenant: Tenant, name: str, limit: int = 50) -> list[ContactCard]:
    """The tenant's Xero contacts whose name contains `name`, by name."""
    snapshots = ContactSnapshot.objects.filter(tenant=tenant, name__icontains=name)
    organisations = organisations_by_xero_tenant(tenant=tenant)
    return [
        contact_card(snapshot=s, organisation=organisations.get(s.xero_tenant_id))
        for s in snapshots.order_by("name", "pk")[:limit]
    ]


def invoice_tracking(*, snapshot: InvoiceSnapshot) -> tuple[TrackingTag, ...]:
    """The tracking options on an invoice's line items, for tracking segments."""
    return tuple(
        TrackingTag(
            category_id=option["category_id"],
            option_id=option["option_id"],
            label=f"{option['category']}: {option['option']}",
        )
        for option in snapshot.tracking
        if option.get("option_id")
    )


def segments_gone(*, tenant: Tenant, refs) -> dict[tuple[str, str], str]:
    """Of these (kind, id) refs (snapshots.segments.Segment.xero_ref; None for a segment that
    names nothing in Xero), the contact groups and tracking options that no organisation of the
    tenant has active any more, each with how it went: "archived" or "deleted" in Xero. An id
    Dunwell never saw is not gone (the first sync may be to come)."""
    refs = {ref for ref in refs if ref is not None}
    gone = {}
    for kind, model, id_field in (
        (GROUP, XeroContactGroup, "group_id"),
        (TRACKING, XeroTrackingOption, "option_id"),
    ):
        ids = {ref_id for ref_kind, ref_id in refs if ref_kind == kind}
        if not ids:
            continue
        statuses = defaultdict(set)
        rows = model.objects.filter(tenant=tenant, **{f"{id_field}__in": ids})
        for ref_id, status in rows.values_list(id_field, "status"):
            statuses[ref_id].add(status)
        gone |= {
            (kind, ref_id): "archived" if "ARCHIVED" in seen else "deleted"
            for ref_id, seen in statuses.items()
            if "ACTIVE" not in seen
        }
    return gone


# --- for the template editor and the send log ---------------------------------------------------


@dataclass(frozen=True)
class InvoiceSample:
    """A real invoice of the tenant, as notify() would see it, for previewing templates."""

    contact: ContactCard
    context: dict
    invoice_number: str
    tracking: tuple[TrackingTag, ...] = ()


# The shape of Dunwell's /pay/<token>/ link (payment_links.invoice_pay_url): a preview shows a
# link of the real length, so the segment count is right, without minting a token.
_SAMPLE_PAY_TOKEN = "Xy7Qa2Lm9Rt4Bv8K"


def invoice_preview_sample(
    *, tenant: Tenant, today: date, invoice_id: str | None = None
) -> InvoiceSample | None:
    """The tenant's invoice with this Xero InvoiceID (the REST API's preview), else its most
    recently seen sales invoice, with its contact; None if there is none."""
    invoices = InvoiceSnapshot.objects.filter(tenant=tenant)
    if invoice_id is None:
        invoices = invoices.filter(type="ACCREC").exclude(
            status__in=("DRAFT", "SUBMITTED", "VOIDED", "DELETED")
        )
    else:
        invoices = invoices.filter(invoice_id=invoice_id)
    invoice = invoices.order_by("-first_seen_at", "-pk").first()
    if invoice is None:
        return None
    snapshot = ContactSnapshot.objects.filter(
        xero_tenant_id=invoice.xero_tenant_id, contact_id=invoice.contact_id
    ).first() or ContactSnapshot(
        xero_tenant_id=invoice.xero_tenant_id,
        contact_id=invoice.contact_id,
        name="(contact not imported)",
    )
    organisation = organisation_of(tenant=tenant, xero_tenant_id=invoice.xero_tenant_id)
    pay_path = reverse("invoice-pay", args=[invoice.pay_token or _SAMPLE_PAY_TOKEN])
    context = {
        "invoice_number": invoice.number,
        "reference": invoice.reference,
        "total": invoice.total,
        "amount_due": invoice.amount_due,
        "amount_paid": invoice.amount_paid,
        "currency": invoice.currency,
        "due_date": invoice.due_date,
        "online_invoice_url": settings.PUBLIC_BASE_URL + pay_path,
        **names_for_customers(organisation),
    }
    if invoice.due_date and invoice.due_date < today:
        context["days_overdue"] = (today - invoice.due_date).days
    return InvoiceSample(
        contact=contact_card(snapshot=snapshot, organisation=organisation),
        context=context,
        invoice_number=invoice.number,
        tracking=invoice_tracking(snapshot=invoice),
    )


def contact_groups_known(*, tenant: Tenant) -> list[tuple[str, str]]:
    """(ContactGroupID, name) of every Xero contact group the tenant has: those Xero listed
    (GET /ContactGroups) and those seen on contacts, less the ones deleted in Xero."""
    groups: dict[str, str] = {}
    cached = XeroContactGroup.objects.filter(tenant=tenant)
    deleted = set(
        cached.exclude(status=XeroContactGroup.Status.ACTIVE).values_list("group_id", flat=True)
    )
    for group_id, name in cached.filter(status=XeroContactGroup.Status.ACTIVE).values_list(
        "group_id", "name"
    ):
        groups[group_id] = name
        deleted.discard(group_id)
    rows = ContactSnapshot.objects.filter(tenant=tenant)
    for ids, names in rows.values_list("group_ids", "group_names"):
        for group_id, name in zip(ids, names, strict=False):
            if group_id not in deleted:
                groups.setdefault(group_id, name)
    return sorted(groups.items(), key=lambda item: item[1].lower())


def tracking_options_known(*, tenant: Tenant) -> list[TrackingTag]:
    """The tenant's active tracking options in Xero, by label."""
    rows = XeroTrackingOption.objects.filter(tenant=tenant, status=XeroTrackingOption.Status.ACTIVE)
    options = {
        row.option_id: TrackingTag(row.category_id, row.option_id, row.label) for row in rows
    }
    return sorted(options.values(), key=lambda tag: tag.label.lower())


def segment_organisations(*, tenant: Tenant) -> dict[tuple[str, str], Organisation]:
    """(kind, id) — a Segment.xero_ref — of every contact group and tracking option the tenant
    has, deleted ones too, → the organisation it belongs to."""
    organisations = organisations_of(tenant=tenant)
    found: dict[tuple[str, str], str] = {}
    for ids, xero_tenant_id in ContactSnapshot.objects.filter(tenant=tenant).values_list(
        "group_ids", "xero_tenant_id"
    ):
        found.update({(GROUP, group_id): xero_tenant_id for group_id in ids})
    for kind, model, id_field in (
        (GROUP, XeroContactGroup, "group_id"),
        (TRACKING, XeroTrackingOption, "option_id"),
    ):
        rows = model.objects.filter(tenant=tenant).values_list(id_field, "xero_tenant_id")
        found.update({(kind, ref_id): xero_tenant_id for ref_id, xero_tenant_id in rows})
    return {
        ref: organisations.get(xero_tenant_id) or Organisation(xero_tenant_id, "")
        for ref, xero_tenant_id in found.items()
    }


@dataclass(frozen=True)
class SegmentChoices:
    """What "Applies to" offers: the tenant's contact groups and tracking options, and — once
    it has several organisations — whose each one is (groups of one name exist in each)."""

    groups: list[tuple[str, str]]  # (ContactGroupID, name)
    options: list[TrackingTag]
    organisations: dict[tuple[str, str], Organisation]  # by Segment.xero_ref; empty with one

    def label(self, ref: tuple[str, str], name: str) -> str:
        """ "Corporate — Kauri Bakery" with several organisations, else "Corporate"."""
        organisation = self.organisations.get(ref)
        return f"{name} — {organisation.name}" if organisation and organisation.name else name


def segment_choices(*, tenant: Tenant) -> SegmentChoices:
    several = organisations_of(tenant=tenant).several
    return SegmentChoices(
        groups=contact_groups_known(tenant=tenant),
        options=tracking_options_known(tenant=tenant),
        organisations=segment_organisations(tenant=tenant) if several else {},
    )


def invoice_ids_numbered(*, tenant: Tenant, number: str) -> QuerySet:
    """Xero InvoiceIDs of the tenant's invoices whose number contains `number` (a subquery)."""
    return InvoiceSnapshot.objects.filter(tenant=tenant, number__icontains=number).values(
        "invoice_id"
    )


# --- invoice numbers across organisations: ask which, never pick silently -----------------------


@dataclass(frozen=True)
class InvoiceCandidate:
    """One organisation's sales invoice of the number asked about."""

    organisation: Organisation
    invoice_id: str
    number: str
    contact_name: str
    amount_due: Decimal
    currency: str

    @property
    def label(self) -> str:
        """ "Kauri Bakery — INV-0001, Aroha Ngata, 410.00 NZD" """
        amount = f"{self.amount_due:.2f} {self.currency}".strip()
        return f"{self.organisation.name} — {self.number}, {self.contact_name}, {amount}"


class InvoiceNumberAmbiguous(Exception):
    """Several of the tenant's organisations have a sales invoice of this number, and no
    organisation was given: the caller asks which (each candidate names its organisation, contact
    and amount)."""

    def __init__(self, number: str, candidates: list[InvoiceCandidate]):
        self.number, self.candidates = number, candidates
        super().__init__(f"{number} is an invoice of {len(candidates)} organisations.")


def invoice_candidates(*, tenant: Tenant, number: str) -> list[InvoiceCandidate]:
    """The tenant's sales invoices with exactly this number (any case): the newest per
    organisation, by organisation name."""
    organisations = organisations_of(tenant=tenant)
    newest: dict[str, InvoiceSnapshot] = {}
    rows = InvoiceSnapshot.objects.filter(tenant=tenant, type="ACCREC", number__iexact=number)
    for invoice in rows.order_by("-pk"):
        newest.setdefault(invoice.xero_tenant_id, invoice)
    names = _contact_names(invoices=newest.values())
    candidates = [
        InvoiceCandidate(
            organisation=organisations.get(xero_tenant_id) or Organisation(xero_tenant_id, ""),
            invoice_id=invoice.invoice_id,
            number=invoice.number,
            contact_name=names.get((xero_tenant_id, invoice.contact_id), ""),
            amount_due=invoice.amount_due,
            currency=invoice.currency,
        )
        for xero_tenant_id, invoice in newest.items()
    ]
    return sorted(candidates, key=lambda c: (c.organisation.name.casefold(), c.organisation.id))


def _contact_names(*, invoices) -> dict[tuple[str, str], str]:
    keys = Q()
    for invoice in invoices:
        keys |= Q(xero_tenant_id=invoice.xero_tenant_id, contact_id=invoice.contact_id)
    if not keys:
        return {}
    rows = ContactSnapshot.objects.filter(keys).values_list("xero_tenant_id", "contact_id", "name")
    return {(xero_tenant_id, contact_id): name for xero_tenant_id, contact_id, name in rows}


def invoice_number_choose(
    *, tenant: Tenant, number: str, organisation: str = ""
) -> InvoiceCandidate | None:
    """The tenant's sales invoice with this number, in `organisation` (a Xero tenantId) when
    given; None when there is none. Raises InvoiceNumberAmbiguous when several organisations
    have one and none was given."""
    candidates = invoice_candidates(tenant=tenant, number=number.strip())
    if organisation:
        candidates = [c for c in candidates if c.organisation.id == organisation]
    if len(candidates) > 1:
        raise InvoiceNumberAmbiguous(number.strip(), candidates)
    return candidates[0] if candidates else None


def invoice_numbers(*, tenant: Tenant, invoice_ids) -> dict[str, str]:
    """InvoiceID → invoice number, for showing numbers beside a page of messages."""
    ids = {invoice_id for invoice_id in invoice_ids if invoice_id}
    if not ids:
        return {}
    rows = InvoiceSnapshot.objects.filter(tenant=tenant, invoice_id__in=ids)
    return dict(rows.values_list("invoice_id", "number"))


def segment_names_fill(row, *, tenant: Tenant) -> None:
    """Give an unsaved template or stage the names Xero gave its contact group and tracking
    option (and the option's category) where the REST API gave ids only; given names stay.

    Raises ValidationError for a group or option none of the tenant's organisations has: a
    segment is chosen by id, and only among the tenant's own."""
    own = segment_organisations(tenant=tenant)
    errors = {
        field: f"“{ref_id}” is not {what} of your Xero organisations."
        for field, kind, ref_id, what in (
            ("contact_group_id", GROUP, row.contact_group_id, "a contact group"),
            ("tracking_option_id", TRACKING, row.tracking_option_id, "a tracking option"),
        )
        if ref_id and (kind, ref_id) not in own
    }
    if errors:
        raise ValidationError(errors)
    names = {}
    if row.contact_group_id:
        listed = XeroContactGroup.objects.filter(tenant=tenant, group_id=row.contact_group_id)
        names["contact_group_name"] = listed.values_list("name", flat=True).first() or dict(
            contact_groups_known(tenant=tenant)
        ).get(row.contact_group_id, "")
    if row.tracking_option_id:
        option = XeroTrackingOption.objects.filter(
            tenant=tenant, option_id=row.tracking_option_id
        ).first()
        if option:
            names["tracking_category_id"] = option.category_id
            names["tracking_label"] = option.label
    for name, value in names.items():
        if value and not getattr(row, name):
            setattr(row, name, value)
