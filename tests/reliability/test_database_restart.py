"""The database away: Xero's webhook is refused (so Xero retries) and nobody gets a 500."""

import pytest
from django.db import OperationalError, connection

from tests.billing_events.helpers import post_xero_webhook

pytestmark = pytest.mark.faults


def _database_down(execute, sql, params, many, context):
    raise OperationalError("server closed the connection unexpectedly")


def test_while_the_database_is_down_xero_is_told_to_retry_and_no_page_answers_500(
    owner_client, settings
):
    settings.XERO_WEBHOOK_KEY = "webhook-key-of-this-test"
    with connection.execute_wrapper(_database_down):
        webhook = post_xero_webhook(owner_client, "invoice_update__single")
        health = owner_client.get("/healthz")
        messages = owner_client.get("/messaging/")

    assert (webhook.status_code, webhook.content) == (503, b"")
    assert webhook["Retry-After"] == "30"
    assert health.status_code == 503
    assert messages.status_code == 503
    assert "try again in a minute" in messages.text
    assert post_xero_webhook(owner_client, "invoice_update__single").status_code == 200
