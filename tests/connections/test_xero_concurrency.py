"""Several workers at once: one refresh per rotation, and the shared budget holds.

These tests use real threads with their own database connections, so they run in committed
transactions (transaction=True) — on SQLite the IMMEDIATE transaction mode is what makes
`atomic()` take the lock that `select_for_update()` cannot (docs/architecture.md); on PostgreSQL it
is the row lock. `make test` runs them on both.
"""

import json
import threading
import time
from datetime import timedelta

import pytest
import responses
from django.db import connections
from django.utils import timezone

from connections.models import XeroCall, XeroConnection, XeroGrant
from connections.ratelimit import RedisBudget, call_slot
from connections.xero import XeroClient
from tests.xero_api import api_url, token_url, xero_connection_create, xero_json

pytestmark = pytest.mark.django_db(transaction=True)


def _in_threads(count: int, work) -> list:
    """Run work(i) in `count` threads started together; return results or raised errors."""
    results: list = [None] * count
    barrier = threading.Barrier(count)

    def run(i):
        try:
            barrier.wait()
            results[i] = work(i)
        except Exception as error:  # reported to the test, which asserts on it
            results[i] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_four_workers_needing_a_refresh_make_one_token_request_and_all_succeed(tenant_a):
    first = xero_connection_create(tenant=tenant_a, expires_in=timedelta(minutes=1))
    second = xero_connection_create(tenant=tenant_a, name="Alpha AU", grant=first.grant)
    refreshed = xero_json("token__refreshed")

    def slow_token(request):
        time.sleep(0.3)  # the other worker arrives while this refresh is in flight
        return 200, {}, json.dumps(refreshed)

    with responses.RequestsMock() as xero:
        token = xero.add_callback(responses.POST, token_url(), callback=slow_token)
        xero.get(api_url("Organisation"), json=xero_json("organisation__nz"))
        # Two workers per organisation, each with the grant as it read it before the refresh.
        workers = [
            XeroClient(XeroConnection.objects.get(pk=c.pk)) for c in (first, second, first, second)
        ]
        results = _in_threads(4, lambda i: workers[i].get_organisation()["Name"])
        used = {call.request.headers.get("Authorization") for call in xero.calls[1:]}

    assert results == ["Alpha Plumbing (NZ)"] * 4
    assert token.call_count == 1  # the old refresh token was used once: never revoked
    grant = XeroGrant.objects.get()
    assert (grant.status, grant.refresh_token) == ("active", refreshed["refresh_token"])
    assert used == {f"Bearer {refreshed['access_token']}"}


def _assert_within_minute_limit(moments, limit):
    moments = sorted(moments)
    for i, moment in enumerate(moments):
        in_window = [m for m in moments[i:] if m - moment < timedelta(seconds=60)]
        assert len(in_window) <= limit, f"{len(in_window)} calls within a minute of {moment}"


def test_two_workers_never_exceed_the_per_minute_budget(tenant_a, settings, time_machine):
    settings.XERO_MINUTE_LIMIT = 5
    settings.XERO_BUDGET_MAX_WAIT_SECONDS = 120
    time_machine.move_to("2026-11-21 19:00Z", tick=False)
    connection = xero_connection_create(tenant=tenant_a, expires_in=timedelta(days=1))
    arrivals, waits = [], []
    lock = threading.Lock()

    def organisation(request):
        with lock:
            arrivals.append(timezone.now())
        return 200, {}, json.dumps(xero_json("organisation__nz"))

    def wait(seconds):
        # Moving the shared clock is how time passes while a worker waits for budget.
        with lock:
            waits.append(seconds)
            time_machine.shift(seconds)

    with responses.RequestsMock() as xero:
        xero.add_callback(responses.GET, api_url("Organisation"), callback=organisation)
        results = _in_threads(
            2, lambda i: [XeroClient(connection, sleep=wait).get_organisation() for _ in range(6)]
        )

    assert all(isinstance(result, list) and len(result) == 6 for result in results), results
    assert len(arrivals) == 12 and waits
    # The moments the budget let each call go. Not `arrivals`: the threads share one fake clock,
    # and a waiting thread may move it a minute on between another thread's slot and its request.
    granted = XeroCall.objects.filter(xero_tenant_id=connection.xero_tenant_id)
    assert granted.count() == 12
    _assert_within_minute_limit(granted.values_list("started_at", flat=True), 5)


def test_no_more_than_five_calls_are_in_flight_for_one_organisation(tenant_a):
    connection = xero_connection_create(tenant=tenant_a, expires_in=timedelta(days=1))
    in_flight, most = 0, 0
    changed = threading.Condition()

    def organisation(request):
        nonlocal in_flight, most
        with changed:
            in_flight += 1
            most = max(most, in_flight)
            changed.notify_all()
            # Hold each call until five overlap (or time runs out), so the test sees the most
            # the budget lets through even when a busy machine starts the threads slowly.
            changed.wait_for(lambda: most >= 5, timeout=5)
        time.sleep(0.05)
        with changed:
            in_flight -= 1
        return 200, {}, json.dumps(xero_json("organisation__nz"))

    with responses.RequestsMock() as xero:
        xero.add_callback(responses.GET, api_url("Organisation"), callback=organisation)
        results = _in_threads(8, lambda i: XeroClient(connection).get_organisation()["Name"])

    assert results == ["Alpha Plumbing (NZ)"] * 8
    assert most == 5


@pytest.fixture
def redis_budget():
    budget = RedisBudget("redis://127.0.0.1:6379/1")
    budget.client.flushdb()
    yield budget
    budget.client.flushdb()


def test_the_redis_budget_shares_the_same_limits(redis_budget, settings, time_machine):
    settings.XERO_MINUTE_LIMIT = 3
    time_machine.move_to("2026-11-21 19:00Z", tick=False)
    waits = []

    def wait(seconds):
        waits.append(seconds)
        time_machine.shift(seconds)

    def take(i):
        with call_slot("org-1", sleep=wait, backend=redis_budget):
            return timezone.now()

    assert [take(i) for i in range(3)]
    with pytest.raises(Exception, match="minute budget spent"):
        settings.XERO_BUDGET_MAX_WAIT_SECONDS = 10
        take(3)
    time_machine.shift(61)
    take(4)
    redis_budget.block("org-1", "minute", 30)
    settings.XERO_BUDGET_MAX_WAIT_SECONDS = 60
    take(5)
    assert waits == [30.0]
