"""How messages turned out, per template and per day, and what is queued, for the dashboard and
the weekly summary. A staff member's test send (Message.is_test) is in no count.
"""

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Count, Min, Q, QuerySet
from django.db.models.functions import TruncDate

from connections.models import Tenant
from messaging.models import (
    PHONE_CHANNELS,
    TWIML_REPLY_KINDS,
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


# The delivery rate counts only texts that get a delivery report and whose report has come:
# Twilio reports on a text sent through its API (delivered, undelivered, or failed after it
# accepted the text and gave it a SID). Automatic replies go back inside Twilio's webhook
# answer (TwiML), are logged `sent`, and never get a report: they are left out, as are emails
# (SendGrid's 202 is all we hear). A text still waiting for its report is counted apart.
REPORTED = Q(channel__in=PHONE_CHANNELS) & (
    Q(status__in=(_S.DELIVERED, _S.UNDELIVERED)) | (Q(status=_S.FAILED) & ~Q(provider_id=""))
)
AWAITING_REPORT = Q(channel__in=PHONE_CHANNELS, status=_S.SENT) & ~Q(kind__in=TWIML_REPLY_KINDS)


@dataclass(frozen=True)
class Outcomes:
    sent: int
    delivered: int
    failed: int
    skipped: int
    reported: int  # texts whose delivery report has come (REPORTED)
    awaiting_report: int  # texts Twilio took that may still report (AWAITING_REPORT)

    @property
    def delivery_rate(self) -> int | None:
        """Per cent delivered, of the texts whose delivery report has come."""
        if not self.reported:
            return None
        return round(100 * self.delivered / self.reported)


_COUNTED = {name: Q(status__in=statuses) for name, statuses in OUTCOMES.items()} | {
    "reported": REPORTED,
    "awaiting_report": AWAITING_REPORT,
}


def _outcome_counts(within: Q | None = None) -> dict[str, Count]:
    return {
        name: Count("pk", filter=wanted if within is None else within & wanted)
        for name, wanted in _COUNTED.items()
    }


def message_outcomes_of(*, messages: QuerySet[Message]) -> Outcomes:
    """The outcome counts of these messages, in one query."""
    return Outcomes(**messages.aggregate(**_outcome_counts()))


def message_outcomes(*, tenant: Tenant, now: datetime) -> dict[int, Outcomes]:
    """Counts for the last 7 and 30 days, in one query."""
    counts = {}
    for days in (7, 30):
        since = Q(created_at__gte=now - timedelta(days=days))
        counts |= {f"{name}_{days}": count for name, count in _outcome_counts(since).items()}
    row = Message.objects.filter(
        tenant=tenant, is_test=False, created_at__gte=now - timedelta(days=30)
    ).aggregate(**counts)
    return {
        days: Outcomes(**{name: row[f"{name}_{days}"] for name in _COUNTED}) for days in (7, 30)
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
        Message.objects.filter(
            tenant=tenant, is_test=False, created_at__gte=datetime.combine(first, time(), zone)
        )
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
    quiet_hours: int  # held until the recipient's morning
    retries: int  # waiting for a later try, quiet hours playing no part
    sending: int
    oldest: datetime | None  # the oldest message still waiting to go out
    next_scheduled: datetime | None


def message_queue(*, tenant: Tenant) -> Queue:
    waiting = (_S.PENDING, _S.SCHEDULED, _S.SENDING)
    held = Q(status=_S.SCHEDULED, quiet_hours_hold=True)
    row = Message.objects.filter(tenant=tenant, status__in=waiting).aggregate(
        pending=Count("pk", filter=Q(status=_S.PENDING)),
        quiet_hours=Count("pk", filter=held),
        retries=Count("pk", filter=Q(status=_S.SCHEDULED) & ~held),
        sending=Count("pk", filter=Q(status=_S.SENDING)),
        oldest=Min("created_at"),
        next_scheduled=Min("send_after", filter=Q(status=_S.SCHEDULED)),
    )
    return Queue(**row)
