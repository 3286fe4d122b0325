"""Exactly once under concurrency, on SQLite (IMMEDIATE transactions) and PostgreSQL alike.

Real threads, each with its own database connection, against committed data
(transaction=True): 50 simultaneous deliveries of one webhook, four workers processing the same
organisation, ten notify() calls racing on one dedup key, two reminder runs of one day
overlapping.
"""

import json
import threading
from datetime import timedelta

import pytest
import responses
import time_machine
from django.db import connections
from django.test import Client
from django_q import tasks as q_tasks

from billing_events.models import ReminderSent, SweepRun, XeroEvent
from billing_events.reminders import sweep_run
from billing_events.services import events_process
from messaging.models import Message
from messaging.services import notify
from snapshots.models import InvoiceSnapshot
from tests.billing_events.helpers import (
    API,
    INVOICE_ID,
    api_json,
    mock_xero,
    post_xero_webhook,
)
from tests.billing_events.reminder_helpers import import_at, local
from tests.billing_events.standin import StandInXero
from tests.messaging.conftest import MESSAGES_URL

pytestmark = pytest.mark.django_db(transaction=True)


def _in_threads(count: int, work) -> list:
    """Run work(i) in `count` threads released together; return results or raised errors."""
    results: list = [None] * count
    barrier = threading.Barrier(count)

    def run(i):
        try:
            barrier.wait()
            results[i] = work(i)
        except Exception as error:  # handed to the test, which asserts there are none
            results[i] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def test_fifty_simultaneous_deliveries_of_one_webhook_announce_the_invoice_once(
    connection, xero_api
):
    mock_xero(xero_api, Invoices="invoices__authorised", Contacts="contacts__mobile")

    statuses = _in_threads(
        50, lambda i: post_xero_webhook(Client(), "invoice_update__single").status_code
    )
    assert statuses == [200] * 50  # every delivery stored: nothing lost
    claimed = _in_threads(4, lambda i: events_process(connection=connection))
    assert not [c for c in claimed if isinstance(c, Exception)], claimed
    assert sum(claimed) == 50  # each event claimed by exactly one worker

    issued = Message.objects.filter(dedup_key=f"invoice:{INVOICE_ID}:issued")
    assert issued.count() == 1


def test_ten_racing_notifies_of_one_key_make_one_message_and_one_twilio_call(
    tenant_a, twilio_a, aroha, invoice_context, noon, monkeypatch
):
    monkeypatch.setattr(q_tasks.Conf, "SYNC", True)  # the dispatch kick runs in the same thread
    with responses.RequestsMock(assert_all_requests_are_fired=False) as twilio:
        twilio.add(
            responses.POST, MESSAGES_URL, status=201,
            json={"sid": "SM" + "a" * 32, "status": "queued"},
        )  # fmt: skip
        results = _in_threads(
            10,
            lambda i: notify(
                tenant=tenant_a, kind="invoice_issued", contact=aroha, context=invoice_context,
                dedup_key="invoice:race:issued", invoice_id="race",
            ),
        )  # fmt: skip
        posts = [call for call in twilio.calls if call.request.method == "POST"]
    assert not [r for r in results if isinstance(r, Exception)], results
    message = Message.objects.get(dedup_key="invoice:race:issued")
    assert {r[0].pk for r in results} == {message.pk}
    assert len(posts) == 1
    assert message.status == "sent" and message.provider_id == "SM" + "a" * 32


def test_two_overlapping_reminder_runs_of_one_day_send_each_reminder_once(new_connection, xero_api):
    xero = StandInXero(xero_api)
    import_at(new_connection, "2026-12-10 08:00")
    first_recheck, go_on = threading.Event(), threading.Event()

    def recheck_held(request):
        # The first run's re-check of its invoices hangs until the second run is over.
        if "IDs=" in request.url and not first_recheck.is_set():
            first_recheck.set()
            go_on.wait(30)
        return xero._invoices(request)

    xero_api.remove("GET", f"{API}/Invoices")
    xero_api.add_callback("GET", f"{API}/Invoices", callback=recheck_held)
    moment = local("Pacific/Auckland", "2026-12-10 09:05")

    def run(i):
        if i == 1:  # the first run looks dead by now: its lease has passed
            first_recheck.wait(30)
            SweepRun.objects.update(started_at=moment - timedelta(minutes=30))
        try:
            return sweep_run(connection=new_connection, as_of=moment)
        finally:
            go_on.set()

    with time_machine.travel(moment, tick=False):
        runs = _in_threads(2, run)

    assert not [r for r in runs if isinstance(r, Exception)], runs
    assert all(r is not None for r in runs)  # both really ran, one over the other
    keys = list(Message.objects.filter(kind="reminder").values_list("dedup_key", flat=True))
    assert len(keys) == len(set(keys)) == ReminderSent.objects.count() == 3
    assert SweepRun.objects.get().status == "done"


def test_two_workers_that_both_find_an_invoice_new_store_it_once_and_announce_it_once(
    connection, xero_api
):
    """Nothing is locked for a record never seen: on PostgreSQL both workers decide "new" and
    the second insert meets the first's row; it decides again against it, and fails nothing."""
    mock_xero(xero_api, Contacts="contacts__mobile")
    both_fetching = threading.Barrier(2, timeout=30)
    first_fetching = threading.Event()

    def invoices(request):
        first_fetching.set()
        both_fetching.wait()  # each worker holds its own claim: two batches, one invoice
        return 200, {}, json.dumps(api_json("invoices__authorised"))

    xero_api.add_callback("GET", f"{API}/Invoices", callback=invoices)

    def worker(i):
        if i == 1:
            assert first_fetching.wait(timeout=30)
        assert post_xero_webhook(Client(), "invoice_update__single").status_code == 200
        return events_process(connection=connection)

    claimed = _in_threads(2, worker)
    assert claimed == [1, 1]
    assert InvoiceSnapshot.objects.filter(invoice_id=INVOICE_ID).count() == 1
    assert Message.objects.filter(dedup_key=f"invoice:{INVOICE_ID}:issued").count() == 1
    assert set(XeroEvent.objects.values_list("status", flat=True)) == {"processed"}
