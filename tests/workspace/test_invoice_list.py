"""The Invoices page: every open invoice across organisations, what happens next and why."""

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection as db
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from billing_events.models import ReminderPause, ReminderSent, ReminderSettings, ReminderStage
from messaging.models import InboundMessage, Message, OptOut
from snapshots.models import InvoiceSnapshot
from tests.a11y import assert_accessible
from tests.billing_events.conftest import _connection
from workspace.selectors import InvoiceFilters, invoice_rows, invoices_page

pytestmark = pytest.mark.usefixtures("ledger", "on_12_december")

RUAPEHU = "c4a7e5d0-1b2c-4d3e-9f80-a1b2c3d4e5f6"
INV_0142 = "243216c5-369e-4056-ac67-05388f86dc81"
TRADE_CUSTOMERS = "3e1b0f6a-8d4c-4b1e-9a2f-5c6d7e8f9a0b"


def _next_steps(tenant) -> dict[str, str]:
    invoices = list(InvoiceSnapshot.objects.filter(tenant=tenant))
    rows = invoice_rows(tenant=tenant, invoices=invoices, as_of=timezone.now())
    return {row.invoice.number: row.next_step.text if row.next_step else "" for row in rows}


def test_the_list_shows_state_days_overdue_last_message_and_next_step(staff_client, tenant_a):
    Message.objects.create(
        tenant=tenant_a, kind="invoice_issued", channel="sms", dedup_key="invoice:x:issued",
        invoice_id=INV_0142, status="delivered", contact_id=RUAPEHU,
    )  # fmt: skip
    page = staff_client.get("/invoices/").text
    assert_accessible(page)
    assert "INV-0142" in page and "Ruapehu Motors" in page
    assert "NZD 485.00" in page and "2 days overdue" in page
    assert '<span class="state state-overdue">Overdue</span>' in page
    assert "Invoice issued · SMS" in page and "Delivered" in page
    # The stage due yesterday was never sent (no run yet): the sweep catches it up once, today.
    assert "1 day overdue · Sat 12 Dec 09:00 · SMS" in page
    assert f'href="/customers/{RUAPEHU}/"' in page
    assert "Organisation" not in page  # one organisation: no column for it


def test_next_steps_say_why_nothing_will_go(tenant_a):
    ReminderPause.objects.create(tenant=tenant_a, invoice_id=INV_0142, resume_on=date(2026, 12, 20))
    settings = ReminderSettings.objects.get(tenant=tenant_a)
    settings.excluded_group_ids = [TRADE_CUSTOMERS]  # Ruapehu's group…
    settings.save()
    ReminderStage.objects.filter(tenant=tenant_a).update(minimum_amount_due=Decimal("100"))
    steps = _next_steps(tenant_a)
    assert steps["INV-0142"] == "Paused until Sun 20 Dec"  # the pause is told before the group
    assert steps["INV-0160"] == "None: below the stage's minimum amount"  # 99.00 due
    assert steps["INV-0150"].startswith("1 day overdue · Sat 12 Dec 09:00")

    ReminderPause.objects.all().delete()
    assert _next_steps(tenant_a)["INV-0142"] == "None: the contact is in an excluded group"


def test_next_steps_say_opted_out_no_usable_phone_and_end_of_schedule(tenant_a):
    from messaging.models import MessageTemplate

    MessageTemplate.objects.filter(tenant=tenant_a, channel__in=["whatsapp", "email"]).update(
        is_active=False
    )
    OptOut.objects.create(tenant=tenant_a, phone="+64225550123")  # Kauri Cafe's mobile
    for key in ["due_soon", "due_today", "overdue_1", "overdue_7", "overdue_14", "overdue_30",
                "overdue_30:repeat:1", "overdue_30:repeat:2"]:  # fmt: skip
        ReminderSent.objects.create(
            tenant=tenant_a, xero_tenant_id=InvoiceSnapshot.objects.get(number="INV-0142")
            .xero_tenant_id, invoice_id=INV_0142, occurrence=key, stage_key=key.split(":")[0],
            scheduled_on=date(2026, 12, 11), sent_on=date(2026, 12, 11),
        )  # fmt: skip
    steps = _next_steps(tenant_a)
    assert steps["INV-0142"] == "None: end of schedule"
    assert steps["INV-0150"] == "None: opted out (replied STOP)"
    assert steps["INV-0160"] == "None: no usable phone number"


def test_xero_reminders_being_on_is_said_beside_the_step(staff_client, ledger):
    from dashboard.models import XeroInvoiceReminders

    XeroInvoiceReminders.objects.create(connection=ledger, enabled=True)
    assert "Xero also emails its own reminders" in staff_client.get("/invoices/").text


def test_paid_invoices_stay_30_days_and_closed_ones_have_no_next_step(staff_client, tenant_a):
    now = timezone.now()
    InvoiceSnapshot.objects.filter(number="INV-0150").update(
        status="PAID", amount_due=0, amount_paid=220, updated_date_utc=now - timedelta(days=3)
    )
    InvoiceSnapshot.objects.filter(number="INV-0160").update(
        status="PAID", updated_date_utc=now - timedelta(days=31)
    )
    page = staff_client.get("/invoices/").text
    assert "INV-0150" in page and '<span class="state state-paid">Paid</span>' in page
    assert "INV-0160" not in page
    assert "Nothing more" in page


@pytest.mark.parametrize(
    ("query", "numbers"),
    [
        ("state=overdue", {"INV-0142", "INV-0150", "INV-0160"}),
        ("state=awaiting", set()),
        ("overdue=1-7", {"INV-0142", "INV-0150", "INV-0160"}),
        ("overdue=8-30", set()),
        ("q=0150", {"INV-0150"}),
        ("q=totara", {"INV-0160"}),
        (f"group={TRADE_CUSTOMERS}", {"INV-0142"}),
        ("needs_person=on", {"INV-0160"}),
    ],
)
def test_filters_narrow_the_list(staff_client, tenant_a, query, numbers):
    Message.objects.create(
        tenant=tenant_a, kind="reminder", channel="sms", dedup_key="r:1", status="skipped",
        error_code="no_phone", invoice_id="7a8b9c0d-1e2f-4a3b-9c4d-5e6f7a8b9c0d",
    )  # fmt: skip
    from snapshots.models import XeroContactGroup

    XeroContactGroup.objects.create(
        tenant=tenant_a, xero_tenant_id="xt", group_id=TRADE_CUSTOMERS, name="Trade customers"
    )
    page = staff_client.get(f"/invoices/?{query}").text
    shown = {n for n in ("INV-0142", "INV-0150", "INV-0160") if f">{n}</a>" in page}
    assert shown == numbers


def test_a_reply_from_a_number_texted_about_the_invoice_needs_a_person(staff_client, tenant_a):
    Message.objects.create(
        tenant=tenant_a, kind="reminder", channel="sms", dedup_key="r:2", status="delivered",
        invoice_id=INV_0142, recipient="+6495550100",
    )  # fmt: skip
    InboundMessage.objects.create(
        tenant=tenant_a, message_sid="SM" + "1" * 32, channel="sms", from_phone="+6495550100",
        to="+6491234567", body="Can I pay next Friday?", intent="other",
    )  # fmt: skip
    page = staff_client.get("/invoices/?needs_person=on").text
    assert ">INV-0142</a>" in page and ">INV-0150</a>" not in page


def test_totals_are_per_currency_in_one_aggregate_query(staff_client, tenant_a, ledger):
    other = _connection(tenant_a, "au-org-1", "Wattle Catering Pty Ltd")
    InvoiceSnapshot.objects.create(
        tenant=tenant_a, xero_tenant_id=other.xero_tenant_id, invoice_id="au-1", type="ACCREC",
        status="AUTHORISED", number="AU-0001", currency="AUD", total=300, amount_due=300,
        due_date=date(2027, 1, 31),
    )  # fmt: skip
    with CaptureQueriesContext(db) as queries:
        page = staff_client.get("/invoices/").text
    assert "NZD outstanding</dt><dd>804.00</dd>" in page
    assert "AUD outstanding</dt><dd>300.00</dd>" in page
    assert '<dt>Overdue</dt><dd class="bad">804.00</dd>' in page
    assert '<dt>Overdue</dt><dd class="">0.00</dd>' in page
    sums = [q["sql"] for q in queries.captured_queries if "SUM(" in q["sql"]]
    assert len(sums) == 1
    assert "Wattle Catering Pty Ltd" in page  # two organisations: the column appears
    counted = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"]]
    assert not [sql for sql in counted if "invoicesnapshot" in sql]  # the nav counts replies
    assert (
        staff_client.get(f"/invoices/?organisation={other.xero_tenant_id}").text.count(
            'class="ledger-id"'
        )
        == 1
    )


def test_paging_walks_every_invoice_once_without_counting(tenant_a, ledger):
    InvoiceSnapshot.objects.bulk_create(
        InvoiceSnapshot(
            tenant=tenant_a,
            xero_tenant_id=ledger.xero_tenant_id,
            invoice_id=f"bulk-{n}",
            type="ACCREC",
            status="AUTHORISED",
            number=f"B-{n:03}",
            currency="NZD",
            total=n,
            amount_due=n % 7,
            due_date=date(2026, 12, 1) + timedelta(days=n % 5),
        )  # fmt: skip
        for n in range(23)
    )
    for sort in ("due", "-due", "-amount", "amount", "number"):
        filters, seen, after = InvoiceFilters(sort=sort), [], ""
        with CaptureQueriesContext(db) as queries:
            while True:
                page, after = invoices_page(
                    tenant=tenant_a, filters=filters, as_of=timezone.now(), after=after, size=5
                )
                seen += [invoice.number for invoice in page]
                if not after:
                    break
        assert len(seen) == len(set(seen)) == 26, sort
        assert len(queries.captured_queries) == 12  # 6 pages: the page and today's dates
        assert not [q for q in queries.captured_queries if "COUNT(" in q["sql"]]


def test_the_next_page_link_carries_the_filters(staff_client, monkeypatch):
    monkeypatch.setattr("workspace.selectors.invoices.PAGE_SIZE", 2)
    first = staff_client.get("/invoices/?sort=number&state=overdue").text
    assert ">INV-0142</a>" in first and ">INV-0160</a>" not in first
    assert 'rel="next"' in first and "sort=number&amp;state=overdue&amp;after=" in first
    cursor = first.split("after=")[1].split('"')[0]
    second = staff_client.get(f"/invoices/?sort=number&state=overdue&after={cursor}").text
    assert ">INV-0160</a>" in second and ">INV-0142</a>" not in second
    assert 'rel="next"' not in second and "First page" in second


def test_a_cursor_that_is_not_ours_shows_the_first_page(staff_client):
    assert ">INV-0142</a>" in staff_client.get("/invoices/?after=%%%garbage").text


def test_csv_export_streams_the_filtered_list(staff_client):
    response = staff_client.get("/invoices.csv?q=ruapehu")
    assert response.streaming and response["Content-Type"] == "text/csv"
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:3] == ["Organisation", "Invoice", "Contact"]
    assert rows[1][1:9] == ["INV-0142", "Ruapehu Motors", "NZD", "485.00", "485.00",
                            "2026-12-10", "2", "Overdue"]  # fmt: skip
    assert rows[1][11].startswith("1 day overdue · Sat 12 Dec 09:00")
    assert len(rows) == 2


def test_login_lands_on_invoices_and_a_tenant_without_xero_is_sent_to_set_up(
    client, owner_a, tenant_b
):
    from tests.conftest import PASSWORD

    response = client.post(
        "/accounts/login/", {"username": owner_a.username, "password": PASSWORD}, follow=True
    )
    assert response.redirect_chain[0][0] == "/invoices/"
    owner_b = tenant_b.memberships.first().user
    client.force_login(owner_b)
    assert client.get("/invoices/")["Location"] == "/"


def test_next_step_times_are_told_in_the_tenants_zone(tenant_a):
    sydney = _connection(tenant_a, "au-org-2", "Wattle Catering Pty Ltd")
    sydney.timezone = "Australia/Sydney"
    sydney.save()
    InvoiceSnapshot.objects.create(
        tenant=tenant_a, xero_tenant_id=sydney.xero_tenant_id, invoice_id="au-2", type="ACCREC",
        status="AUTHORISED", number="WC-0009", currency="AUD", total=80, amount_due=80,
        due_date=date(2026, 12, 22),
    )  # fmt: skip
    # Sydney's run starts at 09:00 there (AEDT), 11:00 in Auckland (NZDT), the tenant's zone.
    assert _next_steps(tenant_a)["WC-0009"].startswith("Due soon · Tue 15 Dec 11:00")


def test_a_promise_to_pay_is_told_as_the_next_step(tenant_a):
    ReminderPause.objects.create(
        tenant=tenant_a, invoice_id=INV_0142, resume_on=date(2026, 12, 19), reason="promise"
    )
    assert _next_steps(tenant_a)["INV-0142"] == "Promised to pay: reminders resume Sat 19 Dec"


def test_a_reply_someone_handled_no_longer_needs_a_person(staff_client, tenant_a):
    Message.objects.create(
        tenant=tenant_a, kind="reminder", channel="sms", dedup_key="r:3", status="delivered",
        invoice_id=INV_0142, recipient="+6495550100",
    )  # fmt: skip
    InboundMessage.objects.create(
        tenant=tenant_a, message_sid="SM" + "4" * 32, channel="sms", from_phone="+6495550100",
        to="+6491234567", body="Paid it yesterday", intent="other", handled_at=timezone.now(),
    )  # fmt: skip
    assert ">INV-0142</a>" not in staff_client.get("/invoices/?needs_person=on").text
