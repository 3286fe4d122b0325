"""The inbox of Xero webhook events: stored as received, claimed per organisation, processed
(each event's record fetched and applied), retried with backoff, replayed by operators.
"""

import json
import logging
import math
import re
import time
import uuid
from collections import defaultdict
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.db import connection as db_connection
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django_q.tasks import async_task

from billing_events.inbox import inbox_insert, xero_tenants_with_events_due
from billing_events.models import XeroEvent
from billing_events.services.poll import connection_initial_import
from billing_events.services.records import _records_apply, _retry_delay, _sync_for
from connections.selectors import tenant_ids_for_xero_tenants
from connections.xero import XeroClient, XeroError
from connections.xero_format import parse_xero_date
from messaging.services import messages_dispatch_inline

logger = logging.getLogger(__name__)

# Categories are compared case-insensitively (FACTS.md "Xero: webhooks"); SUBSCRIPTION events
# (App Store only) and anything new are stored for audit and ignored.
INVOICE, CREDITNOTE, CONTACT = "INVOICE", "CREDITNOTE", "CONTACT"
HANDLED_CATEGORIES = frozenset({INVOICE, CREDITNOTE, CONTACT})

# A claimed batch is invisible to other workers for this long; a worker killed mid-batch leaves
# it to the once-a-minute requeue after that (longer than Q_CLUSTER timeout 60 s).
CLAIM_LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 10


# How long one task keeps taking batches of an organisation that keeps receiving events.
DRAIN_FOR = timedelta(seconds=20)
# A task fetches an organisation's next batch no sooner than this after its last one, unless a
# full fetch (GET_BATCH events) is waiting or other organisations' events are: the first event
# of a quiet organisation is fetched at once, and the burst behind it is gathered into a few
# GETs of up to 50 invoices instead of one per delivery. Xero allows each organisation 60 calls
# a minute: fetching more often would only spend that sooner. While other organisations wait,
# the task does not sleep: it queues its organisation's next batch behind them, which gathers.
GATHER = timedelta(seconds=1)
GATHER_SLICE = 0.1  # seconds between looks at the other organisations while gathering
GET_BATCH = 50


PROCESS_TASK = "billing_events.tasks.events_process_task"
NO_CONNECTION = "No active connection for this tenantId."


class MalformedDelivery(ValueError):
    """Correctly signed, but not the JSON object Xero sends."""


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


def _due_count(*, connection) -> int:
    """How many of the organisation's events are due, up to a full fetch."""
    due = XeroEvent.objects.filter(
        xero_tenant_id=connection.xero_tenant_id,
        status=XeroEvent.Status.PENDING,
        next_attempt_at__lte=timezone.now(),
    ).values_list("pk", flat=True)[:GET_BATCH]
    return len(due)


def _gathered(*, connection, since) -> bool:
    """Wait until GATHER has passed since `since`, so the events arriving meanwhile join the
    next batch; False as soon as another organisation's events are due (a worker is better
    used on them)."""
    others = XeroEvent.objects.filter(status=XeroEvent.Status.PENDING).exclude(
        xero_tenant_id=connection.xero_tenant_id
    )
    slices = math.ceil((since + GATHER - timezone.now()).total_seconds() / GATHER_SLICE)
    for _ in range(slices):
        if others.filter(next_attempt_at__lte=timezone.now()).exists():
            return False
        time.sleep(GATHER_SLICE)
    return True


def events_drain(*, connection) -> int:
    """Process the organisation's due events batch after batch, until none is due, and send
    each batch's texts from this task as soon as the batch is committed: one queue hop from
    Xero's webhook to Twilio, not two. Batches follow each other no faster than GATHER unless a
    full one is waiting, so a burst costs a few Xero calls, not one per delivery; while other
    organisations wait, the organisation's next batch is queued behind them instead.

    Deliveries that arrive meanwhile leave the kick to this task when they see events waiting
    before theirs (_kicks_unless_pending): the claim after each batch takes them. Past
    DRAIN_FOR a fresh kick takes over, and texts not yet sent go to dispatch tasks, so no task
    outlives Q_CLUSTER's timeout.
    """
    deadline = timezone.now() + DRAIN_FOR
    total = 0
    while True:
        started = timezone.now()
        with messages_dispatch_inline(until=deadline):
            claimed = events_process(connection=connection)
        total += claimed
        if not claimed:
            return total
        due = _due_count(connection=connection)
        if not due:
            return total
        late = timezone.now() >= deadline
        if late or (due < GET_BATCH and not _gathered(connection=connection, since=started)):
            events_kick(xero_tenant_id=connection.xero_tenant_id)
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
