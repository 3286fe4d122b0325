"""Reminder sequences: the tenant's schedule, the daily sweep per organisation, the preview.

The sweep and the preview share one decision (`reminder_plan`), so "what will the next 30 days
send?" is answered by the very code that sends. The rules, in order:

- An invoice follows one schedule: the default one, or the one of the most specific segment
  that applies to it (billing_events/schedules.py); its stages (and their repeats) fall on local
  days counted from its due date.
- On a sweep day, only the latest stage that is due and not yet sent is considered: a stage
  missed while Dunwell was down is caught up once, never once per missed day; with "skip missed
  reminders" a stage goes on its own day or not at all. A sent stage supersedes earlier ones.
- No invoice gets two reminders on one day, nor a late (caught-up) reminder the day after
  another one: stages the tenant put on adjacent days (due today, 1 day overdue) go as set.
- Paused contacts and invoices, excluded contact groups and amounts below a stage's minimum are
  skipped; messaging itself skips contacts without a usable number and opted-out numbers (the
  preview says so in advance).

"Never twice" rests on two unique constraints: SweepRun (one run per organisation and local
day) and ReminderSent (one row per invoice and stage occurrence, inserted in the same
transaction as the notification, whose own dedup key is `invoice:<id>:reminder:<occurrence>`).
"""

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from billing_events.models import (
    ContactSnapshot,
    InvoiceSnapshot,
    OrganisationSync,
    ReminderPause,
    ReminderSent,
    ReminderSettings,
    ReminderStage,
    SweepRun,
)
from billing_events.payment_links import invoice_pay_url
from billing_events.schedules import Schedule, schedule_choose
from billing_events.selectors import (
    invoice_number_choose,
    invoice_tracking,
    reminder_schedules,
    segment_names_fill,
)
from billing_events.services import connection_poll, contact_card, invoices_apply
from connections.models import Tenant
from connections.selectors import Organisation, connections_active
from connections.xero import XeroClient, XeroError
from messaging.contacts import ContactCard
from messaging.selectors import contact_unreachable_reason
from messaging.services import notify

logger = logging.getLogger(__name__)

# (key, label, offset days, alert the team, repeat every, repeat times)
DEFAULT_STAGES = (
    ("due_soon", "Due soon", -7, False, None, 0),
    ("due_today", "Due today", 0, False, None, 0),
    ("overdue_1", "1 day overdue", 1, False, None, 0),
    ("overdue_7", "7 days overdue", 7, True, None, 0),
    ("overdue_14", "14 days overdue", 14, True, None, 0),
    ("overdue_30", "30 days overdue", 30, True, 14, 2),
)

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

# How far ahead the preview looks by default, and the sweep fetches missing contacts.
PREVIEW_HORIZON = timedelta(days=30)

SEND, SKIP = "send", "skip"
PAUSED = "Paused"
EXCLUDED = "In an excluded contact group"
BELOW_MINIMUM = "Below the stage's minimum amount"
REMINDED_YESTERDAY = "Postponed: a reminder went yesterday"


# --- the schedule ------------------------------------------------------------------------------


def reminder_defaults_create(*, tenant: Tenant) -> ReminderSettings:
    """The default schedule, created once per tenant (safe to call again: stages a tenant
    deleted are not brought back)."""
    settings, created = ReminderSettings.objects.get_or_create(tenant=tenant)
    if created:
        ReminderStage.objects.bulk_create(
            [
                ReminderStage(
                    tenant=tenant,
                    key=key,
                    label=label,
                    offset_days=offset,
                    alert_team=alert,
                    repeat_every_days=every,
                    repeat_times=times,
                )
                for key, label, offset, alert, every, times in DEFAULT_STAGES
            ],
            ignore_conflicts=True,
        )
    return settings


def reminder_pause_create(
    *,
    tenant: Tenant,
    contact_id: str = "",
    invoice_id: str = "",
    xero_tenant_id: str = "",
    resume_on: date | None = None,
    label: str = "",
    reason: str = ReminderPause.Reason.STAFF,
    note: str = "",
) -> ReminderPause:
    return ReminderPause.objects.create(
        tenant=tenant,
        contact_id=contact_id,
        invoice_id=invoice_id,
        xero_tenant_id=xero_tenant_id,
        resume_on=resume_on,
        label=label,
        reason=reason,
        note=note,
    )


# --- deciding one invoice on one day (pure) --------------------------------------------------


@dataclass(frozen=True)
class Occurrence:
    key: str  # the stage key, or "<stage key>:repeat:<n>"
    stage: ReminderStage
    day: date


@dataclass(frozen=True)
class Sent:
    occurrence: str
    scheduled_on: date
    sent_on: date


def occurrences_for(*, stages, due_date: date) -> list[Occurrence]:
    found = []
    for stage in stages:
        first = due_date + timedelta(days=stage.offset_days)
        found.append(Occurrence(stage.key, stage, first))
        if stage.repeat_every_days:
            for n in range(1, stage.repeat_times + 1):
                day = first + timedelta(days=stage.repeat_every_days * n)
                found.append(Occurrence(f"{stage.key}:repeat:{n}", stage, day))
    return sorted(found, key=lambda o: (o.day, o.stage.offset_days))


def occurrence_due(
    *,
    occurrences: list[Occurrence],
    sent: list[Sent],
    today: date,
    skip_missed: bool,
    starts_on: date | None = None,
) -> tuple[Occurrence | None, str]:
    """The occurrence to send today, or (the one held back, why), or (None, "").

    `starts_on` is the day the organisation was imported: a stage that fell due before Dunwell
    was connected was not missed by an outage, it is the past, and is never caught up.
    """
    last = max(sent, key=lambda s: s.sent_on, default=None)
    if last and last.sent_on >= today:
        return None, ""
    done = {s.occurrence for s in sent}
    floor = max((s.scheduled_on for s in sent), default=date.min)
    if starts_on:
        floor = max(floor, starts_on - timedelta(days=1))
    due = [o for o in occurrences if floor < o.day <= today and o.key not in done]
    if not due:
        return None, ""
    chosen = due[-1]
    if skip_missed and chosen.day != today:
        return None, ""
    late = chosen.day != today or (last is not None and last.sent_on != last.scheduled_on)
    if last and last.sent_on == today - timedelta(days=1) and late:
        return chosen, REMINDED_YESTERDAY
    return chosen, ""


# --- the plan shared by the sweep and the preview ----------------------------------------------


@dataclass
class PlanItem:
    invoice: InvoiceSnapshot
    contact: ContactCard
    occurrence: Occurrence
    action: str  # SEND or SKIP
    reason: str = ""
    schedule: Schedule | None = None

    @property
    def days_overdue(self) -> int:
        return (self.occurrence.day - self.invoice.due_date).days


@dataclass
class _Book:
    """Everything one organisation's plan needs, read once."""

    tenant: Tenant
    xero_tenant_id: str
    settings: ReminderSettings
    invoices: list[InvoiceSnapshot]
    contacts: dict[str, ContactSnapshot]
    pauses: list[ReminderPause]
    sent: dict[str, list[Sent]] = field(default_factory=dict)
    starts_on: date | None = None
    schedules: list[Schedule] = field(default_factory=list)
    gone: frozenset = frozenset()


def _open_invoices(*, tenant: Tenant, xero_tenant_id: str, stages, until: date):
    earliest_offset = min((s.offset_days for s in stages), default=0)
    # Overdue has no status of its own (FACTS.md): ACCREC, AUTHORISED, AmountDue > 0.
    return InvoiceSnapshot.objects.filter(
        tenant=tenant,
        xero_tenant_id=xero_tenant_id,
        type="ACCREC",
        status="AUTHORISED",
        amount_due__gt=0,
        due_date__lte=until - timedelta(days=earliest_offset),
    ).order_by("due_date", "number", "invoice_id")


def _book(*, connection, until: date, invoice_ids=None) -> _Book:
    tenant, xero_tenant_id = connection.tenant, connection.xero_tenant_id
    settings = reminder_defaults_create(tenant=tenant)
    schedules, gone = reminder_schedules(tenant=tenant)
    invoices = _open_invoices(
        tenant=tenant,
        xero_tenant_id=xero_tenant_id,
        stages=[stage for schedule in schedules for stage in schedule.stages],
        until=until,
    )
    if invoice_ids is not None:
        invoices = invoices.filter(invoice_id__in=invoice_ids)
    invoices = list(invoices)
    contact_ids = {invoice.contact_id for invoice in invoices}
    sent = defaultdict(list)
    for row in ReminderSent.objects.filter(
        xero_tenant_id=xero_tenant_id, invoice_id__in=[i.invoice_id for i in invoices]
    ):
        sent[row.invoice_id].append(Sent(row.occurrence, row.scheduled_on, row.sent_on))
    return _Book(
        tenant=tenant,
        xero_tenant_id=xero_tenant_id,
        settings=settings,
        invoices=invoices,
        contacts={
            c.contact_id: c
            for c in ContactSnapshot.objects.filter(
                xero_tenant_id=xero_tenant_id, contact_id__in=contact_ids
            )
        },
        pauses=list(
            ReminderPause.objects.filter(tenant=tenant).filter(
                Q(contact_id__in=contact_ids) | Q(invoice_id__in=[i.invoice_id for i in invoices])
            )
        ),
        sent=sent,
        starts_on=_import_day(connection),
        schedules=schedules,
        gone=gone,
    )


def _import_day(connection) -> date | None:
    imported_at = (
        OrganisationSync.objects.filter(xero_tenant_id=connection.xero_tenant_id)
        .values_list("imported_at", flat=True)
        .first()
    )
    return local_date(connection=connection, at=imported_at) if imported_at else None


def _is_paused(book: _Book, invoice: InvoiceSnapshot, day: date) -> bool:
    return any(
        (pause.invoice_id == invoice.invoice_id or pause.contact_id == invoice.contact_id)
        and (pause.resume_on is None or day < pause.resume_on)
        for pause in book.pauses
    )


def _skip_reason(book: _Book, invoice: InvoiceSnapshot, stage: ReminderStage, day: date) -> str:
    if _is_paused(book, invoice, day):
        return PAUSED
    snapshot = book.contacts.get(invoice.contact_id)
    if snapshot and set(snapshot.group_ids) & set(book.settings.excluded_group_ids):
        return EXCLUDED
    if stage.minimum_amount_due is not None and invoice.amount_due < stage.minimum_amount_due:
        return BELOW_MINIMUM
    return ""


def _card(book: _Book, invoice: InvoiceSnapshot) -> ContactCard:
    snapshot = book.contacts.get(invoice.contact_id)
    if snapshot is None:
        return ContactCard(
            contact_id=invoice.contact_id,
            name=invoice.contact_id,
            xero_tenant_id=invoice.xero_tenant_id,
        )
    return contact_card(snapshot=snapshot)


def schedule_for(book: _Book, invoice: InvoiceSnapshot) -> tuple[Schedule, str]:
    """The schedule this invoice follows, and why (billing_events/schedules.py)."""
    return schedule_choose(
        schedules=book.schedules,
        contact=_card(book, invoice),
        tracking=invoice_tracking(snapshot=invoice),
        gone=book.gone,
    )


def reminder_plan(book: _Book, *, day: date) -> list[PlanItem]:
    """What the sweep of `day` does with each open invoice (those with nothing due are left out)."""
    items = []
    for invoice in book.invoices:
        if invoice.due_date is None:
            continue
        schedule, _ = schedule_for(book, invoice)
        occurrence, held_back = occurrence_due(
            occurrences=occurrences_for(stages=schedule.stages, due_date=invoice.due_date),
            sent=book.sent.get(invoice.invoice_id, []),
            today=day,
            skip_missed=book.settings.skip_missed,
            starts_on=book.starts_on,
        )
        if occurrence is None:
            continue
        reason = held_back or _skip_reason(book, invoice, occurrence.stage, day)
        action = SKIP if reason else SEND
        items.append(PlanItem(invoice, _card(book, invoice), occurrence, action, reason, schedule))
    return items


# --- the sweep -------------------------------------------------------------------------------


def local_date(*, connection, at: datetime) -> date:
    return at.astimezone(ZoneInfo(connection.timezone)).date()


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
            xero_tenant_id=connection.xero_tenant_id,
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


def _recheck(*, connection, client: XeroClient, items: list[PlanItem]) -> set[str]:
    """Ask Xero about these invoices now and apply what it says (a payment since the last
    webhook is announced and its reminders cancelled); return the ids Xero returned."""
    fresh = client.get_invoices(ids=[item.invoice.invoice_id for item in items])
    invoices_apply(connection=connection, client=client, invoices=fresh)
    return {invoice["InvoiceID"] for invoice in fresh}


def _reminder_send(*, connection, item: PlanItem, day: date) -> bool:
    invoice, occurrence = item.invoice, item.occurrence
    with transaction.atomic():
        try:
            with transaction.atomic():
                ReminderSent.objects.create(
                    tenant=connection.tenant,
                    xero_tenant_id=connection.xero_tenant_id,
                    invoice_id=invoice.invoice_id,
                    occurrence=occurrence.key,
                    stage_key=occurrence.stage.key,
                    scheduled_on=occurrence.day,
                    sent_on=day,
                    alert_team=occurrence.stage.alert_team and occurrence.stage.offset_days > 0,
                )
        except IntegrityError:
            return False  # a second worker or an earlier pass handled this occurrence
        notify(
            tenant=connection.tenant,
            kind="reminder",
            contact=item.contact,
            context=_invoice_context(invoice, connection=connection, day=day)
            | {"reminder_stage": occurrence.stage.key},
            dedup_key=f"invoice:{invoice.invoice_id}:reminder:{occurrence.key}",
            invoice_id=invoice.invoice_id,
            tracking=invoice_tracking(snapshot=invoice),
        )
    return True


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
        "organisation_name": connection.name,
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
    returned = _recheck(connection=connection, client=client, items=batch)
    missing = [item.invoice.invoice_id for item in batch if item.invoice.invoice_id not in returned]
    if missing:
        run.unconfirmed_invoice_ids = [*run.unconfirmed_invoice_ids, *missing]
        SweepRun.objects.filter(pk=run.pk).update(
            unconfirmed_invoice_ids=run.unconfirmed_invoice_ids
        )
    # Decide again on what Xero just said: paid, voided and deleted invoices have left the book.
    book = _book(connection=connection, until=day, invoice_ids=sorted(returned))
    sent = 0
    for item in reminder_plan(book, day=day):
        if item.action == SEND:
            sent += _reminder_send(connection=connection, item=item, day=day)
    return sent


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


# --- the team's daily digest -----------------------------------------------------------------


def _lines(value: str) -> list[str]:
    return [line.strip() for line in value.splitlines() if line.strip()]


def team_digest_send(*, tenant: Tenant, day: date) -> int:
    """One message per team recipient listing today's overdue reminders of stages that alert
    the team — sent once the last of the tenant's organisations has finished its run."""
    organisations = set(
        connections_active().filter(tenant=tenant).values_list("xero_tenant_id", flat=True)
    )
    finished = set(
        SweepRun.objects.filter(
            tenant=tenant, local_date=day, status=SweepRun.Status.DONE
        ).values_list("xero_tenant_id", flat=True)
    )
    if organisations - finished:
        return 0
    alerts = ReminderSent.objects.filter(tenant=tenant, sent_on=day, alert_team=True)
    invoices = {
        (i.xero_tenant_id, i.invoice_id): i
        for i in InvoiceSnapshot.objects.filter(
            tenant=tenant, invoice_id__in=alerts.values_list("invoice_id", flat=True)
        )
    }
    contacts = {
        (c.xero_tenant_id, c.contact_id): c.name
        for c in ContactSnapshot.objects.filter(
            tenant=tenant, contact_id__in=[i.contact_id for i in invoices.values()]
        )
    }
    overdue = [
        {
            "invoice_number": invoice.number,
            "contact_name": contacts.get((invoice.xero_tenant_id, invoice.contact_id), ""),
            "amount_due": invoice.amount_due,
            "currency": invoice.currency,
            "days_overdue": (day - invoice.due_date).days,
        }
        for invoice in sorted(invoices.values(), key=lambda i: (i.due_date, i.number))
        if invoice.status == "AUTHORISED" and invoice.amount_due > Decimal(0)
    ]
    if not overdue:
        return 0
    settings = reminder_defaults_create(tenant=tenant)
    recipients = [
        (
            "sms",
            ContactCard(
                contact_id="",
                name="Accounts team",
                phones=({"PhoneType": "MOBILE", "PhoneNumber": phone},),
            ),
            phone,
        )
        for phone in _lines(settings.team_phones)
    ] + [
        ("email", ContactCard(contact_id="", name="Accounts team", email=email), email)
        for email in _lines(settings.team_emails)
    ]
    for channel, card, address in recipients:
        notify(
            tenant=tenant,
            kind="team_overdue_alert",
            contact=card,
            context={"organisation_name": tenant.name, "overdue_invoices": overdue},
            dedup_key=f"team:{tenant.pk}:digest:{day.isoformat()}:{address}",
            channels=[channel],
        )
    return len(recipients)


# --- the preview -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PreviewItem:
    day: date
    organisation: Organisation
    invoice_id: str
    invoice_number: str
    contact_name: str
    stage: str
    occurrence: str
    amount_due: Decimal
    currency: str
    sends: bool
    reason: str = ""
    schedule: str = ""  # which schedule the invoice follows (billing_events/schedules.py)


def reminders_preview(
    *, tenant: Tenant, days: int = 30, as_of: datetime, organisation: str = ""
) -> dict[date, list[PreviewItem]]:
    """Per local day, the reminders the schedule would send, and those it would skip and why;
    only those of `organisation` (a Xero tenantId) when given.

    Assumes every open invoice stays unpaid and the sweep runs each day; a day whose run is
    done already shows only what is still to come.
    """
    by_day: dict[date, list[PreviewItem]] = defaultdict(list)
    connections = connections_active().filter(tenant=tenant)
    if organisation:
        connections = connections.filter(xero_tenant_id=organisation)
    for connection in connections:
        today = local_date(connection=connection, at=as_of)
        last = today + timedelta(days=days - 1)
        book = _book(connection=connection, until=last)
        done_today = SweepRun.objects.filter(
            xero_tenant_id=connection.xero_tenant_id, local_date=today, status=SweepRun.Status.DONE
        ).exists()
        for offset in range(int(done_today), days):
            day = today + timedelta(days=offset)
            for item in reminder_plan(book, day=day):
                if item.action == SEND:
                    book.sent.setdefault(item.invoice.invoice_id, []).append(
                        Sent(item.occurrence.key, item.occurrence.day, day)
                    )
                    reason = contact_unreachable_reason(
                        tenant=tenant,
                        kind="reminder",
                        contact=item.contact,
                        reminder_stage=item.occurrence.stage.key,
                        tracking=invoice_tracking(snapshot=item.invoice),
                    )
                elif item.occurrence.day == day:
                    reason = item.reason
                else:
                    continue  # a late stage still held back: said on its own day already
                by_day[day].append(
                    PreviewItem(
                        day=day,
                        organisation=Organisation(connection.xero_tenant_id, connection.name),
                        invoice_id=item.invoice.invoice_id,
                        invoice_number=item.invoice.number,
                        contact_name=item.contact.name,
                        stage=item.occurrence.stage.label,
                        occurrence=item.occurrence.key,
                        amount_due=item.invoice.amount_due,
                        currency=item.invoice.currency,
                        sends=not reason,
                        reason=reason,
                        schedule=item.schedule.label,
                    )
                )
    return dict(sorted(by_day.items()))


# --- staff edits -------------------------------------------------------------------------------


def reminder_schedule_save(*, tenant: Tenant, settings_form, stage_formset) -> None:
    """Save the settings and the stages together; a clash of keys or offsets saves nothing."""
    with transaction.atomic():
        settings_form.save()
        for stage in stage_formset.save(commit=False):
            stage.tenant = tenant
            stage.save()
        for stage in stage_formset.deleted_objects:
            stage.delete()


def reminder_pause_add(
    *,
    tenant: Tenant,
    invoice_number: str = "",
    contact_name: str = "",
    resume_on=None,
    organisation: str = "",
) -> ReminderPause:
    """Pause one invoice (by number) or one contact (by name) of this tenant, in `organisation`
    (a Xero tenantId) when given. Raises InvoiceNumberAmbiguous when several organisations have
    an invoice of that number and none was given; never pauses one of them silently."""
    if invoice_number:
        invoice = invoice_number_choose(
            tenant=tenant, number=invoice_number, organisation=organisation
        )
        if invoice is None:
            raise ValidationError(f"No sales invoice {invoice_number} in Xero.")
        return reminder_pause_create(
            tenant=tenant,
            invoice_id=invoice.invoice_id,
            xero_tenant_id=invoice.organisation.id,
            resume_on=resume_on,
            label=invoice.number,
        )
    contacts = ContactSnapshot.objects.filter(tenant=tenant, name__iexact=contact_name)
    if organisation:
        contacts = contacts.filter(xero_tenant_id=organisation)
    if len({row.xero_tenant_id for row in contacts}) > 1:
        raise ValidationError(
            f"Several of your organisations have a contact named {contact_name}: "
            "choose the organisation."
        )
    contact = contacts.first()
    if contact is None:
        raise ValidationError(f"No contact named {contact_name} in Xero.")
    return reminder_pause_create(
        tenant=tenant,
        contact_id=contact.contact_id,
        xero_tenant_id=contact.xero_tenant_id,
        resume_on=resume_on,
        label=contact.name,
    )


SCHEDULE_CONFLICT = (
    "Two stages have the same key, or the same number of days in one schedule (the same segment)."
)


class ScheduleConflict(Exception):
    """Two stages would share a key, or a number of days within one schedule."""


def reminder_schedule_replace(
    *, tenant: Tenant, values: dict, stages: list[dict]
) -> ReminderSettings:
    """Replace the settings and the whole list of stages at once (the REST API's PUT).

    Stages are named by their key everywhere they matter (sent reminders, templates), never by
    row id, so the old rows are deleted and the new ones inserted: swapping two stages' days can
    never trip the unique constraints halfway, and a real clash (the constraints decide) saves
    nothing.
    """
    settings = reminder_defaults_create(tenant=tenant)
    for name, value in values.items():
        setattr(settings, name, value)
    settings.full_clean(exclude=["tenant"])
    rows = [ReminderStage(tenant=tenant, **stage) for stage in stages]
    for row in rows:
        segment_names_fill(row, tenant=tenant)
        row.full_clean(exclude=["tenant"], validate_unique=False, validate_constraints=False)
    try:
        with transaction.atomic():
            settings.save()
            ReminderStage.objects.filter(tenant=tenant).delete()
            ReminderStage.objects.bulk_create(rows)
    except IntegrityError:
        raise ScheduleConflict(SCHEDULE_CONFLICT) from None
    return settings
