"""One task from Xero's webhook to Twilio: the processing task sends its batch's texts itself,
in a handful of statements per batch, and hands what it has no time for to dispatch tasks."""

import copy
import json
from datetime import timedelta

import pytest
import time_machine
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext
from django_q.models import OrmQ

from billing_events.models import XeroEvent
from billing_events.tasks import events_process_task
from connections.models import MessagingSettings
from messaging.models import Message
from messaging.tasks import messages_dispatch_task
from tests.billing_events.helpers import (
    API,
    INVOICE_ID,
    OTHER_XERO_TENANT_ID,
    XERO_TENANT_ID,
    api_json,
    for_organisation,
    mock_xero,
    post_xero_webhook,
    webhook_body,
)
from tests.billing_events.inbound import (
    ACCOUNT_SID,
    AROHA,
    AUTH_TOKEN,
    twilio_message_created,
    twilio_sends,
)

# Committed for real: the task sends what its batch committed (transaction.on_commit).
pytestmark = pytest.mark.django_db(transaction=True)

NOON_IN_AUCKLAND = "2026-12-18T00:00:00+00:00"


@pytest.fixture
def twilio(connection, xero_api):
    """The organisation's Twilio is set up, accepts every text, and it is noon in Auckland."""
    MessagingSettings.objects.create(
        tenant=connection.tenant,
        twilio_account_sid=ACCOUNT_SID,
        twilio_auth_token=AUTH_TOKEN,
        twilio_from_number="+6498880000",
    )
    connection.tenant.timezone = "Pacific/Auckland"
    connection.tenant.save()
    twilio_message_created(xero_api)
    with time_machine.travel(NOON_IN_AUCKLAND, tick=False):
        yield


def queued_dispatches() -> list[list[int]]:
    """The message ids of every dispatch task waiting in the queue."""
    return [
        task.task["args"][0]
        for task in OrmQ.objects.all()
        if task.func() == "messaging.tasks.messages_dispatch_task"
    ]


def invoices_answered_by_id(xero_api, on_fetch=None) -> None:
    """Xero answers GET /Invoices?IDs= with each invoice asked for, all of the same customer;
    `on_fetch(n)` is told how many were asked for, while Xero answers."""
    template = api_json("invoices__authorised")["Invoices"][0]

    def invoices_by_id(request):
        invoices = []
        wanted = request.params["IDs"].split(",")
        if on_fetch:
            on_fetch(len(wanted))
        for number, invoice_id in enumerate(wanted):
            invoice = copy.deepcopy(template)
            invoice.update(InvoiceID=invoice_id, InvoiceNumber=f"INV-{number:04d}")
            invoices.append(invoice)
        return 200, {}, json.dumps({"Invoices": invoices})

    xero_api.add_callback("GET", f"{API}/Invoices", callback=invoices_by_id)
    mock_xero(xero_api, Contacts="contacts__mobile")


def burst_of(count: int, *, skip: int = 0) -> bytes:
    """A delivery announcing `count` new invoices (after the first `skip` of the fixture's)."""
    delivery = json.loads(webhook_body("invoice_create__burst"))
    invoice_ids = sorted({event["resourceId"] for event in delivery["events"]})
    invoice_ids = invoice_ids[skip : skip + count]
    events = [e for e in delivery["events"] if e["resourceId"] in invoice_ids]
    events = list({e["resourceId"]: e for e in events}.values())
    return json.dumps({**delivery, "events": events}).encode()


def arriving_during_the_first_fetch(client, xero_api, body: bytes) -> list[int]:
    """Xero answers by id; while it answers the first GET, the delivery `body` arrives. Returns
    how many invoices each GET asked for, as they are made."""
    fetches = []

    def deliver_once(asked: int):
        fetches.append(asked)
        if len(fetches) == 1:
            assert post_xero_webhook(client, "", body=body).status_code == 200

    invoices_answered_by_id(xero_api, on_fetch=deliver_once)
    return fetches


def test_an_approved_invoice_is_texted_by_the_processing_task_with_no_second_task(
    client, connection, xero_api, twilio
):
    mock_xero(xero_api, Invoices="invoices__authorised", Contacts="contacts__mobile")
    assert post_xero_webhook(client, "invoice_update__single").status_code == 200

    assert events_process_task(XERO_TENANT_ID) == 1

    [sent] = twilio_sends(xero_api)
    assert sent["To"] == AROHA
    message = Message.objects.get(dedup_key=f"invoice:{INVOICE_ID}:issued")
    assert message.status == "sent" and message.provider_id.startswith("SM")
    assert [c.note for c in message.status_changes.order_by("pk")] == [
        "Created",
        "Claimed for sending.",
        "Accepted by the provider.",
    ]
    assert queued_dispatches() == []


def test_past_its_deadline_the_task_leaves_the_other_texts_to_dispatch_tasks_each_sent_once(
    client, connection, xero_api, twilio, monkeypatch
):
    monkeypatch.setattr("billing_events.services.events.DRAIN_FOR", timedelta(0))
    invoices_answered_by_id(xero_api)
    assert post_xero_webhook(client, "", body=burst_of(60)).status_code == 200

    events_process_task(XERO_TENANT_ID)

    # One chunk goes before the deadline is looked at; the rest wait in tasks of 50 at most.
    assert len(twilio_sends(xero_api)) == 25
    left = queued_dispatches()
    assert [len(ids) for ids in left] == [35]
    assert set(Message.objects.filter(pk__in=left[0]).values_list("status", flat=True)) == {
        "pending"
    }
    for ids in left:
        messages_dispatch_task(ids)
        messages_dispatch_task(ids)  # a task run twice sends nothing twice
    recipients_by_invoice = Message.objects.values_list("invoice_id", flat=True)
    assert len(twilio_sends(xero_api)) == 60 == len(set(recipients_by_invoice))
    assert set(Message.objects.values_list("status", flat=True)) == {"sent"}
    assert set(XeroEvent.objects.values_list("status", flat=True)) == {"processed"}


def statements_to_text(client, xero_api, invoices: int, *, skip: int = 0) -> int:
    assert post_xero_webhook(client, "", body=burst_of(invoices, skip=skip)).status_code == 200
    with CaptureQueriesContext(db_connection) as queries:
        events_process_task(XERO_TENANT_ID)
    assert Message.objects.filter(status="sent").count() == invoices
    Message.objects.all().delete()
    return len(queries)


def test_a_batch_costs_a_fixed_few_statements_and_a_text_a_fraction_of_one(
    client, connection, xero_api, twilio
):
    """Snapshots, templates, opt-outs, messages and claims are read and written per batch;
    Twilio's answers are recorded together too (docs/architecture.md "The flow of one invoice")."""
    invoices_answered_by_id(xero_api)
    few = statements_to_text(client, xero_api, 4)
    many = statements_to_text(client, xero_api, 44, skip=4)

    assert few <= 70
    assert (many - few) / 40 <= 0.3


def test_a_burst_behind_the_first_batch_is_gathered_into_one_fetch_not_one_per_delivery(
    client, connection, xero_api, twilio, monkeypatch
):
    """The first invoice of a quiet organisation goes at once; what arrives behind it waits up
    to a second (events.GATHER) for the rest of the burst, then goes in one GET."""
    waits = []

    def more_arrive_while_waiting(seconds):
        waits.append(seconds)
        if len(waits) == 1:
            for skip in (2, 3):
                body = burst_of(1, skip=skip)
                assert post_xero_webhook(client, "", body=body).status_code == 200

    monkeypatch.setattr("billing_events.services.events.time.sleep", more_arrive_while_waiting)
    fetches = arriving_during_the_first_fetch(client, xero_api, burst_of(1, skip=1))
    assert post_xero_webhook(client, "", body=burst_of(1)).status_code == 200
    OrmQ.objects.all().delete()  # the worker running the task took its kick off the queue
    assert events_process_task(XERO_TENANT_ID) == 4

    assert waits == [0.1] * 10
    assert fetches == [1, 3]
    assert len(twilio_sends(xero_api)) == 4


def test_while_another_organisation_waits_the_task_queues_its_next_batch_instead_of_waiting(
    client, connection, other_connection, xero_api, twilio, monkeypatch
):
    monkeypatch.setattr(
        "billing_events.services.events.time.sleep",
        lambda seconds: pytest.fail("a worker slept while another organisation waited"),
    )

    arriving_during_the_first_fetch(client, xero_api, burst_of(1, skip=1))
    assert post_xero_webhook(client, "", body=burst_of(1)).status_code == 200
    other = for_organisation("invoice_update__single", OTHER_XERO_TENANT_ID)
    assert post_xero_webhook(client, "", body=other).status_code == 200
    OrmQ.objects.all().delete()
    assert events_process_task(XERO_TENANT_ID) == 1

    assert len(twilio_sends(xero_api)) == 1
    assert {task.task["args"] for task in OrmQ.objects.all()} == {(XERO_TENANT_ID,)}
    assert XeroEvent.objects.filter(xero_tenant_id=XERO_TENANT_ID, status="pending").count() == 1
    assert events_process_task(XERO_TENANT_ID) == 1  # its turn: the next batch goes
    assert len(twilio_sends(xero_api)) == 2


def test_a_full_fetch_waiting_is_taken_at_once_and_a_quiet_organisation_never_waits(
    client, connection, xero_api, twilio, monkeypatch
):
    monkeypatch.setattr(
        "billing_events.services.events.time.sleep",
        lambda seconds: pytest.fail("waited with a full fetch due, or nothing due"),
    )
    fetches = arriving_during_the_first_fetch(client, xero_api, burst_of(50, skip=1))
    assert post_xero_webhook(client, "", body=burst_of(1)).status_code == 200
    assert events_process_task(XERO_TENANT_ID) == 51

    assert fetches == [1, 50]
    assert len(twilio_sends(xero_api)) == 51
