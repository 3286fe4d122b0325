"""Xero webhooks that stop arriving while the poll keeps finding changes: an alert; an
organisation that is simply quiet: none. Webhooks go through the real receiver and the poll
through the real client, with Xero mocked at HTTP."""

from datetime import datetime, timedelta

import pytest
from django.core import mail
from django.utils import timezone

from alerts.models import Alert, AlertSettings
from billing_events.models import OrganisationSync
from billing_events.services import connection_poll
from tests.alerts.conftest import emails_to
from tests.billing_events.helpers import XERO_TENANT_ID, mock_xero, post_xero_webhook
from tests.xero_api import xero_connection_create

OWNER_A = "owner@alpha.test"
# invoices__authorised was changed in Xero at 2026-11-02 09:15 UTC (its UpdatedDateUTC),
# invoices__paid_full at 2026-11-05 12:00.
CHANGED = "invoices__authorised"
CHANGED_LATER = "invoices__paid_full"
NOTHING = {"Contacts": "contacts__empty", "CreditNotes": "creditnotes__empty",
           "Payments": "payments__empty"}  # fmt: skip


@pytest.fixture(autouse=True)
def webhook_key(settings):
    settings.XERO_WEBHOOK_KEY = "alerts-test-webhook-key"


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(datetime.fromisoformat("2026-11-01T12:00:00+00:00"), tick=False)
    return time_machine


@pytest.fixture
def organisation(tenant_a, clock):
    connection = xero_connection_create(
        tenant=tenant_a, name="Ruapehu Motors Ltd", xero_tenant_id=XERO_TENANT_ID,
        expires_in=timedelta(days=3650),
    )  # fmt: skip
    OrganisationSync.objects.create(
        tenant=tenant_a, xero_tenant_id=XERO_TENANT_ID, imported_at=timezone.now(),
        last_polled_at=timezone.now(),
    )  # fmt: skip
    return connection


def at(clock, moment: str):
    clock.move_to(datetime.fromisoformat(moment), tick=False)


def poll(providers, connection, invoices: str):
    mock_xero(providers, Invoices=invoices, **NOTHING)
    connection_poll(connection=connection)


def webhook(client):
    assert post_xero_webhook(client, "invoice_update__single").status_code == 200


def silent_alerts():
    return list(Alert.objects.filter(kind="webhooks_silent").values_list("subject", "resolved_at"))


def test_changes_found_only_by_the_poll_hours_after_the_last_webhook_raise_one_alert(
    client, check, clock, providers, organisation
):
    at(clock, "2026-11-01T12:30:00+00:00")
    webhook(client)  # the last webhook Xero delivers
    at(clock, "2026-11-02T09:30:00+00:00")
    poll(providers, organisation, CHANGED)  # a change at 09:15 that no webhook announced

    check()
    at(clock, "2026-11-02T09:35:00+00:00")
    check()

    assert silent_alerts() == [(XERO_TENANT_ID, None)]
    [email] = emails_to(OWNER_A)
    assert email.subject == (
        "[Dunwell] Alpha Plumbing: Xero webhooks stopped arriving for Ruapehu Motors Ltd"
    )
    assert "No webhook has come from Xero for Ruapehu Motors Ltd for 21 hours" in email.body
    assert "http://127.0.0.1:8000/webhooks/xero/" in email.body

    at(clock, "2026-11-02T10:00:00+00:00")
    webhook(client)  # Xero delivers again
    check()
    assert silent_alerts()[0][1] is not None
    assert len(mail.outbox) == 2  # opened, resolved

    at(clock, "2026-11-05T12:10:00+00:00")
    poll(providers, organisation, CHANGED_LATER)
    check()
    assert Alert.objects.filter(kind="webhooks_silent", resolved_at=None).count() == 1
    assert Alert.objects.filter(kind="webhooks_silent").count() == 2  # a new incident
    assert len(mail.outbox) == 3


def test_changes_the_webhooks_announced_are_no_alert_however_quiet_it_is_after(
    client, check, clock, providers, organisation
):
    at(clock, "2026-11-02T09:15:02+00:00")
    webhook(client)  # announces the 09:15 change
    at(clock, "2026-11-02T09:30:00+00:00")
    poll(providers, organisation, CHANGED)  # and the poll sees the same change
    at(clock, "2026-11-04T09:30:00+00:00")
    check()
    assert silent_alerts() == [] and mail.outbox == []


def test_a_quiet_organisation_is_no_alert(check, clock, providers, organisation):
    at(clock, "2026-11-04T12:00:00+00:00")
    poll(providers, organisation, "invoices__empty")
    check()
    assert silent_alerts() == []


def test_the_silence_allowed_is_the_tenants(client, check, clock, providers, organisation):
    AlertSettings.objects.create(tenant=organisation.tenant, webhook_silence_hours=24)
    at(clock, "2026-11-01T12:30:00+00:00")
    webhook(client)
    at(clock, "2026-11-02T09:30:00+00:00")
    poll(providers, organisation, CHANGED)
    check()
    assert silent_alerts() == []  # 21 hours: within the 24 allowed
    at(clock, "2026-11-02T12:35:00+00:00")
    check()
    assert silent_alerts() == [(XERO_TENANT_ID, None)]


def test_an_organisation_that_never_had_a_webhook_counts_from_when_it_was_connected(
    check, clock, providers, organisation
):
    at(clock, "2026-11-02T09:30:00+00:00")
    poll(providers, organisation, CHANGED)
    check()
    assert silent_alerts() == [(XERO_TENANT_ID, None)]
