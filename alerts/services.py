"""Writes of the alerts app: raise and clear alerts, tell the owners once per incident, settings.

The Alert rows are the truth (docs/architecture.md "Background work"): `alerts_check` reconciles
them with what `alerts.conditions` finds and then kicks a notification for every alert that still
owes one, so a lost task or a mail server that was down is simply tried again at the next
check. Each notification is claimed with a conditional UPDATE before it is sent, so two workers
never both send it.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from smtplib import SMTPException

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_q.tasks import async_task

from alerts.conditions import findings
from alerts.emails import absolute_url, owners_email
from alerts.models import Alert, AlertSettings
from alerts.selectors import alert_settings_for
from connections.members import email_configured
from connections.models import Tenant
from messaging.channels import SendError
from messaging.services import quiet_hours_end, text_now

logger = logging.getLogger(__name__)
Kind = Alert.Kind

NOTIFY_TASK = "alerts.tasks.alert_notify_task"
# Figures that hover around a threshold must stay below it this long before their alert clears,
# or every crossing would be a new incident and a new email. Conditions that are states (a dead
# grant, refused credentials) clear as soon as they are put right.
SETTLE = {Kind.FAILURE_RATE: timedelta(minutes=30), Kind.API_BUDGET: timedelta(minutes=30)}
# A "resolved" note that could not be sent for this long is no longer news.
RESOLUTION_NOTE_WITHIN = timedelta(days=1)
# Texting an alert about the tenant's Twilio would go through that same failing Twilio.
NOT_TEXTED = (Kind.TWILIO_SENDER, Kind.TWILIO_AUTH)
NOTIFY_BATCH = 200
# Titles carry names from Xero (up to 200 characters themselves).
TITLE_LENGTH = Alert._meta.get_field("title").max_length


@dataclass(frozen=True)
class CheckResult:
    opened: int
    resolved: int
    open: int


def alerts_check(*, now: datetime | None = None) -> CheckResult:
    """Raise an alert for every condition that holds, clear those that stopped, notify."""
    now = now or timezone.now()
    found = {finding.key: finding for finding in findings(now=now)}
    opened = resolved = 0
    with transaction.atomic():
        # Raising is an insert: a condition whose alert is already open hits the partial unique
        # constraint and inserts nothing (never check-then-insert).
        Alert.objects.bulk_create(
            [
                Alert(
                    tenant_id=finding.tenant_id,
                    kind=finding.kind,
                    subject=finding.subject,
                    title=finding.title[:TITLE_LENGTH],
                    detail=finding.detail,
                    opened_at=now,
                    last_seen_at=now,
                )
                for finding in found.values()
            ],
            ignore_conflicts=True,
        )
        still_open = []
        for alert in Alert.objects.filter(resolved_at__isnull=True):
            finding = found.get((alert.tenant_id, alert.kind, alert.subject))
            if finding is None:
                if alert.last_seen_at <= now - SETTLE.get(alert.kind, timedelta(0)):
                    resolved += Alert.objects.filter(pk=alert.pk, resolved_at__isnull=True).update(
                        resolved_at=now
                    )
                continue
            opened += alert.opened_at == now
            alert.last_seen_at, alert.detail = now, finding.detail
            alert.title = finding.title[:TITLE_LENGTH]
            still_open.append(alert)
        Alert.objects.bulk_update(still_open, ["last_seen_at", "title", "detail"])
    alerts_notify_due(now=now)
    return CheckResult(opened=opened, resolved=resolved, open=len(still_open))


def _owed_notifications(now: datetime) -> Q:
    owed = Q(
        resolved_at__isnull=True, texted_at__isnull=True, tenant__alert_settings__sms_phone__gt=""
    ) & ~Q(kind__in=NOT_TEXTED)
    if email_configured():
        owed |= Q(resolved_at__isnull=True, notified_at__isnull=True)
        owed |= Q(
            resolved_at__gte=now - RESOLUTION_NOTE_WITHIN,
            notified_at__isnull=False,
            resolution_notified_at__isnull=True,
        )
    return owed


def alerts_notify_due(*, now: datetime | None = None) -> int:
    """Kick a notification for each alert that still owes its owners an email or a text."""
    now = now or timezone.now()
    owed = Alert.objects.filter(tenant__is_active=True).filter(_owed_notifications(now))
    alert_ids = list(owed.order_by("pk").values_list("pk", flat=True)[:NOTIFY_BATCH])
    for alert_id in alert_ids:
        transaction.on_commit(partial(async_task, NOTIFY_TASK, alert_id))
    return len(alert_ids)


def _claim(alert: Alert, field: str) -> bool:
    """Take one notification of one alert: of two workers, one gets 1 back."""
    claimed = Alert.objects.filter(pk=alert.pk, **{f"{field}__isnull": True}).update(
        **{field: timezone.now()}
    )
    return claimed == 1


def _release(alert: Alert, field: str) -> None:
    Alert.objects.filter(pk=alert.pk).update(**{field: None})


def _email(alert: Alert, *, field: str, subject: str, template: str) -> None:
    if not _claim(alert, field):
        return
    try:
        owners_email(
            tenant=alert.tenant,
            subject=subject,
            template=template,
            context={
                "alert": alert,
                "fix_url": settings.PUBLIC_BASE_URL + alert.fix.path if alert.fix else "",
                "settings_url": absolute_url("alert-settings"),
            },
        )
    except (SMTPException, OSError) as error:
        # Released, so the next check tries again.
        _release(alert, field)
        logger.warning(
            "alert email failed tenant=%s alert=%s error=%s",
            alert.tenant_id,
            alert.pk,
            type(error).__name__,
        )


def _text(alert: Alert) -> None:
    phone = alert_settings_for(tenant=alert.tenant).sms_phone
    if not phone or alert.kind in NOT_TEXTED:
        return
    if quiet_hours_end(tenant=alert.tenant, phone=phone, at=timezone.now()):
        return  # the check kicks it again once the owner's quiet hours are over
    if not _claim(alert, "texted_at"):
        return
    body = f"Dunwell alert for {alert.tenant.name}: {alert.title}. {absolute_url('dashboard')}"
    try:
        text_now(tenant=alert.tenant, phone=phone, body=body)
    except SendError as error:
        if not error.permanent:
            _release(alert, "texted_at")
        logger.warning(
            "alert text failed tenant=%s alert=%s code=%s", alert.tenant_id, alert.pk, error.code
        )


def alert_notify(*, alert: Alert) -> None:
    """Email the owners that the alert opened (and text it), or that it was resolved; once each."""
    if not alert.tenant.is_active:
        return
    prefix = f"[Dunwell] {alert.tenant.name}"
    if alert.is_open:
        if email_configured():
            _email(
                alert, field="notified_at", subject=f"{prefix}: {alert.title}", template="opened"
            )
        _text(alert)
    elif alert.notified_at and email_configured():
        _email(
            alert,
            field="resolution_notified_at",
            subject=f"{prefix}: resolved — {alert.title}",
            template="resolved",
        )


def alert_settings_save(*, tenant: Tenant, values: dict) -> AlertSettings:
    row, _ = AlertSettings.objects.update_or_create(tenant=tenant, defaults=values)
    return row
