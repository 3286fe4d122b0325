"""The weekly summary: its figures against a known week, and one email per tenant per week."""

from datetime import date, datetime
from io import StringIO

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django_q.models import Schedule

from alerts.models import AlertSettings, WeeklySummary
from alerts.weekly_summary import weekly_figures, weekly_summaries_kick_due, weekly_summary_send
from billing_events.models import ReminderSent
from config.schedules import sync_schedules
from messaging.models import Message
from snapshots.models import InvoiceSnapshot
from tests.alerts.conftest import emails_to

WEEK = date(2026, 7, 13)  # Monday 13 to Sunday 19 July, in Auckland (UTC+12 then)


def utc(moment: str) -> datetime:
    return datetime.fromisoformat(moment + "+00:00")


def message(tenant, kind, status, created, *, channel="sms", **fields):
    return Message.objects.create(
        tenant=tenant, kind=kind, channel=channel, status=status, created_at=utc(created),
        dedup_key=fields.pop("dedup_key", f"k{Message.objects.count()}"), **fields,
    )  # fmt: skip


def paid_invoice(tenant, number, paid, *reminders, status="PAID"):
    invoice_id = f"inv-{number}"
    InvoiceSnapshot.objects.create(
        tenant=tenant, xero_tenant_id="org", invoice_id=invoice_id, type="ACCREC",
        status=status, number=number, updated_date_utc=utc(paid),
    )  # fmt: skip
    for n, reminded in enumerate(reminders):
        ReminderSent.objects.create(
            tenant=tenant, xero_tenant_id="org", invoice_id=invoice_id, occurrence=f"stage-{n}",
            stage_key=f"stage-{n}", scheduled_on=utc(reminded).date(),
            sent_on=utc(reminded).date(), created_at=utc(reminded),
        )  # fmt: skip


@pytest.fixture
def week_of_work(tenant_a, tenant_b):
    tenant_a.timezone = "Pacific/Auckland"
    tenant_a.save()
    # Sunday 12 July 23:59 and Monday 20 July 00:00 in Auckland: the week's edges, outside it.
    message(tenant_a, "invoice_issued", "delivered", "2026-07-12T11:59:00")
    message(tenant_a, "invoice_issued", "delivered", "2026-07-19T12:00:00")
    for status in ("delivered", "delivered", "delivered", "undelivered"):
        message(tenant_a, "invoice_issued", status, "2026-07-12T12:00:00")
    message(tenant_a, "invoice_issued", "skipped", "2026-07-14T01:00:00", contact_id="c-wiremu",
            contact_name="Wiremu Tane", error_code="no_phone")  # fmt: skip
    message(tenant_a, "reminder", "delivered", "2026-07-15T21:00:00")
    message(tenant_a, "reminder", "delivered", "2026-07-15T21:00:00")
    message(tenant_a, "reminder", "failed", "2026-07-15T21:00:00", error_code="21211")
    message(tenant_a, "reminder", "delivered", "2026-07-15T21:00:00", channel="whatsapp")
    message(tenant_a, "payment_received", "sent", "2026-07-16T02:00:00", channel="email")
    message(tenant_a, "payment_received", "sent", "2026-07-19T11:59:00", channel="email")
    # Contacts: Hemi's number is still unusable; Aroha's was fixed (her latest text went out).
    message(tenant_a, "reminder", "skipped", "2026-07-01T00:00:00", contact_id="c-hemi",
            contact_name="Hemi Walker", error_code="invalid_phone")  # fmt: skip
    message(tenant_a, "reminder", "skipped", "2026-07-01T00:00:00", contact_id="c-aroha",
            contact_name="Aroha Ngata", error_code="invalid_phone")  # fmt: skip
    message(tenant_a, "reminder", "delivered", "2026-07-02T00:00:00", contact_id="c-aroha",
            contact_name="Aroha Ngata")  # fmt: skip
    # Reminded Thu 9 Jul, paid Tue 14 Jul: 5 days.
    paid_invoice(tenant_a, "INV-1", "2026-07-13T22:00:00", "2026-07-08T21:00:00")
    # Reminded 2 Jul and Wed 15 Jul, paid Fri 17 Jul: 2 days after the last reminder before it.
    paid_invoice(tenant_a, "INV-2", "2026-07-16T23:00:00", "2026-07-01T21:00:00",
                 "2026-07-14T21:00:00")  # fmt: skip
    # Reminded Sat 11 Jul, paid Sat 18 Jul: 7 days.
    paid_invoice(tenant_a, "INV-3", "2026-07-18T02:00:00", "2026-07-10T21:00:00")
    paid_invoice(tenant_a, "INV-4", "2026-07-15T00:00:00")  # no reminder: not counted
    paid_invoice(tenant_a, "INV-5", "2026-07-20T01:00:00", "2026-07-15T21:00:00")  # next week
    paid_invoice(tenant_a, "INV-6", "2026-07-14T00:00:00", "2026-07-15T21:00:00")  # reminded after
    paid_invoice(tenant_a, "INV-7", "2026-07-15T00:00:00", "2026-07-10T21:00:00",
                 status="AUTHORISED")  # part-paid: still open  # fmt: skip
    paid_invoice(tenant_b, "INV-B", "2026-07-15T00:00:00", "2026-07-10T21:00:00")
    message(tenant_b, "invoice_issued", "failed", "2026-07-15T00:00:00")
    return tenant_a


def test_the_weeks_figures_from_a_known_week(week_of_work):
    figures = weekly_figures(tenant=week_of_work, week_start=WEEK)

    assert figures.statuses == ["Sent", "Delivered", "Undelivered", "Failed", "Skipped"]
    assert [(row.label, row.cells, row.total) for row in figures.by_kind] == [
        ("Invoice issued", [("Sent", 0), ("Delivered", 3), ("Undelivered", 1), ("Failed", 0),
                            ("Skipped", 1)], 5),
        ("Payment received", [("Sent", 2), ("Delivered", 0), ("Undelivered", 0), ("Failed", 0),
                              ("Skipped", 0)], 2),
        ("Reminder", [("Sent", 0), ("Delivered", 3), ("Undelivered", 0), ("Failed", 1),
                              ("Skipped", 0)], 4),
    ]  # fmt: skip
    assert figures.total == 11
    # 6 of the 7 texts with a delivery report were delivered (the emails never report delivery).
    assert (figures.outcomes.reported, figures.outcomes.delivered) == (7, 6)
    assert figures.outcomes.delivery_rate == 86
    assert [(p.invoice_number, p.reminded_on, p.paid_on, p.days)
            for p in figures.paid_after_reminder] == [
        ("INV-1", date(2026, 7, 9), date(2026, 7, 14), 5),
        ("INV-2", date(2026, 7, 15), date(2026, 7, 17), 2),
        ("INV-3", date(2026, 7, 11), date(2026, 7, 18), 7),
    ]  # fmt: skip
    assert (figures.average_days, figures.median_days) == (4.7, 5)
    assert [m.contact_name for m in figures.contacts_needing_phone] == [
        "Hemi Walker",
        "Wiremu Tane",
    ]


def test_staff_test_sends_are_not_counted_in_the_week(week_of_work):
    before = weekly_figures(tenant=week_of_work, week_start=WEEK)
    for status in ("delivered", "failed", "undelivered"):
        message(week_of_work, "reminder", status, "2026-07-15T21:00:00", is_test=True)

    after = weekly_figures(tenant=week_of_work, week_start=WEEK)

    assert (after.total, after.outcomes.reported, after.outcomes.delivery_rate) == (11, 7, 86)
    assert after.by_kind == before.by_kind


def test_the_email_says_it_in_words_and_as_a_table(week_of_work, owner_a, staff_a):
    assert weekly_summary_send(tenant=week_of_work, week_start=WEEK)

    [email] = mail.outbox
    assert email.to == ["owner@alpha.test"]  # owners only
    assert email.subject == "[Dunwell] Alpha Plumbing: your week of 13 July"
    for line in (
        "Alpha Plumbing on Dunwell: the week of 13 July to 19 July 2026",
        "- Invoice issued: 5 (3 delivered, 1 undelivered, 1 skipped)",
        "- Payment received: 2 (2 sent)",
        "- Reminder: 4 (3 delivered, 1 failed)",
        "In all: 11.",
        "86% of the 7 texts with a delivery report were delivered (2 failed or undelivered).",
        "3 invoices paid after a reminder, 4.7 days after it on average (median 5).",
        "- INV-2: reminded 15 Jul, paid 17 Jul (2 days later)",
        "2 contacts have no usable mobile number in Xero: Hemi Walker, Wiremu Tane.",
        "http://127.0.0.1:8000/messaging/contacts-needing-phone/",
    ):
        assert line in email.body, line
    html, mimetype = email.alternatives[0]
    assert mimetype == "text/html"
    assert '<th scope="row"' in html and "<strong>86%</strong>" in html


def test_a_resent_notification_counts_once_with_its_best_outcome(tenant_a):
    tenant_a.timezone = "Pacific/Auckland"
    tenant_a.save()
    first = message(tenant_a, "invoice_issued", "undelivered", "2026-07-14T01:00:00",
                    dedup_key="invoice:INV-1:issued", error_code="30003")  # fmt: skip
    message(tenant_a, "invoice_issued", "failed", "2026-07-14T02:00:00", resend_of=first,
            dedup_key="invoice:INV-1:issued:resend:1", error_code="30003")  # fmt: skip
    message(tenant_a, "invoice_issued", "delivered", "2026-07-14T03:00:00", resend_of=first,
            dedup_key="invoice:INV-1:issued:resend:1:resend:1")  # fmt: skip
    message(tenant_a, "invoice_issued", "sent", "2026-07-14T01:05:00", channel="email",
            dedup_key="invoice:INV-1:issued:fallback")  # fmt: skip
    message(tenant_a, "invoice_issued", "failed", "2026-07-14T04:00:00",
            dedup_key="invoice:INV-2:issued")  # fmt: skip

    figures = weekly_figures(tenant=tenant_a, week_start=WEEK)

    assert [(row.label, row.cells, row.total) for row in figures.by_kind] == [
        ("Invoice issued", [("Delivered", 1), ("Failed", 1)], 2),
    ]
    assert figures.total == 2


def test_automatic_replies_are_not_counted_as_texts_not_delivered(tenant_a):
    tenant_a.timezone = "Pacific/Auckland"
    tenant_a.save()
    message(tenant_a, "reminder", "delivered", "2026-07-14T01:00:00", provider_id="SM1")
    message(tenant_a, "reminder", "delivered", "2026-07-14T01:00:00", provider_id="SM2")
    message(tenant_a, "reply_payment_link", "sent", "2026-07-14T02:00:00")  # TwiML: no report
    message(tenant_a, "reminder", "sent", "2026-07-14T03:00:00", provider_id="SM3")

    outcomes = weekly_figures(tenant=tenant_a, week_start=WEEK).outcomes

    assert (outcomes.delivery_rate, outcomes.reported, outcomes.awaiting_report) == (100, 2, 1)


def test_a_quiet_week_is_summarised_too(tenant_a):
    weekly_summary_send(tenant=tenant_a, week_start=WEEK)
    body = mail.outbox[0].body
    assert "No messages this week." in body
    assert "No delivery report came this week." in body
    assert "No invoice was paid after a reminder this week." in body
    assert "None: every contact we tried to text had a usable number." in body


@pytest.fixture
def new_tenant(tenant_a):
    """Alpha joined at the start of the summarised week (Monday 13 July, 00:00 in Auckland)."""
    tenant_a.timezone = "Pacific/Auckland"
    tenant_a.created_at = utc("2026-07-12T12:00:00")
    tenant_a.save()
    return tenant_a


def kick(django_capture_on_commit_callbacks, moment: str, time_machine) -> int:
    time_machine.move_to(utc(moment), tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        return weekly_summaries_kick_due()


def test_it_goes_once_a_week_on_monday_morning_in_the_tenants_time(
    new_tenant, django_capture_on_commit_callbacks, time_machine
):
    def run(moment):
        return kick(django_capture_on_commit_callbacks, moment, time_machine)

    assert run("2026-07-19T19:59:00") == 0  # Monday 20 July 07:59 in Auckland
    assert run("2026-07-19T20:00:00") == 1  # 08:00
    assert run("2026-07-19T21:00:00") == 0
    assert run("2026-07-21T03:00:00") == 0
    assert [e.subject for e in mail.outbox] == ["[Dunwell] Alpha Plumbing: your week of 13 July"]

    assert run("2026-07-26T20:00:00") == 1  # the next Monday
    assert len(mail.outbox) == 2
    assert list(WeeklySummary.objects.values_list("week_start", flat=True)) == [
        date(2026, 7, 20),
        WEEK,
    ]


def test_a_summary_is_sent_once_however_often_it_is_asked_for(new_tenant):
    assert weekly_summary_send(tenant=new_tenant, week_start=WEEK)
    assert not weekly_summary_send(tenant=new_tenant, week_start=WEEK)
    assert len(mail.outbox) == 1


def test_owners_who_turned_it_off_get_none(
    new_tenant, django_capture_on_commit_callbacks, time_machine
):
    AlertSettings.objects.create(tenant=new_tenant, weekly_summary=False)
    assert kick(django_capture_on_commit_callbacks, "2026-07-19T20:00:00", time_machine) == 0
    assert mail.outbox == []


def test_a_refused_summary_is_tried_again_the_next_hour(
    new_tenant, django_capture_on_commit_callbacks, time_machine, mailer
):
    mailer.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": 9, "timeout": 2},
        }
    }
    kick(django_capture_on_commit_callbacks, "2026-07-19T20:00:00", time_machine)
    row = WeeklySummary.objects.get()
    assert row.sent_at is None and "ConnectionRefusedError" in row.last_error
    mailer.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    assert kick(django_capture_on_commit_callbacks, "2026-07-19T21:00:00", time_machine) == 1
    assert len(emails_to("owner@alpha.test")) == 1


def test_the_alert_check_and_the_summaries_are_scheduled(db):
    sync_schedules()
    scheduled = {s.name: (s.func, s.schedule_type, s.minutes) for s in Schedule.objects.all()}
    assert scheduled["alerts.check"] == ("alerts.tasks.alerts_check_task", Schedule.MINUTES, 5)
    assert scheduled["alerts.weekly-summaries"][:2] == (
        "alerts.tasks.weekly_summaries_due_task",
        Schedule.HOURLY,
    )


def test_the_command_previews_and_sends_one_tenants_summary(week_of_work):
    out = StringIO()
    call_command("weekly_summary", week_of_work.slug, "--week", "2026-07-13", stdout=out)
    assert "3 invoices paid after a reminder" in out.getvalue()
    assert mail.outbox == []

    call_command("weekly_summary", week_of_work.slug, "--week", "2026-07-13", "--send", stdout=out)
    call_command("weekly_summary", week_of_work.slug, "--week", "2026-07-13", "--send", stdout=out)
    assert len(mail.outbox) == 1
    assert "was already sent" in out.getvalue()

    with pytest.raises(CommandError, match="a week starts on a Monday"):
        call_command("weekly_summary", week_of_work.slug, "--week", "2026-07-14")
    with pytest.raises(CommandError, match="No tenant has the slug"):
        call_command("weekly_summary", "nobody")
