"""The reconciliation poll and the first import: missed webhooks lose nothing, the past is quiet."""

import json
from datetime import datetime, timedelta

import pytest
import time_machine
from django.utils import timezone
from responses.matchers import query_param_matcher

from billing_events.models import OrganisationSync, XeroEvent
from billing_events.services import connection_initial_import, connection_poll
from billing_events.tasks import events_process_task, polls_enqueue_due
from messaging.models import Message
from snapshots.models import ContactSnapshot, InvoiceSnapshot
from tests.billing_events.helpers import (
    API,
    FIRST_PAYMENT_ID,
    INVOICE_ID,
    SECOND_PAYMENT_ID,
    SEGMENT_LISTS,
    XERO_TENANT_ID,
    api_json,
    calls_to,
    mock_xero,
    post_xero_webhook,
)

pytestmark = pytest.mark.django_db

NOTHING_CHANGED = {
    "Contacts": "contacts__empty",
    "CreditNotes": "creditnotes__empty",
    "Payments": "payments__empty",
}


def announced(kind: str) -> list[str]:
    keys = Message.objects.filter(kind=kind).order_by("pk").values_list("dedup_key", flat=True)
    return list(dict.fromkeys(keys))


def invoices_answer(xero_api, *, by_id: str, changed: str = "invoices__empty") -> None:
    """GET /Invoices answers `changed` to If-Modified-Since listings and `by_id` to IDs=."""

    def answer(request):
        fixture = by_id if "IDs" in request.params else changed
        return 200, {}, json.dumps(api_json(fixture))

    xero_api.remove("GET", f"{API}/Invoices")
    xero_api.add_callback("GET", f"{API}/Invoices", callback=answer)


def seen_through_a_webhook(client, xero_api, fixture: str) -> None:
    mock_xero(xero_api, Invoices=fixture, Contacts="contacts__mobile")
    assert post_xero_webhook(client, "invoice_update__single").status_code == 200
    events_process_task(XERO_TENANT_ID)


def test_a_payment_that_arrives_only_through_the_poll_is_receipted_once(
    client, connection, xero_api
):
    seen_through_a_webhook(client, xero_api, "invoices__authorised")
    mock_xero(xero_api, **{**NOTHING_CHANGED, "Payments": "payments__invoice_paid"})
    invoices_answer(xero_api, by_id="invoices__paid_full")
    polled_from = OrganisationSync.objects.get().last_polled_at

    connection_poll(connection=connection)
    connection_poll(connection=connection)

    assert announced("payment_received") == [f"payment:{SECOND_PAYMENT_ID}:receipt"]
    listing = [c for c in calls_to(xero_api, "Payments")][0]
    assert listing.request.headers["If-Modified-Since"] == "2026-11-01T00:00:00"
    sync = OrganisationSync.objects.get()
    assert sync.last_polled_at > polled_from
    assert sync.next_poll_at == sync.last_polled_at + timedelta(minutes=15)
    assert InvoiceSnapshot.objects.get().status == "PAID"


def test_the_poll_repeats_nothing_the_webhooks_already_announced(client, connection, xero_api):
    seen_through_a_webhook(client, xero_api, "invoices__paid_partial")
    messages = Message.objects.count()
    mock_xero(xero_api, **NOTHING_CHANGED)
    invoices_answer(xero_api, by_id="invoices__paid_partial", changed="invoices__paid_partial")
    connection_poll(connection=connection)
    assert Message.objects.count() == messages


def test_a_failed_poll_is_retried_later_from_the_same_point(connection, xero_api):
    xero_api.get(f"{API}/Contacts", status=400, json={"Message": "Bad request"})
    before = OrganisationSync.objects.get()
    connection_poll(connection=connection)
    sync = OrganisationSync.objects.get()
    assert sync.last_polled_at == before.last_polled_at
    assert (sync.attempts, "Bad request" in sync.last_error) == (1, True)
    assert sync.next_poll_at > timezone.now()


def test_the_first_import_remembers_open_invoices_without_announcing_them(
    client, new_connection, xero_api
):
    mock_xero(xero_api, Invoices="invoices__paid_partial", Contacts="contacts__mobile")
    with time_machine.travel(datetime.fromisoformat("2026-11-03T12:00:00+00:00")):
        assert connection_initial_import(connection=new_connection) == 1
    assert connection_initial_import(connection=new_connection) == 0
    assert Message.objects.count() == 0
    snapshot = InvoiceSnapshot.objects.get()
    assert snapshot.payment_ids == [FIRST_PAYMENT_ID]
    request = calls_to(xero_api, "Invoices")[0].request
    assert request.params["Statuses"] == "AUTHORISED"
    assert request.params["where"] == 'Type=="ACCREC"'
    assert OrganisationSync.objects.get().imported_at is not None

    mock_xero(xero_api, Invoices="invoices__paid_full")
    assert post_xero_webhook(client, "invoice_update__single").status_code == 200
    events_process_task(XERO_TENANT_ID)
    assert announced("invoice_issued") == []
    # paid on 4 November, after the import: news, so it is announced.
    assert announced("payment_received") == [f"payment:{SECOND_PAYMENT_ID}:receipt"]


def test_the_first_import_snapshots_every_contact_a_page_at_a_time_so_batches_need_no_contact_call(
    client, new_connection, xero_api
):
    for page in (1, 2):
        xero_api.get(
            f"{API}/Contacts",
            json=api_json(f"contacts__page_{page}_of_2"),
            match=[query_param_matcher({"page": str(page)})],
        )
    mock_xero(xero_api, Invoices="invoices__empty")
    with time_machine.travel(datetime.fromisoformat("2026-11-01T00:00:00+00:00")):
        connection_initial_import(connection=new_connection)
    assert ContactSnapshot.objects.count() == 103
    assert [call.request.params for call in calls_to(xero_api, "Contacts")] == [
        {"page": "1"},
        {"page": "2"},
    ]

    # An invoice approved later for a customer the import met costs one call: the invoice.
    xero_api.calls.reset()
    mock_xero(xero_api, Invoices="invoices__authorised")
    assert post_xero_webhook(client, "invoice_update__single").status_code == 200
    events_process_task(XERO_TENANT_ID)
    assert announced("invoice_issued") == [f"invoice:{INVOICE_ID}:issued"]
    assert Message.objects.get(channel="sms").recipient == "+64215550199"
    assert [call.request.path_url.split("?")[0] for call in xero_api.calls] == [
        "/api.xro/2.0/Invoices"
    ]


def test_the_first_import_of_a_hundred_invoices_and_contacts_costs_a_few_queries_not_one_each(
    new_connection, xero_api, django_assert_max_num_queries
):
    for page in (1, 2):
        xero_api.get(
            f"{API}/Invoices",
            json=api_json(f"invoices__page_{page}_of_2"),
            match=[query_param_matcher({"page": str(page)}, strict_match=False)],
        )
        xero_api.get(
            f"{API}/Contacts",
            json=api_json(f"contacts__page_{page}_of_2"),
            match=[query_param_matcher({"page": str(page)})],
        )
    for resource, fixture in SEGMENT_LISTS.items():
        xero_api.get(f"{API}/{resource}", json=api_json(fixture))
    # Six Xero calls (each takes its place in the call budget, ~9 queries) and one insert per
    # kind: a transaction per record was ~800 queries, ~20 ms each under load (bench/RESULTS.md).
    with django_assert_max_num_queries(100):
        assert connection_initial_import(connection=new_connection) == 103
    assert InvoiceSnapshot.objects.filter(status="AUTHORISED").count() == 103
    assert ContactSnapshot.objects.count() == 103
    assert Message.objects.count() == 0


def test_a_first_import_xero_refuses_is_retried_by_a_later_poll_not_raised(
    new_connection, xero_api
):
    mock_xero(xero_api, Contacts="contacts__mobile")
    xero_api.upsert("GET", f"{API}/Invoices", status=429, headers={"Retry-After": "60"}, json={})

    connection_poll(connection=new_connection)

    sync = OrganisationSync.objects.get()
    assert (sync.imported_at, sync.attempts) == (None, 1)
    assert "429" in sync.last_error and sync.next_poll_at > timezone.now()


def test_a_payment_dated_before_the_import_is_not_announced(client, new_connection, xero_api):
    mock_xero(xero_api, Invoices="invoices__authorised", Contacts="contacts__mobile")
    with time_machine.travel(datetime.fromisoformat("2026-11-20T12:00:00+00:00")):
        connection_initial_import(connection=new_connection)
    mock_xero(xero_api, Invoices="invoices__paid_full")
    assert post_xero_webhook(client, "invoice_update__single").status_code == 200
    events_process_task(XERO_TENANT_ID)
    assert InvoiceSnapshot.objects.get().status == "PAID"
    assert Message.objects.count() == 0


def test_events_arriving_before_the_import_wait_for_it_and_announce_no_past(
    client, new_connection, xero_api
):
    mock_xero(xero_api, Invoices="invoices__authorised", Contacts="contacts__mobile")
    assert post_xero_webhook(client, "invoice_update__single").status_code == 200
    events_process_task(XERO_TENANT_ID)
    assert XeroEvent.objects.get().status == "processed"
    assert OrganisationSync.objects.get().imported_at is not None
    assert Message.objects.count() == 0
    assert InvoiceSnapshot.objects.get().invoice_id == INVOICE_ID


def test_each_organisation_is_polled_at_its_own_interval(connection, other_connection):
    OrganisationSync.objects.filter(xero_tenant_id=XERO_TENANT_ID).update(
        next_poll_at=timezone.now() + timedelta(minutes=5)
    )
    OrganisationSync.objects.exclude(xero_tenant_id=XERO_TENANT_ID).update(
        next_poll_at=timezone.now() - timedelta(seconds=1)
    )
    assert polls_enqueue_due() == 1
    with time_machine.travel(timezone.now() + timedelta(minutes=6)):
        assert polls_enqueue_due() == 2


def test_the_poll_interval_is_a_setting_of_the_organisation(connection, xero_api):
    OrganisationSync.objects.update(poll_interval_minutes=60)
    mock_xero(xero_api, **NOTHING_CHANGED, Invoices="invoices__empty")
    with time_machine.travel(datetime.fromisoformat("2026-11-20T10:00:00+00:00"), tick=False):
        connection_poll(connection=connection)
    assert OrganisationSync.objects.get().next_poll_at == datetime.fromisoformat(
        "2026-11-20T11:00:00+00:00"
    )


def test_an_invoice_approved_after_connecting_but_before_the_import_is_announced(
    client, new_connection, xero_api
):
    # Connected, then the invoice is approved in Xero before the (lazy) first import has run.
    approved = api_json("invoices__authorised")
    moment = new_connection.connected_at + timedelta(minutes=1)
    approved["Invoices"][0]["UpdatedDateUTC"] = f"/Date({int(moment.timestamp() * 1000)}+0000)/"
    xero_api.upsert("GET", f"{API}/Invoices", json=approved)
    mock_xero(xero_api, Contacts="contacts__mobile")

    assert post_xero_webhook(client, "invoice_update__single").status_code == 200
    events_process_task(XERO_TENANT_ID)

    assert announced("invoice_issued") == [f"invoice:{INVOICE_ID}:issued"]
    assert OrganisationSync.objects.get().last_polled_at <= new_connection.connected_at


def test_the_poll_takes_the_organisations_country_zone_and_name_from_xero_again(
    connection, xero_api
):
    """Changed in Xero's settings after connecting (GET /Organisation with the segment lists):
    local numbers are then read in the new country; the name customers see stays Dunwell's."""
    connection.customer_name = "Ruapehu Motors"
    connection.save()
    mock_xero(
        xero_api, Invoices="invoices__empty", Organisation="organisation__au", **NOTHING_CHANGED
    )

    connection_poll(connection=connection)

    connection.refresh_from_db()
    assert (connection.country_code, connection.timezone, connection.currency) == (
        "AU",
        "Australia/Sydney",
        "AUD",
    )
    assert (connection.name, connection.name_for_customers) == (
        "Alpha Plumbing (AU)",
        "Ruapehu Motors",
    )
    assert len(calls_to(xero_api, "Organisation")) == 1


def test_an_invoice_keeps_the_amount_and_day_of_each_payment_xero_lists(
    client, connection, xero_api
):
    seen_through_a_webhook(client, xero_api, "invoices__paid_partial")
    assert InvoiceSnapshot.objects.get().payments == [
        {"payment_id": FIRST_PAYMENT_ID, "amount": "200.0", "date": "2026-11-03"}
    ]
