"""Three tenants' working days, in-process: the sandbox is Xero and Twilio, the clock moves.

`World` connects three sandbox organisations to three Dunwell tenants the OAuth way, then lets
bookkeepers act in Xero on a timetable (invoices approved, one webhook lost, payments) while it
does what production's processes do: the sandbox delivers due webhooks and status callbacks,
each schedule in config/schedules.py runs when it is due, and a worker runs every queued task
— until nothing is left to do. Waits the code makes (XeroClient's backoff, Retry-After, the
call budget) pass on the virtual clock instead of the wall clock.

`expected()` says, from the timetable alone, which messages must exist; `ledger_check()` holds
Dunwell's send log and the stand-in Twilio's record of what it received against it.
"""

import pydoc
import secrets
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db.models import Min
from django.test import Client
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.models import Schedule
from django_q.signing import SignedPackage
from django_q.tasks import async_task

from billing_events.models import OrganisationSync, ReminderStage, SweepRun, XeroEvent
from config.schedules import SCHEDULES
from connections.models import XeroConnection, XeroGrant
from connections.services import connections_attach, consent_complete
from dashboard.services import tenant_open
from messaging.models import Message
from messaging.services import messaging_settings_save
from sandbox import console
from sandbox.hooks import hooks_deliver_due
from sandbox.models import (
    Contact,
    Invoice,
    Organisation,
    OutboundHook,
    SmsMessage,
    TwilioAccount,
    TwilioFault,
)
from sandbox.models import OptOut as TwilioOptOut
from sandbox.seed import sandbox_seed
from sandbox.twilio_fake import contact_numbers
from tests.reliability.internet import Internet
from tests.sandbox.conftest import authorize, pkce_pair

FIRST_DAY = date(2027, 3, 1)  # a Monday; NZ and eastern Australia are on daylight time
BUSY_STEP = timedelta(minutes=1)
IDLE_STEP = timedelta(hours=1)
POLL_INTERVAL_MINUTES = 240
# Stages in use: two, so which reminder is due on which day is plain from the timetable.
STAGES = ("due_today", "overdue_1")

_EVERY = {
    Schedule.MINUTES: lambda minutes: timedelta(minutes=minutes),
    Schedule.HOURLY: lambda _: timedelta(hours=1),
    Schedule.DAILY: lambda _: timedelta(days=1),
}


@dataclass(frozen=True)
class Office:
    """One organisation in the sandbox Xero, its Dunwell tenant, and who its texts reach.

    `refused` is the contact Twilio will not text: opted out at Twilio (21610), a region the
    account may not send to (21408), or no phone in Xero at all.
    """

    organisation: str
    zone: str
    texted: tuple[str, str]
    refused: str
    refusal: str  # "21610", "21408" or "no_phone"


OFFICES = (
    Office("Kauri Bakery Ltd", "Pacific/Auckland", ("Aroha Ngata", "Ben Carter"), "Chloe Wong",
           "21610"),
    Office("Wattle Catering Pty Ltd", "Australia/Sydney", ("Grace Lee", "Ivy Nguyen"),
           "Harbour Corp Pty", "21408"),
    Office("Rimu Joinery Ltd", "Pacific/Auckland", ("Kiri Walker", "Liam Brown"), "Mere Tane",
           "no_phone"),
)  # fmt: skip
_RIMU_CONTACTS = {
    "Kiri Walker": [{"PhoneType": "MOBILE", "PhoneNumber": "+64 21 555 0111"}],
    "Liam Brown": [{"PhoneType": "MOBILE", "PhoneCountryCode": "64", "PhoneNumber": "27 555 0112"}],
    "Mere Tane": [],
}


def office_time(office: Office, day: int, clock: str) -> datetime:
    """`clock` o'clock in the office's own zone, `day` days into the timetable."""
    moment = datetime.combine(FIRST_DAY + timedelta(days=day), time.fromisoformat(clock))
    return moment.replace(tzinfo=ZoneInfo(office.zone))


def _rimu_create() -> Organisation:
    rimu = Organisation.objects.create(
        name="Rimu Joinery Ltd", short_code="!rimu", country_code="NZ", version="NZ",
        timezone="NEWZEALANDSTANDARDTIME", base_currency="NZD",
    )  # fmt: skip
    for name, phones in _RIMU_CONTACTS.items():
        first, _, last = name.partition(" ")
        Contact.objects.create(
            organisation=rimu, name=name, first_name=first, last_name=last, phones=phones
        )
    return rimu


@dataclass(frozen=True)
class Expected:
    tenant_id: int
    dedup_key: str
    reaches_phone: bool  # False: it must end failed or skipped, with a reason


@dataclass
class World:
    internet: Internet
    traveller: object  # time_machine's traveller: the virtual clock
    actions: list[tuple[datetime, Callable[[], None]]] = field(default_factory=list)
    task_errors: list[str] = field(default_factory=list)
    _schedules_next: dict[str, datetime] = field(default_factory=dict)

    # --- the virtual clock ---------------------------------------------------------------------

    def sleep(self, seconds: float) -> None:
        """What XeroClient's waits do here: let the time pass without waiting for it."""
        self.traveller.shift(seconds)

    # --- set-up: the sandbox's organisations, Dunwell's tenants, connected ------------------

    def open_offices(self) -> None:
        organisations = {o.name: o for o in [*sandbox_seed(), _rimu_create()]}
        # Connected an hour after the bookkeepers' earlier work: none of it is news. (Xero's
        # If-Modified-Since has whole seconds; a payment in the second of connecting would be.)
        self.traveller.shift(3600)
        for office in OFFICES:
            self._tenant_connect(office, organisations[office.organisation])

    def _tenant_connect(self, office: Office, organisation: Organisation) -> None:
        tenant, membership = tenant_open(
            name=office.organisation, owner_email=f"owner@{organisation.short_code[1:]}.test"
        )
        ReminderStage.objects.filter(tenant=tenant).exclude(key__in=STAGES).update(is_active=False)
        _twilio_set_up(tenant, office, organisation)
        _xero_connect(tenant, membership.user, organisation)

    # --- the bookkeepers' timetable ----------------------------------------------------------

    def timetable(self) -> None:
        """Per organisation, six invoices approved on day 0 (one webhook lost), payments on
        days 0 and 1; reminders on days 1 and 2 follow from the due dates (STAGES). The sandbox
        dates invoices by the UTC day: the afternoon is when that is the local day too, in NZ
        and Australia."""
        for office in OFFICES:
            contacts = Contact.objects.filter(organisation__name=office.organisation)
            by_name = {contact.name: contact for contact in contacts}
            first, second = (by_name[name] for name in office.texted)
            invoices = [
                ("unpaid", first, 1),
                ("paid-day-0", second, 1),
                ("part-paid-day-0", first, 1),
                ("paid-day-1", second, 1),
                ("refused", by_name[office.refused], 1),
                ("webhook-lost", first, 5),
            ]
            for n, (label, contact, due_in_days) in enumerate(invoices):
                approve = _invoice_approve(contact, due_in_days, label)
                self.actions.append((office_time(office, 0, f"13:{10 + n * 5}"), approve))
            both = _payments(office, full="paid-day-0", part="part-paid-day-0")
            self.actions.append((office_time(office, 0, "16:00"), both))
            self.actions.append(
                (office_time(office, 1, "16:00"), _payments(office, full="paid-day-1"))
            )
        self.actions.sort(key=lambda action: action[0])

    # --- running it ----------------------------------------------------------------------------

    def run(self) -> None:
        """Until the last day's reminders are out and nothing is left to do."""
        until = max(office_time(office, 2, "12:00") for office in OFFICES)
        limit = until + timedelta(days=1)
        while timezone.now() < until or self.open_work():
            if timezone.now() > limit:
                raise AssertionError(f"still busy a day after the timetable: {self.open_work()}")
            self._step()
            self.traveller.shift(self._next_step())

    def _step(self) -> None:
        now = timezone.now()
        while self.actions and self.actions[0][0] <= now:
            self.actions.pop(0)[1]()
        hooks_deliver_due()
        for name, (func, schedule_type, minutes) in SCHEDULES.items():
            if self._schedules_next.get(name, now) <= now:
                async_task(func)
                self._schedules_next[name] = now + _EVERY[schedule_type](minutes)
        self._tasks_run()

    def _tasks_run(self) -> None:
        """What a qcluster worker does with each queued task: run it, acknowledge it."""
        broker = get_broker()
        for _ in range(10_000):
            if not broker.queue_size():
                return
            for ack_id, package in broker.dequeue() or []:
                task = SignedPackage.loads(package)
                try:
                    pydoc.locate(task["func"])(*task["args"], **task["kwargs"])
                except Exception as error:  # the test asserts there were none
                    self.task_errors.append(f"{task['func']}{task['args']}: {error!r}")
                broker.acknowledge(ack_id)
        raise AssertionError("the task queue never emptied")

    def _next_step(self) -> timedelta:
        """A step to just past the next moment something is due, at most IDLE_STEP, so each
        day's reminder run starts soon after the tenant's send time."""
        now = timezone.now()
        due = [rows.aggregate(at=Min("next_attempt_at"))["at"] for rows in _open_rows().values()]
        due.append(OrganisationSync.objects.aggregate(at=Min("next_poll_at"))["at"])
        due.append(self.actions[0][0] if self.actions else None)
        soonest = min((moment for moment in due if moment is not None), default=now + IDLE_STEP)
        wait = soonest - now + timedelta(seconds=1)
        return max(wait if wait <= IDLE_STEP + BUSY_STEP else IDLE_STEP, BUSY_STEP)

    def open_work(self) -> dict[str, int]:
        work = {what: rows.count() for what, rows in _open_rows().items()}
        work["timetable actions"] = len(self.actions)
        work["queued tasks"] = get_broker().queue_size()
        return {what: count for what, count in work.items() if count}

    # --- what must have happened -------------------------------------------------------------

    def expected(self) -> list[Expected]:
        wanted = []
        for office in OFFICES:
            tenant_id = XeroConnection.objects.get(name=office.organisation).tenant_id
            organisation = Organisation.objects.get(name=office.organisation)
            planned = Invoice.objects.filter(
                organisation=organisation, reference__startswith="plan:"
            )
            for invoice in planned:
                reaches = invoice.reference != "plan:refused"
                keys = [f"invoice:{invoice.invoice_id}:issued"]
                keys += [f"payment:{p.payment_id}:receipt" for p in invoice.payments.all()]
                keys += [
                    f"invoice:{invoice.invoice_id}:reminder:{stage}"
                    for stage in _REMINDERS[invoice.reference.removeprefix("plan:")]
                ]
                wanted += [Expected(tenant_id, key, reaches) for key in keys]
        return wanted


def _twilio_set_up(tenant, office: Office, organisation: Organisation) -> None:
    """The tenant's own sandbox Twilio account, refusing texts to the office's `refused`."""
    account = TwilioAccount.objects.create(
        account_sid="AC" + secrets.token_hex(16),
        auth_token=secrets.token_hex(16),
        from_number="+15005550006",
        friendly_name=office.organisation,
    )
    messaging_settings_save(
        tenant=tenant,
        values={
            "twilio_account_sid": account.account_sid,
            "twilio_auth_token": account.auth_token,
            "twilio_from_number": account.from_number,
        },
    )
    refused = Contact.objects.get(organisation=organisation, name=office.refused)
    for number in contact_numbers(refused):
        if office.refusal == "21610":
            TwilioOptOut.objects.create(account=account, number=number)
        elif office.refusal == "21408":
            TwilioFault.objects.create(
                to_number=number, http_status=400, error_code=21408,
                message="Permission to send an SMS has not been enabled for the region",
            )  # fmt: skip


def _xero_connect(tenant, user, organisation: Organisation) -> None:
    """Connect to Xero: consent in the sandbox, then Dunwell's own code exchange and attach."""
    verifier, challenge = pkce_pair()
    state = secrets.token_urlsafe(16)
    redirect = authorize(Client(), organisations=[organisation], challenge=challenge, state=state)
    pending = consent_complete(
        tenant=tenant,
        query={"code": redirect["code"], "state": state},
        started={"state": state, "code_verifier": verifier, "tenant_id": tenant.pk},
    )
    connections_attach(
        tenant=tenant,
        user=user,
        pending=pending,
        xero_tenant_ids=[str(organisation.tenant_id)],
    )
    OrganisationSync.objects.create(
        tenant=tenant,
        xero_tenant_id=str(organisation.tenant_id),
        poll_interval_minutes=POLL_INTERVAL_MINUTES,
    )


def _open_rows() -> dict:
    """Rows with work still to do, each due at its `next_attempt_at`."""
    return {
        "pending Xero events": XeroEvent.objects.filter(status=XeroEvent.Status.PENDING),
        "messages not final": Message.objects.filter(
            status__in=("pending", "scheduled", "sending")
        ),
        "undelivered hooks": OutboundHook.objects.filter(status=OutboundHook.Status.PENDING),
        "unfinished sweeps": SweepRun.objects.filter(status__in=("running", "partial", "failed")),
    }


# Which stages each invoice of the timetable reaches before it is paid.
_REMINDERS = {
    "unpaid": STAGES,
    "paid-day-0": (),
    "part-paid-day-0": STAGES,
    "paid-day-1": ("due_today",),
    "refused": STAGES,
    "webhook-lost": (),
}


def _invoice_approve(contact: Contact, due_in_days: int, label: str):
    def act():
        invoice = console.invoice_create(
            contact=contact, total=Decimal("240.00"), due_in_days=due_in_days,
            reference=f"plan:{label}", approve=label != "unpaid",
        )  # fmt: skip
        if label == "unpaid":  # a draft first, approved a moment later: two webhooks
            console.invoice_approve(invoice=invoice)
        if label == "webhook-lost":  # Xero never delivered it: only the poll can find it
            OutboundHook.objects.filter(
                status=OutboundHook.Status.PENDING, body__contains=str(invoice.invoice_id).encode()
            ).delete()

    return act


def _payments(office: Office, *, full: str, part: str = ""):
    def act():
        invoices = Invoice.objects.filter(organisation__name=office.organisation)
        paid = invoices.get(reference=f"plan:{full}")
        console.payment_record(invoice=paid, amount=paid.amount_due)
        if part:
            half = invoices.get(reference=f"plan:{part}")
            console.payment_record(invoice=half, amount=half.amount_due / 2)

    return act


# --- the ledger ----------------------------------------------------------------------------------


def ledger_check(world: World) -> dict:
    """Every expected message exactly once; Twilio received each deliverable one exactly once
    and nothing else; refusals carry their reasons. Returns counts for the test's report."""
    expected = world.expected()
    messages = list(Message.objects.select_related("tenant"))
    by_key = Counter((m.tenant_id, m.dedup_key) for m in messages)
    assert not [k for k, n in by_key.items() if n > 1], "a notification was made twice"
    assert set(by_key) == {(e.tenant_id, e.dedup_key) for e in expected}, (
        "messages differ from the timetable: "
        f"missing {sorted({(e.tenant_id, e.dedup_key) for e in expected} - set(by_key))}, "
        f"unexpected {sorted(set(by_key) - {(e.tenant_id, e.dedup_key) for e in expected})}"
    )
    received = list(SmsMessage.objects.filter(direction=SmsMessage.Direction.OUTBOUND))
    sids = Counter(sms.sid for sms in received)
    reaches = {(e.tenant_id, e.dedup_key): e.reaches_phone for e in expected}
    for message in messages:
        if reaches[(message.tenant_id, message.dedup_key)]:
            assert message.status in ("sent", "delivered"), _explain(message)
            assert sids[message.provider_id] == 1, _explain(message)
        else:
            assert message.status in ("failed", "skipped"), _explain(message)
            assert message.error_code and (message.error_message or message.status_reason), (
                _explain(message)
            )
    delivered = [m for m in messages if reaches[(m.tenant_id, m.dedup_key)]]
    assert len(received) == len(delivered), "Twilio received a text twice, or one nobody sent"
    assert {m.provider_id for m in delivered} == set(sids)
    assert len({(sms.to, sms.body) for sms in received}) == len(received)
    unsettled = XeroEvent.objects.exclude(status__in=("processed", "ignored"))
    assert not unsettled.filter(last_error=""), "an event failed without saying why"
    assert not unsettled.filter(status="pending"), "an event was left pending"
    assert not XeroGrant.objects.exclude(status=XeroGrant.Status.ACTIVE), "a grant was lost"
    assert not world.task_errors, world.task_errors
    assert not world.internet.dunwell_errors(), world.internet.dunwell_errors()
    return {
        "messages": len(messages),
        "texts received by Twilio": len(received),
        "refused with a reason": len(messages) - len(delivered),
        "reconciled": Message.objects.filter(
            status_changes__note__startswith="Reconciled: Twilio has this message"
        ).count(),
        "failed events": unsettled.count(),
    }


def _explain(message: Message) -> str:
    history = list(message.status_changes.values_list("to_status", "error_code", "note"))
    return f"{message.dedup_key} ({message.status}, {message.error_code}): {history}"
