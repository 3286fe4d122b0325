"""The database away: Xero's webhook is refused (so Xero retries) and nobody gets a 500 while
it is; after a PostgreSQL restart mid-run every text still goes exactly once, the webhook is
stored, and every page answers as before."""

import pytest
import requests
from django.db import OperationalError, connection, connections

from billing_events.models import XeroDelivery
from billing_events.webhooks import xero_signature
from tests.billing_events.helpers import post_xero_webhook, webhook_body
from tests.reliability.live import (
    WEBHOOK_KEY,
    each_text_sent_once,
    texts_queue,
    unfinished,
    until,
)

pytestmark = pytest.mark.faults

TEXTS = 200


def _webhook(web_url: str) -> int:
    body = webhook_body("invoice_update__single")
    signature = xero_signature(body=body, key=WEBHOOK_KEY)
    response = requests.post(
        f"{web_url}/webhooks/xero/",
        data=body,
        headers={"x-xero-signature": signature, "Content-Type": "application/json"},
        timeout=30,
    )
    return response.status_code


def _pages(web_url: str) -> list[int]:
    """What a load balancer and a person at the login page see."""
    return [
        requests.get(f"{web_url}{path}", timeout=30).status_code
        for path in ("/accounts/login/", "/healthz") * 3
    ]


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


@pytest.mark.slow
def test_postgresql_restarted_mid_run_loses_nothing_sends_nothing_twice_and_never_500s(
    private_postgres, tenant_a, live
):
    twilio, processes = live
    texts_queue(tenant=tenant_a, count=TEXTS)
    processes.web_start()
    processes.worker_start()
    until(lambda: twilio.count() >= TEXTS // 4, seconds=120, what="a quarter sent",
          log=processes.worker_log)  # fmt: skip

    warm = _pages(processes.web_url)  # each web worker holds a connection (CONN_MAX_AGE)
    private_postgres.stop()
    during = [_webhook(processes.web_url)]
    health_during = requests.get(f"{processes.web_url}/healthz", timeout=30).status_code
    private_postgres.start()
    connections.close_all()  # this process's own connection died with the server

    assert warm == [200] * len(warm)
    assert during == [503]  # Xero delivers it again later
    assert health_during == 503
    # Every web worker answers as before, also those whose connection died with the server.
    after = _pages(processes.web_url) + [_webhook(processes.web_url) for _ in range(4)]
    assert after == [200] * len(after)
    assert XeroDelivery.objects.count() == 4  # Xero's retries, stored

    log = processes.worker_log
    # The worker outlived the outage: it sends the rest by itself.
    until(lambda: not unfinished(("pending", "scheduled")), seconds=120, what="the rest sent",
          log=log)  # fmt: skip
    # Claims cut off by the restart go stale after 5 minutes: a worker started later finds them.
    processes.worker_restart()
    until(lambda: not unfinished(), seconds=180, what="every text settled", log=log)
    each_text_sent_once(twilio, count=TEXTS)
