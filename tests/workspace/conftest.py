"""The workspace tests reuse the reminder tests' stand-in Xero organisation (three open NZD
invoices due 10 December 2026: INV-0142 Ruapehu Motors, INV-0150 Kauri Cafe, INV-0160 Totara
Builders, who has no phone)."""

import pytest
import time_machine

from tests.billing_events.conftest import new_connection, xero_api, xero_webhook_key  # noqa: F401
from tests.billing_events.reminder_helpers import import_at, local
from tests.billing_events.standin import StandInXero


@pytest.fixture
def xero(xero_api):  # noqa: F811
    return StandInXero(xero_api)


@pytest.fixture
def ledger(new_connection, xero):  # noqa: F811
    """The organisation connected on 1 December 2026, its invoices imported, for a tenant in
    New Zealand (pages tell times in the tenant's zone)."""
    new_connection.tenant.timezone = "Pacific/Auckland"
    new_connection.tenant.save()
    import_at(new_connection, "2026-12-01 08:00")
    return new_connection


@pytest.fixture
def on_12_december():
    """Two days after the invoices fell due, mid-morning in Auckland, before the day's run."""
    with time_machine.travel(local("Pacific/Auckland", "2026-12-12 08:30"), tick=False):
        yield
