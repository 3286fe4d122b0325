"""From a stored webhook to messages: every expected notification once, none twice."""

import copy
import json
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from django_q.models import OrmQ
from responses.matchers import header_matcher

from billing_events.models import XeroEvent
from billing_events.services import events_replay
from billing_events.tasks import events_process_task, events_requeue_due
from messaging.models import Message
from snapshots.models import ContactSnapshot, InvoiceSnapshot
from tests.billing_events.helpers import (
    API,
    CONTACT_ID,
    CREDIT_NOTE_ID,
    FIRST_PAYMENT_ID,
    INVOICE_ID,
    OTHER_XERO_TENANT_ID,
    SECOND_PAYMENT_ID,
    XERO_TENANT_ID,
    api_json,
    calls_to,
    for_organisation,
    mock_xero,
    post_xero_webhook,
    webhook_body,
)

pytestmark = pytest.mark.django_db


def deliver(client, name: str, *, body: bytes = b"") -> None:
    assert post_xero_webhook(client, name, body=body).status_code == 200


def process(xero_tenant_id: str = XERO_TENANT_ID) -> int:
    return events_process_task(xero_tenant_id)


def announced(kind: str | None = None) -> list[str]:
    """Dedup keys with at least one message, in order (several channels share one key)."""
    messages = Message.objects.order_by("pk")
    if kind:
        messages = messages.filter(kind=kind)
    return list(dict.fromkeys(messages.values_list("dedup_key", flat=True)))


ISSUED = f"invoice:{INVOICE_ID}:issued"
FIRST_RECEIPT = f"payment:{FIRST_PAYMENT_ID}:receipt"
SECOND_RECEIPT = f"payment:{SECOND_PAYMENT_ID}:receipt"


def test_an_approved_invoice_is_announced_once_with_its_contact_and_link(
    client, connection, xero_api
):
    mock_xero(xero_api, Invoices="invoices__authorised", Contacts="contacts__mobile")
    deliver(client, "invoice_update__single")
    assert process() == 1

    assert announced() == [ISSUED]
    message = Message.objects.filter(dedup_key=ISSUED).first()
    assert (message.kind, message.invoice_id, message.contact_id) == (
        "invoice_issued",
        INVOICE_ID,
        CONTACT_ID,
    )
    event = XeroEvent.objects.get()
    assert (event.status, event.tenant, event.last_error) == ("processed", connection.tenant, "")
    snapshot = InvoiceSnapshot.objects.get(invoice_id=INVOICE_ID)
    assert snapshot.status == "AUTHORISED"
    # The message carries Dunwell's payment link; Xero's OnlineInvoice costs a call only on a click.
    assert f"http://127.0.0.1:8000/pay/{snapshot.pay_token}/" in message.body
    assert not [call for call in xero_api.calls if "OnlineInvoice" in call.request.url]
    assert ContactSnapshot.objects.get(contact_id=CONTACT_ID).first_name == "Aroha"
    assert "IDs=" in calls_to(xero_api, "Invoices")[0].request.url


def test_the_webhook_kicks_processing_only_after_the_events_are_committed(
    client, connection, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        deliver(client, "invoice_update__single")
    assert len(callbacks) == 1
    assert XeroEvent.objects.get().status == "pending"


def queued_kicks() -> list[tuple]:
    """The processing tasks waiting in the queue (the ORM broker's rows), oldest first."""
    return [
        row.task["args"]
        for row in OrmQ.objects.order_by("pk")
        if row.task["func"] == "billing_events.tasks.events_process_task"
    ]


def test_a_burst_of_deliveries_for_one_organisation_queues_one_processing_task(
    client, connection, other_connection, xero_api, django_capture_on_commit_callbacks
):
    other_body = for_organisation("invoice_update__single", OTHER_XERO_TENANT_ID)
    for body in (b"", b"", other_body, b"", b"", other_body):
        with django_capture_on_commit_callbacks(execute=True):
            deliver(client, "invoice_update__single", body=body)
    assert queued_kicks() == [(XERO_TENANT_ID,), (OTHER_XERO_TENANT_ID,)]

    # The task takes the whole burst; the next delivery kicks again.
    mock_xero(xero_api, Invoices="invoices__authorised", Contacts="contacts__mobile")
    assert process() == 4
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, "invoice_update__single")
    assert queued_kicks()[-1] == (XERO_TENANT_ID,)
    assert len(queued_kicks()) == 3


def test_a_delivery_arriving_while_a_batch_is_processed_is_taken_by_the_same_task(
    client, connection, xero_api
):
    mock_xero(xero_api, CreditNotes="creditnotes__authorised", Contacts="contacts__mobile")

    def invoices_while_xero_delivers_more(request):
        if not XeroEvent.objects.filter(event_category="CREDITNOTE").exists():
            deliver(client, "creditnote_update")
        return 200, {}, json.dumps(api_json("invoices__authorised"))

    xero_api.add_callback("GET", f"{API}/Invoices", callback=invoices_while_xero_delivers_more)
    deliver(client, "invoice_update__single")
    assert process() == 2
    assert announced() == [ISSUED, f"creditnote:{CREDIT_NOTE_ID}:issued"]
    assert set(XeroEvent.objects.values_list("status", flat=True)) == {"processed"}


def test_a_duplicate_delivery_sends_nothing_twice(client, connection, xero_api):
    mock_xero(xero_api, Invoices="invoices__authorised", Contacts="contacts__mobile")
    deliver(client, "invoice_update__single")
    deliver(client, "invoice_update__single")
    process()
    deliver(client, "invoice_update__single")
    process()
    assert announced() == [ISSUED]
    assert len(calls_to(xero_api, "Invoices")) == 2
    assert set(XeroEvent.objects.values_list("status", flat=True)) == {"processed"}


def test_an_out_of_order_delivery_of_an_older_state_changes_nothing(client, connection, xero_api):
    mock_xero(xero_api, Invoices="invoices__paid_full", Contacts="contacts__mobile")
    deliver(client, "invoice_update__single")
    process()
    assert announced() == [SECOND_RECEIPT]

    mock_xero(xero_api, Invoices="invoices__paid_partial")
    deliver(client, "invoice_update__single")
    process()
    assert announced() == [SECOND_RECEIPT]
    assert InvoiceSnapshot.objects.get().status == "PAID"


def test_a_burst_of_120_events_for_80_invoices_costs_at_most_2_invoice_fetches(
    client, connection, xero_api
):
    template = api_json("invoices__authorised")["Invoices"][0]
    burst = webhook_body("invoice_create__burst")
    invoice_ids = sorted({event["resourceId"] for event in json.loads(burst)["events"]})
    assert len(invoice_ids) == 80

    def invoices_by_id(request):
        wanted = request.params["IDs"].split(",")
        assert len(wanted) <= 50
        invoices = []
        for number, invoice_id in enumerate(wanted):
            invoice = copy.deepcopy(template)
            invoice.update(InvoiceID=invoice_id, InvoiceNumber=f"INV-{number:04d}")
            invoices.append(invoice)
        body = {"pagination": {"page": 1, "pageSize": 100, "pageCount": 1}, "Invoices": invoices}
        return 200, {}, json.dumps(body)

    xero_api.add_callback("GET", f"{API}/Invoices", callback=invoices_by_id)
    mock_xero(xero_api, Contacts="contacts__mobile")
    deliver(client, "invoice_create__burst")
    assert process() == 120

    assert len(calls_to(xero_api, "Invoices")) <= 2
    assert len(calls_to(xero_api, "Contacts")) == 1
    assert len(announced("invoice_issued")) == 80
    assert XeroEvent.objects.filter(status="processed").count() == 120


def test_a_new_payment_sends_a_receipt_and_the_settling_one_cancels_reminders(
    client, connection, xero_api
):
    mock_xero(xero_api, Invoices="invoices__authorised", Contacts="contacts__mobile")
    deliver(client, "invoice_update__single")
    process()
    reminder = Message.objects.create(
        tenant=connection.tenant,
        kind="reminder",
        channel="sms",
        dedup_key=f"invoice:{INVOICE_ID}:reminder:due_soon",
        status="scheduled",
    )

    mock_xero(xero_api, Invoices="invoices__paid_partial")
    deliver(client, "invoice_update__single")
    process()
    assert announced("payment_received") == [FIRST_RECEIPT]
    reminder.refresh_from_db()
    assert reminder.status == "scheduled"

    mock_xero(xero_api, Invoices="invoices__paid_full")
    deliver(client, "invoice_update__single")
    process()
    assert announced("payment_received") == [FIRST_RECEIPT, SECOND_RECEIPT]
    reminder.refresh_from_db()
    assert reminder.status == "cancelled"
    first, second = Message.objects.filter(kind="payment_received").order_by("pk")
    assert "Still due: $" in first.body
    assert second.body.endswith("Paid in full.") and "Still due" not in second.body


def test_a_voided_invoice_cancels_its_reminders(client, connection, xero_api):
    mock_xero(xero_api, Invoices="invoices__authorised", Contacts="contacts__mobile")
    deliver(client, "invoice_update__single")
    process()
    reminder = Message.objects.create(
        tenant=connection.tenant,
        kind="reminder",
        channel="sms",
        dedup_key=f"invoice:{INVOICE_ID}:reminder:overdue_7",
        status="pending",
    )
    mock_xero(xero_api, Invoices="invoices__voided")
    deliver(client, "invoice_update__single")
    process()
    reminder.refresh_from_db()
    assert reminder.status == "cancelled"
    assert announced() == [ISSUED, reminder.dedup_key]


def test_a_deleted_payment_does_not_send_a_second_receipt_later(client, connection, xero_api):
    for fixture in (
        "invoices__paid_partial",
        "invoices__payment_deleted",
        "invoices__paid_partial",  # a late, older copy still listing the deleted payment
        "invoices__paid_full",
    ):
        mock_xero(xero_api, Invoices=fixture, Contacts="contacts__mobile")
        deliver(client, "invoice_update__single")
        process()
    assert announced("payment_received") == [FIRST_RECEIPT, SECOND_RECEIPT]
    assert InvoiceSnapshot.objects.get().payment_ids == [FIRST_PAYMENT_ID, SECOND_PAYMENT_ID]


def test_bills_and_drafts_never_notify(client, connection, xero_api):
    batch = {
        "pagination": {"page": 1, "pageSize": 100, "pageCount": 1, "itemCount": 3},
        "Invoices": [
            api_json(name)["Invoices"][0]
            for name in ("invoices__authorised", "invoices__draft", "invoices__bill_paid")
        ],
    }
    xero_api.get(f"{API}/Invoices", json=batch)
    mock_xero(xero_api, Contacts="contacts__mobile")
    deliver(client, "invoice_create__batch")
    assert process() == 3
    assert announced() == [ISSUED]
    assert InvoiceSnapshot.objects.count() == 3


def test_an_authorised_sales_credit_note_is_announced_once(client, connection, xero_api):
    mock_xero(xero_api, CreditNotes="creditnotes__authorised", Contacts="contacts__mobile")
    deliver(client, "creditnote_update")
    deliver(client, "creditnote_update")
    process()
    deliver(client, "creditnote_update")
    process()
    assert announced() == [f"creditnote:{CREDIT_NOTE_ID}:issued"]
    assert len(calls_to(xero_api, "CreditNotes")) == 2


def test_a_contact_event_refreshes_the_contact_snapshot(client, connection, xero_api):
    mock_xero(xero_api, Contacts="contacts__mobile")
    deliver(client, "contact_update")
    process()
    contact = ContactSnapshot.objects.get(contact_id=CONTACT_ID)
    assert contact.group_names == ["Trade customers"]
    assert announced() == []


def test_replaying_processed_events_sends_nothing_again(client, connection, xero_api):
    mock_xero(xero_api, Invoices="invoices__paid_partial", Contacts="contacts__mobile")
    deliver(client, "invoice_update__single")
    process()
    messages_before = Message.objects.count()
    assert announced() == [ISSUED, FIRST_RECEIPT]

    assert events_replay(events=XeroEvent.objects.all()) == 1
    assert process() == 1
    assert Message.objects.count() == messages_before
    assert XeroEvent.objects.get().status == "processed"


def test_a_failing_organisation_backs_off_retries_later_and_does_not_block_another(
    client, connection, other_connection, xero_api
):
    xero_api.get(
        f"{API}/Invoices",
        status=429,
        headers={"Retry-After": "3600", "X-Rate-Limit-Problem": "day"},
        json={},
        match=[header_matcher({"Xero-tenant-id": XERO_TENANT_ID})],
    )
    other = copy.deepcopy(api_json("invoices__authorised"))
    other["Invoices"][0]["InvoiceID"] = "11111111-2222-4333-8444-555555555555"
    xero_api.get(
        f"{API}/Invoices",
        json=other,
        match=[header_matcher({"Xero-tenant-id": OTHER_XERO_TENANT_ID})],
    )
    mock_xero(xero_api, Contacts="contacts__mobile")
    deliver(client, "invoice_update__single")
    other_body = for_organisation("invoice_update__single", OTHER_XERO_TENANT_ID)
    deliver(client, "", body=other_body)

    process(XERO_TENANT_ID)
    process(OTHER_XERO_TENANT_ID)

    failing = XeroEvent.objects.get(xero_tenant_id=XERO_TENANT_ID)
    assert failing.status == "pending"
    assert failing.attempts == 1
    assert failing.next_attempt_at >= timezone.now() + timedelta(seconds=3590)  # Retry-After
    assert "429" in failing.last_error
    assert XeroEvent.objects.get(xero_tenant_id=OTHER_XERO_TENANT_ID).status == "processed"
    assert announced() == ["invoice:11111111-2222-4333-8444-555555555555:issued"]

    assert process(XERO_TENANT_ID) == 0  # not due yet: nobody hammers Xero
    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        assert events_requeue_due() == 0
    with time_machine.travel(timezone.now() + timedelta(hours=1, minutes=1)):
        assert events_requeue_due() == 1
        mock_xero(xero_api, Invoices="invoices__authorised")
        process(XERO_TENANT_ID)
    failing.refresh_from_db()
    assert (failing.status, failing.attempts, failing.last_error) == ("processed", 2, "")
    assert ISSUED in announced()


def test_a_permanent_xero_error_marks_the_events_failed_with_the_error(
    client, connection, xero_api
):
    xero_api.get(f"{API}/Invoices", status=400, json={"Message": "A validation exception"})
    deliver(client, "invoice_update__single")
    process()
    event = XeroEvent.objects.get()
    assert event.status == "failed"
    assert "validation exception" in event.last_error


def test_events_of_an_organisation_no_longer_connected_are_ignored(client, connection):
    deliver(client, "invoice_update__single")
    connection.status = "disconnected"
    connection.save()
    process()
    assert XeroEvent.objects.get().status == "ignored"
