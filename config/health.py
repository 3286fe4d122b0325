"""GET /healthz — liveness for load balancers and uptime checks."""

import logging

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django_q.brokers import get_broker

from alerts.selectors import alerts_open_by_kind
from billing_events.selectors import events_oldest_pending_age

logger = logging.getLogger(__name__)


@never_cache
@require_GET
def healthz(request):
    report = {
        "database": "ok",
        "queue": "ok",
        "queue_depth": None,
        "oldest_pending_event_age": None,
        # Counts only: this page is public, so no tenant, organisation or sender is named.
        "open_alerts": None,
    }
    healthy = True
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        age = events_oldest_pending_age()
        report["open_alerts"] = alerts_open_by_kind()
    except Exception as error:  # any database failure is "unhealthy", never a 500
        logger.warning("healthz database check failed: %s", type(error).__name__)
        report["database"] = "error"
        healthy = False
    else:
        if age is not None:
            report["oldest_pending_event_age"] = round(age.total_seconds())
            if age.total_seconds() > settings.HEALTHZ_MAX_EVENT_AGE_SECONDS:
                healthy = False
    try:
        report["queue_depth"] = get_broker().queue_size()
    except Exception as error:
        logger.warning("healthz queue check failed: %s", type(error).__name__)
        report["queue"] = "error"
        healthy = False
    report["status"] = "ok" if healthy else "unhealthy"
    return JsonResponse(report, status=200 if healthy else 503)
