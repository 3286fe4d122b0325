import pytest

WEBHOOK_KEY = "m1S6ZpmW2KrN0f9R8e2bTq+VxOeYd3Gj7sXhHcLu4aQ5kPwE/tFvB0nIyJ=="


@pytest.fixture(autouse=True)
def xero_webhook_key(settings):
    settings.XERO_WEBHOOK_KEY = WEBHOOK_KEY
    return WEBHOOK_KEY


def _connection(tenant, xero_tenant_id: str, name: str):
    from datetime import timedelta

    from tests.xero_api import xero_connection_create

    # A token that outlives every clock the tests travel to: no refresh call to mock.
    return xero_connection_create(
        tenant=tenant, name=name, xero_tenant_id=xero_tenant_id, expires_in=timedelta(days=3650)
    )


def _imported(connection, imported_at: str):
    from datetime import datetime

    from billing_events.models import OrganisationSync

    moment = datetime.fromisoformat(imported_at)
    OrganisationSync.objects.create(
        tenant=connection.tenant,
        xero_tenant_id=connection.xero_tenant_id,
        imported_at=moment,
        last_polled_at=moment,
    )
    return connection


@pytest.fixture
def new_connection(tenant_a):
    """An organisation just attached: nothing imported yet."""
    from tests.billing_events.helpers import XERO_TENANT_ID

    return _connection(tenant_a, XERO_TENANT_ID, "Ruapehu Motors Ltd")


@pytest.fixture
def connection(new_connection):
    """The organisation every fixture speaks about, imported on 1 November 2026 (before them)."""
    return _imported(new_connection, "2026-11-01T00:00:00+00:00")


@pytest.fixture
def other_connection(tenant_b):
    from tests.billing_events.helpers import OTHER_XERO_TENANT_ID

    return _imported(
        _connection(tenant_b, OTHER_XERO_TENANT_ID, "Bravo Bakery Ltd"), "2026-11-01T00:00:00+00:00"
    )


@pytest.fixture
def xero_api():
    import responses

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def texted_organisation(new_connection, xero_api, tenant_a):
    """See tests/billing_events/inbound.py `texted_organisation_at`."""
    from tests.billing_events.inbound import texted_organisation_at

    with texted_organisation_at(tenant=tenant_a, connection=new_connection, mock=xero_api) as xero:
        yield xero
