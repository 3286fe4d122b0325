"""The dashboard: figures over 7 and 30 days, the queue, Xero's health and reminders, attention."""

import json
from datetime import UTC, datetime, timedelta

import pytest
import responses
import time_machine

from connections.models import XeroConnection
from dashboard.models import XeroInvoiceReminders
from dashboard.services import invoice_reminders_check_due
from messaging.models import Message
from tests.a11y import assert_accessible
from tests.xero_api import api_url, xero_connection_create, xero_json

NOW = datetime(2026, 7, 20, 1, 0, tzinfo=UTC)  # 13:00 in Auckland


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def message_create(tenant, status, *, days_ago=0, channel="sms", **fields):
    return Message.objects.create(
        tenant=tenant, kind="invoice_issued", channel=channel, status=status,
        dedup_key=f"k{Message.objects.count()}", contact_name=fields.pop("contact_name", "Aroha"),
        created_at=NOW - timedelta(days=days_ago, minutes=1), **fields,
    )  # fmt: skip


@pytest.fixture
def history(tenant_a, tenant_b):
    tenant_a.timezone = "Pacific/Auckland"
    tenant_a.save()
    for status in ("delivered", "delivered", "delivered", "undelivered", "failed", "skipped"):
        message_create(tenant_a, status, days_ago=2)
    message_create(tenant_a, "delivered", days_ago=20)
    message_create(tenant_a, "sent", days_ago=20, channel="email")
    message_create(tenant_a, "failed", days_ago=40)  # older than 30 days: not counted
    message_create(tenant_a, "pending", days_ago=0)
    message_create(
        tenant_a,
        "scheduled",
        days_ago=1,
        send_after=NOW + timedelta(hours=7),
        quiet_hours_hold=True,
    )
    message_create(tenant_b, "failed", days_ago=1, contact_name="Bravo Customer")


def figure(html, heading, label):
    section = html.split(f"<h3>{heading}</h3>", 1)[1].split("</div>\n", 5)
    text = "".join(section)
    return text.split(f"<dt>{label}</dt>", 1)[1].split("</dd>", 1)[0].rsplit(">", 1)[1]


def test_the_dashboard_counts_messages_over_7_and_30_days(staff_client, history):
    html = staff_client.get("/dashboard/").text
    assert [figure(html, "Last 7 days", label) for label in ("Sent", "Delivered", "Failed",
            "Skipped")] == ["4", "3", "2", "1"]  # fmt: skip
    assert [figure(html, "Last 30 days", label) for label in ("Sent", "Delivered", "Failed",
            "Skipped")] == ["6", "4", "2", "1"]  # fmt: skip
    # 3 of the 4 texts with a delivery report were delivered; the email never reports delivery.
    assert "<strong>75%</strong> of the 4 texts with a delivery report." in html
    assert "<strong>80%</strong> of the 5 texts with a delivery report." in html
    assert "Bravo" not in html
    assert_accessible(html)


def test_automatic_replies_never_lower_the_delivery_rate(staff_client, tenant_a):
    message_create(tenant_a, "delivered", provider_id="SM1")
    message_create(tenant_a, "delivered", provider_id="SM2")
    # Answered in TwiML: Twilio never reports on it.
    Message.objects.create(
        tenant=tenant_a,
        kind="reply_payment_link",
        channel="sms",
        status="sent",
        dedup_key="inbound:SM9:reply",
        created_at=NOW - timedelta(minutes=1),
    )  # fmt: skip
    message_create(tenant_a, "sent", provider_id="SM3")

    html = staff_client.get("/dashboard/").text

    assert "<strong>100%</strong> of the 2 texts with a delivery report; 1 still awaiting one." in (
        html
    )
    assert "Automatic replies to customers' texts and emails get no delivery report" in html


def test_the_queue_shows_waiting_messages_and_the_oldest(staff_client, history):
    html = staff_client.get("/dashboard/").text
    assert figure(html, "Queue", "Waiting") == "1"
    assert figure(html, "Queue", "Quiet hours") == "1"
    assert figure(html, "Queue", "Retries") == "0"
    assert "Oldest waiting since 19 Jul 12:59" in html  # Auckland time
    assert "next scheduled to go at 20 Jul 20:00" in html


def test_a_waiting_retry_is_counted_as_a_retry_not_as_quiet_hours(staff_client, history, tenant_a):
    message_create(tenant_a, "scheduled", days_ago=0, send_after=NOW + timedelta(hours=2))
    html = staff_client.get("/dashboard/").text
    assert figure(html, "Queue", "Quiet hours") == "1"
    assert figure(html, "Queue", "Retries") == "1"


def test_the_chart_has_a_bar_per_day_with_a_text_summary(staff_client, history):
    html = staff_client.get("/dashboard/").text
    assert '<svg class="chart"' in html and 'role="img"' in html
    assert "8 messages in 30 days; the busiest day was 18 July with 6." in html
    assert "18 Jul: 3 delivered</title>" in html
    assert "18 Jul: 2 failed or undelivered</title>" in html


def test_failed_messages_needing_attention_leave_the_list_once_resent(staff_client, history):
    html = staff_client.get("/dashboard/").text
    assert "Failed messages needing attention (3)" in html  # however old, until resent
    failed = Message.objects.get(tenant__slug__startswith="alpha", status="failed",
                                 created_at__gte=NOW - timedelta(days=30))  # fmt: skip
    message_create(failed.tenant, "pending", resend_of=failed)
    assert "Failed messages needing attention (2)" in staff_client.get("/dashboard/").text


def test_contacts_needing_a_phone_are_listed(staff_client, tenant_a):
    reason = "No mobile or default phone in Xero."
    message_create(tenant_a, "skipped", contact_id="c-1", contact_name="No Phone Ltd",
                   error_code="no_phone", status_reason=reason)  # fmt: skip
    html = staff_client.get("/dashboard/").text
    assert "Contacts that need a phone number (1)" in html and "No Phone Ltd" in html


def test_a_new_tenant_sees_how_to_get_a_first_message(staff_client, tenant_a):
    html = staff_client.get("/dashboard/").text
    assert "No messages yet — create an invoice in Xero to see one here." in html
    assert "No Xero organisation connected." in html
    assert "no delivery reports yet" in html
    assert_accessible(html)


def test_the_number_of_queries_does_not_grow_with_the_data(
    staff_client, tenant_a, django_assert_max_num_queries
):
    xero_connection_create(tenant=tenant_a)
    # One of each kind of row, so the baseline takes every query path the page has.
    message_create(tenant_a, "skipped", contact_id="c-first", error_code="no_phone")
    staff_client.get("/dashboard/")  # warm the session
    with django_assert_max_num_queries(17) as few:
        staff_client.get("/dashboard/")
    for days_ago in range(30):
        message_create(tenant_a, "failed", days_ago=days_ago, contact_id=f"c{days_ago}",
                       error_code="no_phone")  # fmt: skip
        xero_connection_create(tenant=tenant_a, name=f"Org {days_ago}") if days_ago < 3 else None
    with django_assert_max_num_queries(len(few.captured_queries)):
        staff_client.get("/dashboard/")


def test_xero_health_shows_the_call_budget_left(staff_client, tenant_a, settings):
    settings.XERO_DAY_LIMIT = 5000
    connection = xero_connection_create(tenant=tenant_a, name="Alpha NZ")
    XeroConnection.objects.filter(pk=connection.pk).update(
        day_limit_remaining=4210, min_limit_remaining=58, last_success_at=NOW
    )
    html = staff_client.get("/dashboard/").text
    assert "4210 of 5000" in html and "(58 this minute)" in html
    assert "Connected" in html and "Not checked yet" in html


def test_staff_are_told_an_owner_must_reconnect_xero(staff_client, tenant_a):
    connection = xero_connection_create(tenant=tenant_a, name="Alpha NZ")
    XeroConnection.objects.filter(pk=connection.pk).update(status="needs_reconnect")
    html = staff_client.get("/dashboard/").text
    assert "no messages go out for it until an owner of your team reconnects it" in html
    assert "Needs reconnecting" in html


def test_the_owner_gets_the_reconnect_banner_with_its_link(client, owner_a, tenant_a):
    connection = xero_connection_create(tenant=tenant_a, name="Alpha NZ")
    XeroConnection.objects.filter(pk=connection.pk).update(status="needs_reconnect")
    client.force_login(owner_a)
    html = client.get("/dashboard/").text
    assert html.count('role="alert"') == 1  # connections' banner only, not a second one
    assert '<a href="/connections/">reconnect</a>' in html


@responses.activate
def test_xeros_own_reminders_are_read_in_the_background_and_warned_about(staff_client, tenant_a):
    on = xero_connection_create(tenant=tenant_a, name="Alpha NZ")
    off = xero_connection_create(tenant=tenant_a, name="Alpha AU")
    html = staff_client.get("/dashboard/").text
    assert len(responses.calls) == 0  # never while a page renders
    assert "Xero's own invoice reminders are also on" not in html

    replies = {on.xero_tenant_id: "invoice_reminders__enabled",
               off.xero_tenant_id: "invoice_reminders__disabled"}  # fmt: skip
    responses.add_callback(
        responses.GET, api_url("InvoiceReminders/Settings"),
        callback=lambda request: (
            200, {}, json.dumps(xero_json(replies[request.headers["Xero-tenant-id"]]))
        ),
    )  # fmt: skip
    assert invoice_reminders_check_due() == 2
    assert invoice_reminders_check_due() == 0  # checked: not again until tomorrow
    html = staff_client.get("/dashboard/").text
    assert "Xero's own invoice reminders are also on for Alpha NZ: your customers may be" in html
    assert "Alpha AU" not in html.split("also on for", 1)[1].split("</div>", 1)[0]


@responses.activate
def test_a_failed_reminder_check_is_tried_again_an_hour_later(tenant_a):
    connection = xero_connection_create(tenant=tenant_a, expires_in=timedelta(days=1))
    # Not offered for every organisation (Xero answers 404): the page says "not checked yet".
    responses.add(responses.GET, api_url("InvoiceReminders/Settings"), status=404)
    invoice_reminders_check_due()
    row = XeroInvoiceReminders.objects.get(connection=connection)
    assert row.enabled is None and "404" in row.last_error
    assert row.next_check_at == NOW + timedelta(hours=1)
    responses.replace(
        responses.GET, api_url("InvoiceReminders/Settings"),
        json=xero_json("invoice_reminders__enabled"),
    )  # fmt: skip
    with time_machine.travel(NOW + timedelta(hours=1, minutes=1), tick=False):
        invoice_reminders_check_due()
    row.refresh_from_db()
    assert (row.enabled, row.last_error) == (True, "")
