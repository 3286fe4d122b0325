from datetime import timedelta

from django.utils import timezone

from billing_events.models import XeroEvent


def events_oldest_pending_age() -> timedelta | None:
    oldest = (
        XeroEvent.objects.filter(status=XeroEvent.Status.PENDING)
        .order_by("received_at")
        .values_list("received_at", flat=True)
        .first()
    )
    return timezone.now() - oldest if oldest else None
