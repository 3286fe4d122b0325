"""Writes on a tenant's own settings (the owners' settings page)."""

from datetime import time

from django.db import transaction
from django.utils.timezone import now

from connections.models import Tenant


@transaction.atomic
def tenant_settings_update(
    *,
    tenant: Tenant,
    name: str,
    timezone: str,
    default_country: str,
    quiet_hours_start: time,
    quiet_hours_end: time,
) -> Tenant:
    """Save the settings and note that an owner has reviewed them (the home checklist asks)."""
    tenant.name = name
    tenant.timezone = timezone
    tenant.default_country = default_country
    tenant.quiet_hours_start = quiet_hours_start
    tenant.quiet_hours_end = quiet_hours_end
    tenant.settings_reviewed_at = now()
    tenant.full_clean(exclude=["slug"])
    tenant.save()
    return tenant
