"""The daily sweep of one organisation: claimed once per local day, in passes of PASS_SIZE,
each invoice re-checked against Xero just before its reminder goes.
"""

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from billing_events.models import (
    OrganisationSync,
    ReminderSent,
    ReminderStage,
    SweepRun,
)
from billing_events.payment_links import invoice_pay_url
from billing_events.reminders.digest import team_digest_send
from billing_events.reminders.plan import (
    PREVIEW_HORIZON,
    SEND,
    PlanItem,
    _book,
    _open_invoices,
    local_date,
    reminder_plan,
)
from billing_events.reminders.schedule import reminder_defaults_create
from billing_events.services import connection_poll, invoices_apply
from connections.selectors import connections_active, names_for_customers
from connections.xero import XeroClient, XeroError
from messaging.services import Notice, notify_many
from snapshots.models import ContactSnapshot, InvoiceSnapshot
from snapshots.selectors import invoice_tracking

logger = logging.getLogger(__name__)


# Each pass re-checks at most this many invoices: one GET /Invoices?IDs= (FACTS.md: ≤ 50 ids).
# A bigger day continues in the next pass a minute later, well inside 60 calls a minute.
PASS_SIZE = 50
NEXT_PASS_AFTER = timedelta(minutes=1)
# A run still `running` this long after it started belongs to a worker that died.
RUN_LEASE = timedelta(minutes=10)
RETRY_AFTER = timedelta(minutes=15)
# Snapshots are kept current by webhooks and the poll; if the poll has not succeeded for this
# long (an outage), poll before deciding anything.
SNAPSHOTS_STALE_AFTER = timedelta(hours=6)


def _run_claim(*, connection, day: date) -> SweepRun | None:
    """Start today's run, or take over one that failed, stalled or has more to do."""
    now = timezone.now()
    try:
        with transaction.atomic():
            return SweepRun.objects.create(
                tenant=connection.tenant, xero_tenant_id=connection.xero_tenant_id, local_date=day
            )
    except IntegrityError:
        pass
    claimable = Q(status__in=[SweepRun.Status.FAILED, SweepRun.Status.PARTIAL]) | Q(
        status=SweepRun.Status.RUNNING, started_at__lt=now - RUN_LEASE
    )
    claimed = SweepRun.objects.filter(
        claimable,
        xero_tenant_id=connection.xero_tenant_id,
        local_date=day,
        next_attempt_at__lte=now,
    ).update(status=SweepRun.Status.RUNNING, started_at=now, attempts=F("attempts") + 1)
    if claimed != 1:
        return None  # done already, or another worker has it
    return SweepRun.objects.get(xero_tenant_id=connection.xero_tenant_id, local_date=day)


def _snapshots_refresh_if_stale(*, connection) -> None:
    sync = OrganisationSync.objects.filter(xero_tenant_id=connection.xero_tenant_id).first()
    if (
        sync
        and sync.last_polled_at
        and sync.last_polled_at < timezone.now() - SNAPSHOTS_STALE_AFTER
    ):
        connection_poll(connection=connection)


def _contacts_fetch_missing(*, connection, until: date) -> None:
    """Snapshot the contacts of invoices reminded soon that were never fetched (e.g. an
    organisation imported before the import took its contacts too), so sends and previews know
    their phones and groups."""
    wanted = set(
        _open_invoices(
            tenant=connection.tenant,
            xero_tenant_ids=[connection.xero_tenant_id],
            stages=ReminderStage.objects.filter(tenant=connection.tenant, is_active=True),
            until=until,
        ).values_list("contact_id", flat=True)
    ) - set(
        ContactSnapshot.objects.filter(xero_tenant_id=connection.xero_tenant_id).values_list(
            "contact_id", flat=True
        )
    )
    wanted.discard("")
    if wanted:
        client = XeroClient(connection)
        invoices_apply(connection=connection, client=client, invoices=[], contact_ids=wanted)


def _recheck(*, connection, client: XeroClient, invoice_ids: list[str]) -> set[str]:
    """Ask Xero about these invoices now and apply what it says (a payment since the last
    webhook is announced and its reminders cancelled); return the ids Xero returned."""
    fresh = client.get_invoices(ids=invoice_ids)
    invoices_apply(connection=connection, client=client, invoices=fresh)
    return {invoice["InvoiceID"] for invoice in fresh}


def _reminder_row(*, connection, item: PlanItem, day: date) -> ReminderSent:
    occurrence = item.occurrence
    return ReminderSent(
        tenant=connection.tenant,
        xero_tenant_id=connection.xero_tenant_id,
        invoice_id=item.invoice.invoice_id,
        occurrence=occurrence.key,
        stage_key=occurrence.stage.key,
        scheduled_on=occurrence.day,
        sent_on=day,
        alert_team=occurrence.stage.alert_team and occurrence.stage.offset_days > 0,
    )


def _reminder_notice(*, connection, item: PlanItem, day: date) -> Notice:
    invoice, occurrence = item.invoice, item.occurrence
    return Notice(
        kind="reminder",
        contact=item.contact,
        context=_invoice_context(invoice, connection=connection, day=day)
        | {"reminder_stage": occurrence.stage.key},
        dedup_key=f"invoice:{invoice.invoice_id}:reminder:{occurrence.key}",
        invoice_id=invoice.invoice_id,
        tracking=invoice_tracking(snapshot=invoice),
    )


def _rows_insert_new(*, connection, items: list[PlanItem], day: date) -> list[PlanItem]:
    """Record the occurrences of these reminders, each once (the unique constraint decides);
    returns the items recorded now. Two statements for a pass, one by one only if a second
    worker raced this one."""
    rows = [_reminder_row(connection=connection, item=item, day=day) for item in items]
    taken = set(
        ReminderSent.objects.filter(
            xero_tenant_id=connection.xero_tenant_id,
            invoice_id__in={row.invoice_id for row in rows},
        ).values_list("invoice_id", "occurrence")
    )
    fresh = [
        (item, row)
        for item, row in zip(items, rows, strict=True)
        if (row.invoice_id, row.occurrence) not in taken
    ]
    try:
        with transaction.atomic():
            ReminderSent.objects.bulk_create([row for _, row in fresh])
        return [item for item, _ in fresh]
    except IntegrityError:
        pass
    recorded = []
    for item, row in fresh:
        try:
            with transaction.atomic():
                row.pk, row._state.adding = None, True
                row.save(force_insert=True)
        except IntegrityError:
            continue  # a second worker or an earlier pass handled this occurrence
        recorded.append(item)
    return recorded


def _reminders_send(*, connection, items: list[PlanItem], day: date) -> int:
    """Record these reminders and make their messages, together, in one transaction."""
    if not items:
        return 0
    with transaction.atomic():
        recorded = _rows_insert_new(connection=connection, items=items, day=day)
        notify_many(
            tenant=connection.tenant,
            notices=[_reminder_notice(connection=connection, item=i, day=day) for i in recorded],
        )
    return len(recorded)


def _invoice_context(invoice: InvoiceSnapshot, *, connection, day: date) -> dict:
    return {
        "invoice_number": invoice.number,
        "reference": invoice.reference,
        "amount_due": invoice.amount_due,
        "total": invoice.total,
        "amount_paid": invoice.amount_paid,
        "currency": invoice.currency,
        "due_date": invoice.due_date,
        "days_overdue": max((day - invoice.due_date).days, 0),
        # Dunwell's own link: Xero's online invoice is fetched on the first click, so a big
        # sweep spends no API calls on links (billing_events/payment_links.py).
        "online_invoice_url": invoice_pay_url(snapshot=invoice),
        **names_for_customers(connection),
    }


def sweep_run(*, connection, as_of: datetime) -> SweepRun | None:
    """One pass of the organisation's reminder run for the local day of `as_of`.

    Returns None when there is nothing to do (the day is done, or another worker has it).
    Calls Xero outside any transaction (XeroClient must not run inside atomic()).
    """
    day = local_date(connection=connection, at=as_of)
    run = _run_claim(connection=connection, day=day)
    if run is None:
        return None
    try:
        _snapshots_refresh_if_stale(connection=connection)
        _contacts_fetch_missing(connection=connection, until=day + PREVIEW_HORIZON)
        book = _book(connection=connection, until=day)
        due = [
            item
            for item in reminder_plan(book, day=day)
            if item.action == SEND and item.invoice.invoice_id not in run.unconfirmed_invoice_ids
        ]
        batch, more = due[:PASS_SIZE], len(due) > PASS_SIZE
        sent = _batch_send(connection=connection, run=run, batch=batch, day=day)
    except XeroError as error:
        logger.warning(
            "reminder sweep failed tenant=%s xero_tenant_id=%s status=%s",
            connection.tenant_id,
            connection.xero_tenant_id,
            error.status,
        )
        SweepRun.objects.filter(pk=run.pk).update(
            status=SweepRun.Status.FAILED,
            last_error=str(error)[:2000],
            next_attempt_at=timezone.now() + RETRY_AFTER,
        )
        return run
    finished = not more
    SweepRun.objects.filter(pk=run.pk).update(
        status=SweepRun.Status.DONE if finished else SweepRun.Status.PARTIAL,
        reminders_sent=F("reminders_sent") + sent,
        last_error="",
        next_attempt_at=timezone.now() + NEXT_PASS_AFTER,
        finished_at=timezone.now() if finished else None,
    )
    if finished:
        team_digest_send(tenant=connection.tenant, day=day)
    run.refresh_from_db()
    return run


def _batch_send(*, connection, run: SweepRun, batch: list[PlanItem], day: date) -> int:
    if not batch:
        return 0
    client = XeroClient(connection)
    returned = _recheck(
        connection=connection,
        client=client,
        invoice_ids=[item.invoice.invoice_id for item in batch],
    )
    missing = [item.invoice.invoice_id for item in batch if item.invoice.invoice_id not in returned]
    if missing:
        run.unconfirmed_invoice_ids = [*run.unconfirmed_invoice_ids, *missing]
        SweepRun.objects.filter(pk=run.pk).update(
            unconfirmed_invoice_ids=run.unconfirmed_invoice_ids
        )
    # Decide again on what Xero just said: paid, voided and deleted invoices have left the book.
    book = _book(connection=connection, until=day, invoice_ids=sorted(returned))
    items = [item for item in reminder_plan(book, day=day) if item.action == SEND]
    return _reminders_send(connection=connection, items=items, day=day)


def sweeps_due(*, at: datetime) -> list[str]:
    """Organisations whose reminder run is due: past the tenant's send time locally, and today's
    run not yet done (or waiting for another pass or a retry)."""
    due = []
    for connection in connections_active():
        settings = reminder_defaults_create(tenant=connection.tenant)
        local = at.astimezone(ZoneInfo(connection.timezone))
        if local.time() < settings.send_time:
            continue
        run = SweepRun.objects.filter(
            xero_tenant_id=connection.xero_tenant_id, local_date=local.date()
        ).first()
        if (
            run is None
            or (run.status in (SweepRun.Status.FAILED, SweepRun.Status.PARTIAL)
                and run.next_attempt_at <= at)
            or (run.status == SweepRun.Status.RUNNING and run.started_at < at - RUN_LEASE)
        ):  # fmt: skip
            due.append(connection.xero_tenant_id)
    return due


@dataclass(frozen=True)
class SweepNow:
    """What running an organisation's daily reminder run now did."""

    organisation: str
    run: SweepRun | None  # today's run, None when nothing could start it
    started: bool  # False: today's run had already happened (or another worker has it)
    queued: list[ReminderSent]


def sweeps_run_now(*, tenant, as_of: datetime) -> list[SweepNow]:
    """Each of the tenant's organisations' daily reminder run, now instead of at its send time.

    It is the scheduled run itself (`sweep_run`), so the SweepRun claim keeps it to once a local
    day: the schedule does not run a day again that this ran, nor this one the schedule ran.
    """
    done = []
    for connection in connections_active().filter(tenant=tenant).order_by("name"):
        day = local_date(connection=connection, at=as_of)
        sent_on_day = ReminderSent.objects.filter(
            xero_tenant_id=connection.xero_tenant_id, sent_on=day
        )
        before = set(sent_on_day.values_list("pk", flat=True))
        run = sweep_run(connection=connection, as_of=as_of)
        done.append(
            SweepNow(
                organisation=connection.name,
                run=run
                or SweepRun.objects.filter(
                    xero_tenant_id=connection.xero_tenant_id, local_date=day
                ).first(),
                started=run is not None,
                queued=list(sent_on_day.exclude(pk__in=before).order_by("pk")),
            )
        )
    return done
