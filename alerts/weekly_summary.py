"""The weekly summary emailed to each tenant's owners on Monday morning: last week in figures.

A week is the tenant's own: Monday 00:00 to the next Monday 00:00 in its time zone. The
WeeklySummary row (unique per tenant and week) is what makes the email go once.
"""

import logging
import statistics
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import partial
from smtplib import SMTPException
from zoneinfo import ZoneInfo

from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django_q.tasks import async_task

from alerts.emails import absolute_url, owners_email
from alerts.models import AlertSettings, WeeklySummary
from billing_events.selectors import invoices_paid_after_reminder
from connections.members import email_configured
from connections.models import Tenant
from messaging.models import Kind, Message
from messaging.selectors import (
    Outcomes,
    contacts_needing_phone,
    message_outcomes_of,
    notification_key,
)

logger = logging.getLogger(__name__)
_S = Message.Status

SEND_AT = time(8)  # on Monday, in the tenant's time zone
SEND_TASK = "alerts.tasks.weekly_summary_send_task"


@dataclass(frozen=True)
class KindCounts:
    label: str
    cells: list[tuple[str, int]]  # (status, count), one per WeeklyFigures.statuses, in order
    total: int

    @property
    def breakdown(self) -> str:
        return ", ".join(f"{count} {status.lower()}" for status, count in self.cells if count)


@dataclass(frozen=True)
class PaidAfterReminder:
    invoice_number: str
    reminded_on: date
    paid_on: date

    @property
    def days(self) -> int:
        return (self.paid_on - self.reminded_on).days


@dataclass(frozen=True)
class WeeklyFigures:
    tenant: Tenant
    week_start: date
    statuses: list[str]  # labels of the statuses that occurred, in the send log's order
    by_kind: list[KindCounts]
    total: int  # notifications, not messages: a resend is a try of the one notification
    outcomes: Outcomes
    paid_after_reminder: list[PaidAfterReminder]
    contacts_needing_phone: list[Message]

    @property
    def week_end(self) -> date:
        return self.week_start + timedelta(days=6)

    @property
    def average_days(self) -> float | None:
        days = [paid.days for paid in self.paid_after_reminder]
        return round(statistics.mean(days), 1) if days else None

    @property
    def median_days(self) -> float | None:
        days = [paid.days for paid in self.paid_after_reminder]
        return statistics.median(days) if days else None


def _bounds(tenant: Tenant, week_start: date) -> tuple[datetime, datetime]:
    zone = ZoneInfo(tenant.timezone)
    start = datetime.combine(week_start, time(), zone)
    return start, datetime.combine(week_start + timedelta(days=7), time(), zone)


def summary_week(*, tenant: Tenant, now: datetime) -> date:
    """The Monday of the last week whose summary is due: the week before this one, from Monday
    SEND_AT on (before that, the one before)."""
    local = now.astimezone(ZoneInfo(tenant.timezone))
    monday = local.date() - timedelta(days=local.weekday())
    if local.weekday() == 0 and local.time() < SEND_AT:
        monday -= timedelta(days=7)
    return monday - timedelta(days=7)


# A notification's outcome is the best of its tries: a failed text resent and delivered was
# delivered; a text not delivered whose email fallback went was sent.
_BEST_FIRST = [_S.DELIVERED, _S.SENT, _S.SENDING, _S.SCHEDULED, _S.PENDING, _S.UNDELIVERED,
               _S.FAILED, _S.SKIPPED, _S.CANCELLED]  # fmt: skip


def _notification_outcomes(messages) -> dict[tuple[str, str], str]:
    """(kind, notification key) → outcome, for each notification these messages are tries of:
    resends, email fallbacks and other channels count once (notification_key)."""
    outcomes: dict[tuple[str, str], str] = {}
    for kind, dedup_key, status in messages.values_list("kind", "dedup_key", "status"):
        notification = (kind, notification_key(dedup_key))
        best = outcomes.get(notification)
        if best is None or _BEST_FIRST.index(status) < _BEST_FIRST.index(best):
            outcomes[notification] = status
    return outcomes


def weekly_figures(*, tenant: Tenant, week_start: date) -> WeeklyFigures:
    start, end = _bounds(tenant, week_start)
    # Staff members' test sends are no notifications: never counted.
    week = Message.objects.filter(
        tenant=tenant, is_test=False, created_at__gte=start, created_at__lt=end
    )
    by_notification = Counter(
        (kind, status) for (kind, _), status in _notification_outcomes(week).items()
    )
    statuses = [s for s in Message.Status if any(found == s for _, found in by_notification)]
    by_kind = []
    for kind in Kind:
        cells = [(status.label, by_notification[(kind, status)]) for status in statuses]
        kind_total = sum(count for _, count in cells)
        if kind_total:
            by_kind.append(KindCounts(label=kind.label, cells=cells, total=kind_total))
    zone = ZoneInfo(tenant.timezone)
    paid = invoices_paid_after_reminder(tenant=tenant, paid_from=start, paid_until=end)
    return WeeklyFigures(
        tenant=tenant,
        week_start=week_start,
        statuses=[status.label for status in statuses],
        by_kind=by_kind,
        total=sum(row.total for row in by_kind),
        outcomes=message_outcomes_of(messages=week),
        paid_after_reminder=[
            PaidAfterReminder(
                invoice_number=invoice.invoice_number,
                reminded_on=invoice.reminded_at.astimezone(zone).date(),
                paid_on=invoice.paid_at.astimezone(zone).date(),
            )
            for invoice in paid
        ],
        contacts_needing_phone=contacts_needing_phone(tenant=tenant),
    )


def weekly_summary_context(*, figures: WeeklyFigures) -> dict:
    return {
        "tenant": figures.tenant,
        "figures": figures,
        "dashboard_url": absolute_url("dashboard"),
        "settings_url": absolute_url("alert-settings"),
        "contacts_url": absolute_url("messaging:contacts-needing-phone"),
    }


def weekly_summary_text(*, figures: WeeklyFigures) -> str:
    """The plain-text email, for previewing (manage.py weekly_summary)."""
    return render_to_string(
        "alerts/email/weekly_summary.txt", weekly_summary_context(figures=figures)
    )


def weekly_summary_send(*, tenant: Tenant, week_start: date) -> bool:
    """Email the owners the summary of the week starting `week_start`, once: False when it was
    sent before (or by another worker just now) or the mail server refused it."""
    figures = weekly_figures(tenant=tenant, week_start=week_start)
    WeeklySummary.objects.bulk_create(
        [WeeklySummary(tenant=tenant, week_start=week_start)], ignore_conflicts=True
    )
    row = WeeklySummary.objects.filter(tenant=tenant, week_start=week_start)
    if not row.filter(sent_at__isnull=True).update(sent_at=timezone.now(), last_error=""):
        return False
    try:
        owners_email(
            tenant=tenant,
            subject=f"[Dunwell] {tenant.name}: your week of {week_start.day} {week_start:%B}",
            template="weekly_summary",
            context=weekly_summary_context(figures=figures),
            html=True,
        )
    except (SMTPException, OSError) as error:
        # Released: the hourly run tries again.
        row.update(sent_at=None, last_error=f"{type(error).__name__}: {error}"[:500])
        logger.warning(
            "weekly summary email failed tenant=%s error=%s", tenant.pk, type(error).__name__
        )
        return False
    return True


def weekly_summaries_kick_due(*, now: datetime | None = None) -> int:
    """Hourly: kick a send for each active tenant whose last week's summary has not gone yet."""
    if not email_configured():
        return 0
    now = now or timezone.now()
    opted_out = AlertSettings.objects.filter(weekly_summary=False).values("tenant_id")
    due = []
    for tenant in Tenant.objects.filter(is_active=True).exclude(pk__in=opted_out):
        week_start = summary_week(tenant=tenant, now=now)
        if tenant.created_at < _bounds(tenant, week_start)[1]:  # it existed during that week
            due.append((tenant.pk, week_start))
    if not due:
        return 0
    sent = set(
        WeeklySummary.objects.filter(
            sent_at__isnull=False, week_start__gte=min(week for _, week in due)
        ).values_list("tenant_id", "week_start")
    )
    kicked = 0
    for tenant_id, week_start in due:
        if (tenant_id, week_start) not in sent:
            transaction.on_commit(partial(async_task, SEND_TASK, tenant_id, week_start.isoformat()))
            kicked += 1
    return kicked
