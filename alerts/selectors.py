"""Reads of the alerts app."""

from django.db.models import Count, QuerySet

from alerts.models import Alert, AlertSettings
from connections.models import Tenant


def alert_settings_for(*, tenant: Tenant) -> AlertSettings:
    """The tenant's settings, or the defaults (unsaved) when no owner has changed them."""
    return AlertSettings.objects.filter(tenant=tenant).first() or AlertSettings(tenant=tenant)


def alerts_open(*, tenant: Tenant) -> QuerySet[Alert]:
    return Alert.objects.filter(tenant=tenant, resolved_at__isnull=True).order_by("opened_at")


def alerts_open_by_kind() -> dict[str, int]:
    """Open alerts of every tenant, counted by kind (every kind listed, zeros too)."""
    counts = dict(
        Alert.objects.filter(resolved_at__isnull=True)
        .values_list("kind")
        .annotate(count=Count("pk"))
        .order_by()
    )
    return {kind: counts.get(kind, 0) for kind in Alert.Kind.values}
