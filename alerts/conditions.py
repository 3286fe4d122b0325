"""What needs a person right now, read from the state the rest of Dunwell already keeps.

Each condition is a few aggregate queries over every active tenant at once; nothing here calls
Xero or Twilio or writes anything. `findings()` is what `alerts.services.alerts_check` raises and
clears alerts from.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Exists, F, OuterRef, Q, Subquery
from django.urls import reverse
from django.utils import timezone

from alerts.models import Alert, AlertSettings
from billing_events.models import OrganisationSync, XeroEvent
from connections.models import MessagingSettings, XeroConnection, XeroGrant, XeroRateBudget
from messaging.channels import explain
from messaging.models import PHONE_CHANNELS, SENDING_CHANNELS, Channel, Message

Kind = Alert.Kind

# Failure shares and Twilio's error codes are counted over the last hour.
WINDOW = timedelta(hours=1)
# Messages finishing now were created recently: this bound lets the created_at index do the work.
LOOKBACK = timedelta(days=2)
# Xero stamps UpdatedDateUTC with its clock and we stamp received_at with ours; a change is
# "after the last webhook" only by more than this.
CLOCK_GRACE = timedelta(minutes=5)
DAY = timedelta(days=1)

_S = Message.Status
ATTEMPTED = (_S.SENT, _S.DELIVERED, _S.UNDELIVERED, _S.FAILED)
FAILED = (_S.FAILED, _S.UNDELIVERED)
# FACTS.md "Twilio": a sender the account may not use (21606), a carrier filtering it (30007),
# an unverified toll-free or unregistered 10DLC sender (30032, 30034).
SENDER_CODES = ("21606", "30007", "30032", "30034")
# messaging.channels records 20003 (or the bare 401 when Twilio gives no code) for refused
# credentials.
AUTH_CODES = ("20003", "401")


@dataclass(frozen=True)
class Finding:
    tenant_id: int
    kind: str
    subject: str
    title: str
    detail: str

    @property
    def key(self) -> tuple[int, str, str]:
        return (self.tenant_id, self.kind, self.subject)


def _settings_by_tenant() -> dict[int, AlertSettings]:
    return {row.tenant_id: row for row in AlertSettings.objects.all()}


def _settings(rows: dict[int, AlertSettings], tenant_id: int) -> AlertSettings:
    return rows.get(tenant_id) or AlertSettings(tenant_id=tenant_id)


def _live_connections():
    return XeroConnection.objects.filter(tenant__is_active=True).exclude(
        status=XeroConnection.Status.DISCONNECTED
    )


def reconnect_findings() -> list[Finding]:
    """A 403, an invalid_grant or an organisation gone from GET /connections (FACTS.md)."""
    dead = _live_connections().filter(
        Q(status=XeroConnection.Status.NEEDS_RECONNECT)
        | Q(grant__status=XeroGrant.Status.NEEDS_RECONNECT)
    )
    return [
        Finding(
            tenant_id=connection["tenant_id"],
            kind=Kind.RECONNECT,
            subject=connection["xero_tenant_id"],
            title=f"Reconnect Xero for {connection['name']}",
            detail=(
                f"Xero stopped accepting Dunwell for {connection['name']}. "
                f"{_reason(connection['last_error'] or connection['grant__last_error'])}"
                "Nothing about its invoices is sent until an owner reconnects it under "
                "Settings → Xero."
            ),
        )
        for connection in dead.values(
            "tenant_id", "xero_tenant_id", "name", "last_error", "grant__last_error"
        )
    ]


def _reason(error: str) -> str:
    return f"Xero's last answer: “{error.strip().rstrip('.')}”. " if error.strip() else ""


def webhooks_silent_findings(*, now: datetime, thresholds: dict) -> list[Finding]:
    """No webhook for hours although the poll keeps finding changes made since the last one.

    A quiet organisation is not an alert: only a change Xero made after the last webhook (seen
    by the poll, OrganisationSync.newest_change_at) shows that deliveries are going missing.
    """
    last_webhook = XeroEvent.objects.filter(xero_tenant_id=OuterRef("xero_tenant_id")).order_by(
        "-received_at"
    )
    newest_change = OrganisationSync.objects.filter(xero_tenant_id=OuterRef("xero_tenant_id"))
    connections = (
        _live_connections()
        .filter(status=XeroConnection.Status.ACTIVE)
        .annotate(
            last_webhook_at=Subquery(last_webhook.values("received_at")[:1]),
            newest_change_at=Subquery(newest_change.values("newest_change_at")[:1]),
            poll_minutes=Subquery(newest_change.values("poll_interval_minutes")[:1]),
        )
        .filter(newest_change_at__isnull=False)
        .values(
            "tenant_id",
            "xero_tenant_id",
            "name",
            "connected_at",
            "last_webhook_at",
            "newest_change_at",
            "poll_minutes",
        )
    )
    found = []
    for connection in connections:
        silent_since = max(
            filter(None, (connection["last_webhook_at"], connection["connected_at"]))
        )
        hours = _settings(thresholds, connection["tenant_id"]).webhook_silence_hours
        if connection["newest_change_at"] <= silent_since + CLOCK_GRACE:
            continue
        if now - silent_since < timedelta(hours=hours):
            continue
        silent_hours = int((now - silent_since).total_seconds() // 3600)
        found.append(
            Finding(
                tenant_id=connection["tenant_id"],
                kind=Kind.WEBHOOKS_SILENT,
                subject=connection["xero_tenant_id"],
                title=f"Xero webhooks stopped arriving for {connection['name']}",
                detail=(
                    f"No webhook has come from Xero for {connection['name']} for {silent_hours} "
                    "hours, yet Dunwell's regular check finds invoices and contacts changed in "
                    "that time. Messages still go out, but only when that check runs (every "
                    f"{connection['poll_minutes']} minutes), not at once. Xero turns a webhook "
                    "off after 24 hours of failed "
                    "deliveries: ask whoever runs Dunwell for you to look at the Xero app's "
                    f"Webhooks tab (delivery URL {settings.PUBLIC_BASE_URL}"
                    f"{reverse('xero-webhook')}) and "
                    "re-enable it there."
                ),
            )
        )
    return found


def _recent_messages(now: datetime):
    # A staff member's test send is no evidence of how customers' texts fare.
    return Message.objects.filter(
        tenant__is_active=True, is_test=False, created_at__gte=now - LOOKBACK
    )


def failure_rate_findings(*, now: datetime, thresholds: dict) -> list[Finding]:
    since = now - WINDOW
    rows = (
        _recent_messages(now)
        .filter(channel__in=SENDING_CHANNELS)
        .filter(Q(finished_at__gte=since) | Q(sent_at__gte=since))
        .values("tenant_id")
        .annotate(
            attempted=Count("pk", filter=Q(status__in=ATTEMPTED)),
            failed=Count("pk", filter=Q(status__in=FAILED, finished_at__gte=since)),
        )
    )
    found = []
    for row in rows:
        limits = _settings(thresholds, row["tenant_id"])
        failed, attempted = row["failed"], row["attempted"]
        if failed < limits.failure_minimum or 100 * failed < limits.failure_percent * attempted:
            continue
        found.append(
            Finding(
                tenant_id=row["tenant_id"],
                kind=Kind.FAILURE_RATE,
                subject="",
                title="Many messages are failing",
                detail=(
                    f"{failed} of the {attempted} messages Dunwell sent or tried to send in the "
                    "last hour failed or were not delivered "
                    f"({round(100 * failed / attempted)}%). The send log shows "
                    "each one's reason; fix what it names (often the Twilio settings or the "
                    "phone numbers in Xero), then resend them from there."
                ),
            )
        )
    return found


def _sender(messaging: MessagingSettings | None, channel: str) -> str:
    if messaging is None:
        return ""
    if channel == Channel.WHATSAPP:
        return messaging.whatsapp_from
    return messaging.twilio_messaging_service_sid or messaging.twilio_from_number


def twilio_findings(*, now: datetime, thresholds: dict) -> list[Finding]:
    """Sender refusals per sender, and refused credentials, seen since the settings last changed.

    Errors older than the tenant's last save of its Twilio settings are about what it replaced,
    so fixing the settings clears the alert without waiting for the hour to pass.
    """
    rows = (
        _recent_messages(now)
        .filter(
            channel__in=PHONE_CHANNELS,
            error_code__in=SENDER_CODES + AUTH_CODES,
            finished_at__gte=now - WINDOW,
            finished_at__gt=F("tenant__messaging__updated_at"),
        )
        .values("tenant_id", "channel", "error_code")
        .annotate(count=Count("pk"))
    )
    sender_errors: dict[tuple[int, str], dict[str, int]] = defaultdict(dict)
    auth_errors: dict[int, int] = defaultdict(int)
    for row in rows:
        if row["error_code"] in AUTH_CODES:
            auth_errors[row["tenant_id"]] += row["count"]
        else:
            sender_errors[(row["tenant_id"], row["channel"])][row["error_code"]] = row["count"]
    messaging = {
        m.tenant_id: m
        for m in MessagingSettings.objects.filter(
            tenant_id__in={tenant_id for tenant_id, _ in sender_errors}
        )
    }
    found = [
        Finding(
            tenant_id=tenant_id,
            kind=Kind.TWILIO_AUTH,
            subject="",
            title="Twilio refuses Dunwell's credentials",
            detail=(
                f"Twilio refused the Account SID and Auth Token (or API key) {count} "
                f"time{'s' if count != 1 else ''} in the last hour, so no texts go out. "
                "Enter working credentials under Settings → Twilio & email; Dunwell checks "
                "them with Twilio before saving."
            ),
        )
        for tenant_id, count in auth_errors.items()
    ]
    for (tenant_id, channel), codes in sender_errors.items():
        total = sum(codes.values())
        if total < _settings(thresholds, tenant_id).sender_error_count:
            continue
        sender = _sender(messaging.get(tenant_id), channel) or Channel(channel).label
        reasons = " ".join(
            f"{code} ({count}×): {explain(code)}" for code, count in sorted(codes.items())
        )
        found.append(
            Finding(
                tenant_id=tenant_id,
                kind=Kind.TWILIO_SENDER,
                subject=sender[:100],
                title=f"Twilio refuses messages from {sender}",
                detail=(
                    f"Twilio refused or the carriers filtered {total} messages from {sender} in "
                    f"the last hour. {reasons} Fix the sender in your Twilio console, or choose "
                    "another one under Settings → Twilio & email."
                ),
            )
        )
    return found


def api_budget_findings(*, now: datetime, thresholds: dict) -> list[Finding]:
    """Per organisation, from X-DayLimit-Remaining as Xero last reported it (connections.xero)
    or a day-limit block after a 429. A figure older than a day says nothing about today."""
    day_blocked = XeroRateBudget.objects.filter(
        xero_tenant_id=OuterRef("xero_tenant_id"), blocked_reason="day", blocked_until__gt=now
    )
    connections = (
        _live_connections()
        .filter(status=XeroConnection.Status.ACTIVE)
        .annotate(day_blocked=Exists(day_blocked))
        .filter(
            Q(day_blocked=True)
            | Q(day_limit_remaining__isnull=False, last_success_at__gte=now - DAY)
        )
        .values("tenant_id", "xero_tenant_id", "name", "day_limit_remaining", "day_blocked")
    )
    limit = settings.XERO_DAY_LIMIT
    found = []
    for connection in connections:
        remaining = 0 if connection["day_blocked"] else connection["day_limit_remaining"]
        used = 100 if not limit else round(100 * max(limit - remaining, 0) / limit)
        if used < _settings(thresholds, connection["tenant_id"]).api_budget_percent:
            continue
        found.append(
            Finding(
                tenant_id=connection["tenant_id"],
                kind=Kind.API_BUDGET,
                subject=connection["xero_tenant_id"],
                title=f"Xero API calls for {connection['name']} nearly used up",
                detail=(
                    f"{connection['name']} has {remaining} of its {limit} daily Xero API calls "
                    f"left ({used}% used in the last 24 hours). When none are left, Dunwell "
                    "reads nothing new from Xero until calls free up again, so messages go out "
                    "late; nothing is lost. If this keeps happening, ask whoever runs Dunwell "
                    "to poll this organisation less often (its sync settings in the admin)."
                ),
            )
        )
    return found


def findings(*, now: datetime | None = None) -> list[Finding]:
    now = now or timezone.now()
    thresholds = _settings_by_tenant()
    return [
        *reconnect_findings(),
        *webhooks_silent_findings(now=now, thresholds=thresholds),
        *failure_rate_findings(now=now, thresholds=thresholds),
        *twilio_findings(now=now, thresholds=thresholds),
        *api_budget_findings(now=now, thresholds=thresholds),
    ]
