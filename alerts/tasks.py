"""django-q2 kicks: each loads its row (if it still exists) and calls one service."""

from datetime import date

from alerts import services, weekly_summary
from alerts.models import Alert
from connections.models import Tenant


def alerts_check_task() -> int:
    return services.alerts_check().open


def alert_notify_task(alert_id: int) -> None:
    alert = Alert.objects.select_related("tenant").filter(pk=alert_id).first()
    if alert is not None:
        services.alert_notify(alert=alert)


def weekly_summaries_due_task() -> int:
    return weekly_summary.weekly_summaries_kick_due()


def weekly_summary_send_task(tenant_id: int, week_start: str) -> None:
    tenant = Tenant.objects.filter(pk=tenant_id, is_active=True).first()
    if tenant is not None:
        weekly_summary.weekly_summary_send(tenant=tenant, week_start=date.fromisoformat(week_start))
