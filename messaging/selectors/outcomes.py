"""How messages turned out, per template and per day, and what is queued, for the dashboard and
the weekly summary.
"""

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Count, Min, Q
from django.db.models.functions import TruncDate

from connections.models import Tenant
from messaging.models import (
    PHONE_CHANNELS,
    Message,
)

_S = Message.Status
# Reached the provider; "failed" counts both refusals and failed deliveries.
OUTCOMES = {
    "sent": (_S.SENT, _S.DELIVERED, _S.UNDELIVERED),
    "delivered": (_S.DELIVERED,),
    "failed": (_S.FAILED, _S.UNDELIVERED),
    "skipped": (_S.SKIPPED,),
}


@dataclass(frozen=True)
class Outcomes:
    sent: int
    delivered: int
    failed: int
    skipped: int
    phone_sent: int  # SMS and WhatsApp only: email never reports delivery

    @property
    def delivery_rate(self) -> int | None:
        """Per cent of texts Twilio confirmed delivered, of those it accepted."""
        if not self.phone_sent:
            return None
        return round(100 * self.delivered / self.phone_sent)


def message_outcomes(*, tenant: Tenant, now: datetime) -> dict[int, Outcomes]:
    """Counts for the last 7 and 30 days, in one query."""
    counts = {}
    for days in (7, 30):
        since = Q(created_at__gte=now - timedelta(days=days))
        for name, statuses in OUTCOMES.items():
            counts[f"{name}_{days}"] = Count("pk", filter=since & Q(status__in=statuses))
        counts[f"phone_sent_{days}"] = Count(
            "pk",
            filter=since & Q(status__in=OUTCOMES["sent"], channel__in=PHONE_CHANNELS),
        )
    row = Message.objects.filter(tenant=tenant, created_at__gte=now - timedelta(days=30)).aggregate(
        **counts
    )
    return {
        days: Outcomes(
            **{
                name: row[f"{name}_{days}"]
                for name in ("sent", "delivered", "failed", "skipped", "phone_sent")
            }
        )
        for days in (7, 30)
    }


# Exclusive buckets for the chart's stacked bars (a message is in one bar segment only).
DAILY_BUCKETS = {
    "delivered": (_S.DELIVERED,),
    "sent": (_S.SENT,),
    "failed": (_S.FAILED, _S.UNDELIVERED),
    "skipped": (_S.SKIPPED,),
}


def message_daily_outcomes(*, tenant: Tenant, now: datetime, days: int = 30) -> list[dict]:
    """One entry per day (the tenant's days), oldest first, zeros included, in one query."""
    zone = ZoneInfo(tenant.timezone)
    today = now.astimezone(zone).date()
    first = today - timedelta(days=days - 1)
    rows = (
        Message.objects.filter(tenant=tenant, created_at__gte=datetime.combine(first, time(), zone))
        .annotate(day=TruncDate("created_at", tzinfo=zone))
        .values("day")
        .annotate(
            **{
                name: Count("pk", filter=Q(status__in=statuses))
                for name, statuses in DAILY_BUCKETS.items()
            }
        )
        .order_by("day")
    )
    by_day = {row["day"]: row for row in rows}
    empty = dict.fromkeys(DAILY_BUCKETS, 0)
    return [
        {**empty, **by_day.get(first + timedelta(days=n), {}), "day": first + timedelta(days=n)}
        for n in range(days)
    ]


@dataclass(frozen=True)
class Queue:
    pending: int
    scheduled: int
    sending: int
    oldest: datetime | None  # the oldest message still waiting to go out
    next_scheduled: datetime | None


def message_queue(*, tenant: Tenant) -> Queue:
    waiting = (_S.PENDING, _S.SCHEDULED, _S.SENDING)
    row = Message.objects.filter(tenant=tenant, status__in=waiting).aggregate(
        pending=Count("pk", filter=Q(status=_S.PENDING)),
        scheduled=Count("pk", filter=Q(status=_S.SCHEDULED)),
        sending=Count("pk", filter=Q(status=_S.SENDING)),
        oldest=Min("created_at"),
        next_scheduled=Min("send_after", filter=Q(status=_S.SCHEDULED)),
    )
    return Queue(**row)
