"""The send log's filters, a message's story, and resending a filtered set after confirming."""

from datetime import UTC, datetime

import pytest

from messaging.models import Message, MessageStatusChange
from snapshots.models import InvoiceSnapshot
from tests.a11y import assert_accessible


def message_create(tenant, *, key, status="delivered", **fields):
    values = {"kind": "invoice_issued", "channel": "sms", "recipient": "+64211234567",
              "contact_name": "Aroha Ngata", "body": "Hi Aroha"}  # fmt: skip
    return Message.objects.create(tenant=tenant, dedup_key=key, status=status,
                                  **{**values, **fields})  # fmt: skip


@pytest.fixture
def log(tenant_a, tenant_b):
    tenant_a.timezone = "Pacific/Auckland"
    tenant_a.save()
    InvoiceSnapshot.objects.create(
        tenant=tenant_a, xero_tenant_id="org-a", invoice_id="inv-142", type="ACCREC",
        status="AUTHORISED", number="INV-0142",
    )  # fmt: skip
    return {
        "delivered": message_create(tenant_a, key="k1", invoice_id="inv-142",
                                    created_at=datetime(2026, 7, 6, 23, 0, tzinfo=UTC)),
        "failed": message_create(tenant_a, key="k2", status="failed", kind="reminder",
                                 contact_name="Ben Smith", recipient="+64219876543",
                                 error_code="30007", error_message="Filtered by the carrier.",
                                 created_at=datetime(2026, 7, 5, 1, 0, tzinfo=UTC)),
        "email": message_create(tenant_a, key="k3", channel="email", status="sent",
                                recipient="cara@example.test", contact_name="Cara Jones",
                                created_at=datetime(2026, 7, 1, 1, 0, tzinfo=UTC)),
        "other_tenant": message_create(tenant_b, key="k1", status="failed",
                                       contact_name="Bravo Customer"),
    }  # fmt: skip


def names_listed(client, query):
    page = client.get(f"/messaging/?{query}").text
    return {name for name in ("Aroha Ngata", "Ben Smith", "Cara Jones", "Bravo") if name in page}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", {"Aroha Ngata", "Ben Smith", "Cara Jones"}),
        ("status=failed", {"Ben Smith"}),
        ("kind=reminder", {"Ben Smith"}),
        ("channel=email", {"Cara Jones"}),
        ("contact=ben", {"Ben Smith"}),
        ("contact=9876", {"Ben Smith"}),
        ("invoice=0142", {"Aroha Ngata"}),
        # 23:00 UTC on 6 July is 7 July in Auckland: days are the tenant's own.
        ("date_from=2026-07-07", {"Aroha Ngata"}),
        ("date_from=2026-07-05&date_to=2026-07-05", {"Ben Smith"}),
    ],
)
def test_the_send_log_filters_by_each_field(staff_client, log, query, expected):
    assert names_listed(staff_client, query) == expected


def test_the_log_shows_invoice_numbers_and_is_accessible(staff_client, log):
    page = staff_client.get("/messaging/").text
    assert "INV-0142" in page
    assert_accessible(page)


def test_a_backwards_date_range_is_explained_and_lists_nothing(staff_client, log):
    page = staff_client.get("/messaging/?date_from=2026-07-07&date_to=2026-07-01").text
    assert "The end date is before the start date." in page
    assert names_listed(staff_client, "date_from=2026-07-07&date_to=2026-07-01") == set()


def test_an_empty_log_says_how_to_get_a_first_message(staff_client, tenant_a):
    page = staff_client.get("/messaging/").text
    assert "No messages yet — create an invoice in Xero to see one here." in page


def test_a_filter_matching_nothing_says_so(staff_client, log):
    page = staff_client.get("/messaging/?contact=nobody").text
    assert "No messages match these filters." in page


def test_the_detail_shows_body_recipient_and_every_change_with_the_error_explained(
    staff_client, log
):
    failed = log["failed"]
    MessageStatusChange.objects.create(
        message=failed, from_status="", to_status="pending", note="Created",
        created_at=datetime(2026, 7, 5, 1, 0, tzinfo=UTC),
    )  # fmt: skip
    MessageStatusChange.objects.create(
        message=failed, from_status="sent", to_status="failed", provider_status="failed",
        error_code="30007", note="Twilio: failed",
        created_at=datetime(2026, 7, 5, 1, 2, tzinfo=UTC),
    )  # fmt: skip
    page = staff_client.get(f"/messaging/{failed.pk}/").text
    assert "Hi Aroha" in page and "+64219876543" in page
    assert "5 Jul 2026 13:00:00" in page and "5 Jul 2026 13:02:00" in page  # Auckland time
    assert "Error 30007." in page
    assert "The carrier filtered the message (spam filtering)." in page  # in the history
    assert ">Resend</button>" in page
    assert_accessible(page)


def test_bulk_resend_confirms_the_count_then_resends_only_those(
    staff_client, log, tenant_a, django_capture_on_commit_callbacks
):
    undelivered = message_create(tenant_a, key="k4", status="undelivered", contact_name="Dan Lee")
    message_create(tenant_a, key="k5", status="skipped", contact_name="Skipped Person")
    confirm = staff_client.get("/messaging/resend/")
    assert "Resend 2 messages?" in confirm.text
    assert "Ben Smith" in confirm.text and "Dan Lee" in confirm.text
    assert "Bravo" not in confirm.text
    assert_accessible(confirm.text)

    late = message_create(tenant_a, key="k6", status="failed", contact_name="Late Failure")
    up_to = confirm.context["up_to"]
    assert late.pk > up_to
    with django_capture_on_commit_callbacks():  # the send kicks are not run: no Twilio here
        response = staff_client.post("/messaging/resend/", {"up_to": up_to}, follow=True)
        staff_client.post("/messaging/resend/", {"up_to": up_to})  # a second click
    assert "2 messages will be sent again." in response.text
    resent = Message.objects.filter(resend_of__isnull=False)
    assert sorted(m.resend_of_id for m in resent) == sorted([log["failed"].pk, undelivered.pk])
    assert {m.status for m in resent} <= {"pending", "scheduled"}
    assert not Message.objects.filter(resend_of=late).exists()
    assert not Message.objects.filter(resend_of=log["other_tenant"]).exists()


def test_bulk_resend_keeps_the_filter(staff_client, log, tenant_a):
    message_create(tenant_a, key="k4", status="undelivered", contact_name="Dan Lee")
    confirm = staff_client.get("/messaging/resend/?contact=dan")
    assert "Resend 1 message?" in confirm.text
    assert '<input type="hidden" name="contact" value="dan">' in confirm.text
    staff_client.post("/messaging/resend/", {"contact": "dan", "up_to": confirm.context["up_to"]})
    assert list(Message.objects.filter(resend_of__isnull=False).values_list(
        "contact_name", flat=True)) == ["Dan Lee"]  # fmt: skip


def test_the_log_offers_bulk_resend_only_when_something_can_be_resent(staff_client, log):
    assert "Resend it…" in staff_client.get("/messaging/?status=failed").text
    assert "/messaging/resend/" not in staff_client.get("/messaging/?status=delivered").text


def test_nothing_to_resend_is_said_plainly(staff_client, log):
    page = staff_client.get("/messaging/resend/?status=delivered").text
    assert "Nothing to resend" in page
