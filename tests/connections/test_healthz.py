from datetime import timedelta

from django.utils import timezone

from billing_events.models import XeroDelivery, XeroEvent


def _pending_event(age):
    delivery = XeroDelivery.objects.create(raw_body=b"{}")
    return XeroEvent.objects.create(
        delivery=delivery,
        xero_tenant_id="t",
        event_category="INVOICE",
        event_type="UPDATE",
        resource_id="r",
        received_at=timezone.now() - age,
    )


def test_it_reports_database_queue_and_event_age(client, db):
    _pending_event(timedelta(seconds=30))
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["database"] == "ok"
    assert body["queue_depth"] == 0
    assert 29 <= body["oldest_pending_event_age"] <= 40


def test_it_is_unhealthy_when_an_event_waits_too_long(client, db, settings):
    settings.HEALTHZ_MAX_EVENT_AGE_SECONDS = 60
    _pending_event(timedelta(minutes=5))
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "unhealthy"


def test_it_is_unhealthy_when_the_database_is_unreachable(client, db, monkeypatch):
    class Unreachable:
        def cursor(self):
            raise OSError("connection refused")

    monkeypatch.setattr("config.health.connection", Unreachable())
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "error"
