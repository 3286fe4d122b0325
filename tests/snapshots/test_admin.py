"""Operators see what Dunwell last saw in Xero in the admin."""

import pytest
from django.contrib.auth import get_user_model

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator_client(client):
    operator = get_user_model().objects.create_superuser("ops@dunwell.test", "ops@dunwell.test")
    client.force_login(operator)
    return client


@pytest.mark.parametrize(
    "model",
    [
        "invoicesnapshot",
        "creditnotesnapshot",
        "contactsnapshot",
        "xerocontactgroup",
        "xerotrackingoption",
    ],
)
def test_every_snapshots_admin_page_lists(operator_client, model):
    assert operator_client.get(f"/admin/snapshots/{model}/").status_code == 200
