"""Per-organisation call budget shared by every worker process (docs/architecture.md invariant 6).

Xero allows each organisation 60 calls a minute, 5,000 a day and 5 at once (FACTS.md). A call
takes a place in the budget *before* it is made, so a burst spread over many workers never earns
a 429. Both back ends keep a sliding log of calls — a fixed per-minute counter would let 2×60
calls through around a minute boundary. The database is the default; Redis is used when
REDIS_URL is set.
"""

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

from django.conf import settings
from django.db import connection as db_connection
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from connections.models import XeroCall, XeroRateBudget

# One second more than Xero's minute: calls reach Xero a little after they leave, and unevenly.
MINUTE = timedelta(seconds=61)
DAY = timedelta(days=1)
# A slot held by a worker that died frees itself after this (longer than any request timeout).
LEASE = timedelta(minutes=2)
CONCURRENT_POLL_SECONDS = 0.2


class BudgetExhausted(Exception):
    def __init__(self, reason: str, retry_after: float):
        super().__init__(f"Xero {reason} budget spent; try again in {retry_after:.0f} s")
        self.reason = reason
        self.retry_after = retry_after


@dataclass(frozen=True)
class Wait:
    reason: str  # "minute", "day" or "concurrent"
    seconds: float


@dataclass(frozen=True)
class Limits:
    minute: int
    day: int
    concurrent: int

    @classmethod
    def from_settings(cls) -> "Limits":
        return cls(
            minute=settings.XERO_MINUTE_LIMIT,
            day=settings.XERO_DAY_LIMIT,
            concurrent=settings.XERO_CONCURRENT_LIMIT,
        )


# The log of one organisation's calls, as DatabaseBudget._log reads it. Written as SQL: composing
# its three subqueries with the ORM cost more CPU than the Xero call it guards (bench/RESULTS.md
# "This round").
_LOG = """
SELECT
  (SELECT started_at FROM connections_xerocall WHERE xero_tenant_id = %s AND started_at > %s
   ORDER BY started_at DESC LIMIT 1 OFFSET %s),
  (SELECT started_at FROM connections_xerocall WHERE xero_tenant_id = %s AND started_at > %s
   ORDER BY started_at DESC LIMIT 1 OFFSET %s),
  (SELECT COUNT(*) FROM connections_xerocall
   WHERE xero_tenant_id = %s AND finished_at IS NULL AND started_at > %s)
"""


def _moment(value: datetime | str | None) -> datetime | None:
    """A timestamp the log returned: SQLite gives text in UTC, PostgreSQL an aware datetime."""
    if isinstance(value, str):
        value = parse_datetime(value)
    if value is not None and timezone.is_naive(value):
        value = timezone.make_aware(value, UTC)
    return value


class DatabaseBudget:
    """The sliding log is XeroCall rows; takers of one organisation queue on its budget row.

    The count-then-insert is safe because it runs under the row lock (select_for_update; on
    SQLite the IMMEDIATE transaction is the lock). `durable=True`: a place taken inside a caller's
    transaction would stay invisible to other workers until that transaction ends.
    """

    def take(self, xero_tenant_id: str, limits: Limits) -> int | Wait:
        with transaction.atomic(durable=True):
            budget = self._locked(xero_tenant_id)
            now = timezone.now()
            if budget.blocked_until and budget.blocked_until > now:
                return Wait(budget.blocked_reason, (budget.blocked_until - now).total_seconds())
            log = self._log(xero_tenant_id, limits, now=now)
            for reason, span in (("day", DAY), ("minute", MINUTE)):
                if log[reason] is not None:
                    return Wait(reason, (log[reason] + span - now).total_seconds())
            if log["in_flight"] >= limits.concurrent:
                return Wait("concurrent", CONCURRENT_POLL_SECONDS)
            return XeroCall.objects.create(xero_tenant_id=xero_tenant_id, started_at=now).pk

    @staticmethod
    def _log(xero_tenant_id: str, limits: Limits, *, now) -> dict:
        """In one statement, read after the lock is held (so it sees every call its previous
        holder logged): the limit-th latest call of the day and of the minute (None while the
        window has room) and the calls in flight."""
        moment = db_connection.ops.adapt_datetimefield_value
        with db_connection.cursor() as cursor:
            cursor.execute(
                _LOG,
                [
                    *(xero_tenant_id, moment(now - DAY), limits.day - 1),
                    *(xero_tenant_id, moment(now - MINUTE), limits.minute - 1),
                    *(xero_tenant_id, moment(now - LEASE)),
                ],
            )
            day, minute, in_flight = cursor.fetchone()
        return {"day": _moment(day), "minute": _moment(minute), "in_flight": in_flight}

    @staticmethod
    def _locked(xero_tenant_id: str) -> XeroRateBudget:
        budgets = XeroRateBudget.objects.select_for_update().filter(xero_tenant_id=xero_tenant_id)
        budget = budgets.first()
        if budget is None:  # the organisation's first call: make its row, then queue on it
            XeroRateBudget.objects.bulk_create(
                [XeroRateBudget(xero_tenant_id=xero_tenant_id)], ignore_conflicts=True
            )
            budget = budgets.get()
        return budget

    def release(self, call_id: int) -> None:
        XeroCall.objects.filter(pk=call_id).update(finished_at=timezone.now())

    def block(self, xero_tenant_id: str, reason: str, seconds: float) -> None:
        XeroRateBudget.objects.filter(xero_tenant_id=xero_tenant_id).update(
            blocked_until=timezone.now() + timedelta(seconds=seconds), blocked_reason=reason
        )

    def prune(self) -> int:
        deleted, _ = XeroCall.objects.filter(started_at__lt=timezone.now() - DAY).delete()
        return deleted


# One script, so the check and the take are a single atomic step inside Redis.
_TAKE = """
local now, member = tonumber(ARGV[1]), ARGV[2]
local day_limit, day_span = tonumber(ARGV[3]), tonumber(ARGV[4])
local minute_limit, minute_span = tonumber(ARGV[5]), tonumber(ARGV[6])
local concurrent_limit, lease = tonumber(ARGV[7]), tonumber(ARGV[8])
local blocked = redis.call('GET', KEYS[4])
if blocked then
  local reason, until_ms = string.match(blocked, '([^:]+):(%d+)')
  if tonumber(until_ms) > now then return {reason, tostring(tonumber(until_ms) - now)} end
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - day_span)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - minute_span)
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= day_limit then
  local oldest = redis.call('ZRANGE', KEYS[1], -day_limit, -day_limit, 'WITHSCORES')
  return {'day', tostring(tonumber(oldest[2]) + day_span - now)}
end
if redis.call('ZCARD', KEYS[2]) >= minute_limit then
  local oldest = redis.call('ZRANGE', KEYS[2], -minute_limit, -minute_limit, 'WITHSCORES')
  return {'minute', tostring(tonumber(oldest[2]) + minute_span - now)}
end
if redis.call('ZCARD', KEYS[3]) >= concurrent_limit then
  return {'concurrent', '200'}
end
redis.call('ZADD', KEYS[1], now, member)
redis.call('ZADD', KEYS[2], now, member)
redis.call('ZADD', KEYS[3], now + lease, member)
redis.call('PEXPIRE', KEYS[1], day_span)
redis.call('PEXPIRE', KEYS[2], minute_span)
redis.call('PEXPIRE', KEYS[3], lease)
return {'ok', member}
"""


def _ms(seconds: float) -> int:
    return int(seconds * 1000)


@cache
def _redis(url: str):
    import redis

    return redis.Redis.from_url(url)


class RedisBudget:
    """The same sliding log as sorted sets, for deployments that already run Redis."""

    def __init__(self, url: str):
        self.client = _redis(url)
        self.script = self.client.register_script(_TAKE)

    @staticmethod
    def _keys(xero_tenant_id: str) -> list[str]:
        kinds = ("day", "minute", "flight", "blocked")
        return [f"dunwell:xero:{xero_tenant_id}:{kind}" for kind in kinds]

    def take(self, xero_tenant_id: str, limits: Limits) -> tuple[str, str] | Wait:
        member = uuid.uuid4().hex
        args = [
            _ms(timezone.now().timestamp()),
            member,
            limits.day,
            _ms(DAY.total_seconds()),
            limits.minute,
            _ms(MINUTE.total_seconds()),
            limits.concurrent,
            _ms(LEASE.total_seconds()),
        ]
        verdict, value = (v.decode() for v in self.script(self._keys(xero_tenant_id), args))
        if verdict == "ok":
            return xero_tenant_id, member
        return Wait(verdict, max(int(value), 0) / 1000)

    def release(self, handle: tuple[str, str]) -> None:
        xero_tenant_id, member = handle
        self.client.zrem(self._keys(xero_tenant_id)[2], member)

    def block(self, xero_tenant_id: str, reason: str, seconds: float) -> None:
        until_ms = _ms(timezone.now().timestamp() + seconds)
        key = self._keys(xero_tenant_id)[3]
        self.client.set(key, f"{reason}:{until_ms}", px=max(_ms(seconds), 1))

    def prune(self) -> int:
        return 0  # sorted sets trim themselves on every take and expire when idle


def budget_backend() -> DatabaseBudget | RedisBudget:
    if settings.REDIS_URL:
        return RedisBudget(settings.REDIS_URL)
    return DatabaseBudget()


@contextmanager
def call_slot(
    xero_tenant_id: str,
    *,
    sleep: Callable[[float], None],
    backend: DatabaseBudget | RedisBudget | None = None,
) -> Iterator[None]:
    """Hold one place in the organisation's budget for the duration of one HTTP call.

    Waits (through `sleep`, so tests need not) until the minute window or a concurrent slot
    frees; raises BudgetExhausted when the day is spent or the wait would pass
    XERO_BUDGET_MAX_WAIT_SECONDS, so a task gives up before its 60 s timeout and retries later.
    """
    backend = backend or budget_backend()
    limits = Limits.from_settings()
    waited = 0.0
    while True:
        outcome = backend.take(xero_tenant_id, limits)
        if not isinstance(outcome, Wait):
            break
        seconds = max(outcome.seconds, 0.01)
        if outcome.reason == "day" or waited + seconds > settings.XERO_BUDGET_MAX_WAIT_SECONDS:
            raise BudgetExhausted(outcome.reason, seconds)
        sleep(seconds)
        waited += seconds
    try:
        yield
    finally:
        backend.release(outcome)
