"""Everything the dashboard shows, read in a fixed number of queries (one per figure)."""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db.models import QuerySet

from alerts.models import Alert
from alerts.selectors import alerts_open
from connections.models import Tenant, XeroConnection, XeroGrant
from connections.selectors import connections_for_tenant
from dashboard.chart import Chart, daily_chart
from messaging.models import Message
from messaging.selectors import (
    Outcomes,
    Queue,
    contacts_needing_phone,
    message_daily_outcomes,
    message_outcomes,
    message_queue,
    messages_exist,
    messages_needing_attention,
)

ATTENTION_SHOWN = 5


@dataclass(frozen=True)
class XeroHealth:
    connection: XeroConnection
    needs_reconnect: bool
    reminders_on: bool | None  # Xero's own reminder emails; None until first checked
    day_limit: int

    @property
    def budget_percent(self) -> int | None:
        remaining = self.connection.day_limit_remaining
        if remaining is None or not self.day_limit:
            return None
        return min(100, round(100 * remaining / self.day_limit))


@dataclass(frozen=True)
class Dashboard:
    alerts: list[Alert]
    has_messages: bool
    outcomes: dict[int, Outcomes]
    chart: Chart
    queue: Queue
    xero: list[XeroHealth]
    contacts_needing_phone: list[Message]
    attention_count: int
    attention: list[Message]

    @property
    def xero_reminders_on(self) -> list[str]:
        return [health.connection.name for health in self.xero if health.reminders_on]


def _xero_health(connections: QuerySet[XeroConnection]) -> list[XeroHealth]:
    rows = connections.select_related("invoice_reminders").order_by("name")
    health = []
    for connection in rows:
        reminders = getattr(connection, "invoice_reminders", None)
        health.append(
            XeroHealth(
                connection=connection,
                needs_reconnect=(
                    connection.status == XeroConnection.Status.NEEDS_RECONNECT
                    or connection.grant.status == XeroGrant.Status.NEEDS_RECONNECT
                ),
                reminders_on=reminders.enabled if reminders else None,
                day_limit=settings.XERO_DAY_LIMIT,
            )
        )
    return health


def dashboard_figures(*, tenant: Tenant, now: datetime) -> Dashboard:
    attention = messages_needing_attention(tenant=tenant)
    return Dashboard(
        alerts=list(alerts_open(tenant=tenant)),
        has_messages=messages_exist(tenant=tenant),
        outcomes=message_outcomes(tenant=tenant, now=now),
        chart=daily_chart(message_daily_outcomes(tenant=tenant, now=now)),
        queue=message_queue(tenant=tenant),
        xero=_xero_health(connections_for_tenant(tenant=tenant)),
        contacts_needing_phone=contacts_needing_phone(tenant=tenant),
        attention_count=attention.count(),
        attention=list(attention.order_by("-created_at", "-pk")[:ATTENTION_SHOWN]),
    )
