"""One invoice's page: its timeline, and pausing, resuming and sending the next reminder now."""

from datetime import date

import pytest
import time_machine

from billing_events.models import ReminderPause, ReminderSent
from messaging.models import InboundMessage, Message, MessageStatusChange, OptOut
from snapshots.models import CreditNoteSnapshot, InvoiceSnapshot
from tests.a11y import assert_accessible
from tests.billing_events.reminder_helpers import local, sweep_at
from workspace.models import InvoiceAction

pytestmark = pytest.mark.usefixtures("ledger", "on_12_december")

INV_0142 = "243216c5-369e-4056-ac67-05388f86dc81"
RUAPEHU = "c4a7e5d0-1b2c-4d3e-9f80-a1b2c3d4e5f6"
PAGE = f"/invoices/{INV_0142}/"


def _reminders():
    return Message.objects.filter(kind="reminder", invoice_id=INV_0142)


def test_the_timeline_tells_everything_newest_first(staff_client, tenant_a, ledger):
    receipt = Message.objects.create(
        tenant=tenant_a, kind="payment_received", channel="sms", dedup_key="payment:p1:receipt",
        invoice_id=INV_0142, contact_id=RUAPEHU, status="delivered", recipient="+6495550100",
        body="Thanks, we received $100.00 against INV-0142, still due $385.00. " * 3,
        template_values={"payment_amount": "$100.00"},
    )  # fmt: skip
    MessageStatusChange.objects.create(message=receipt, from_status="sent", to_status="delivered",
                                       note="Twilio: delivered")  # fmt: skip
    CreditNoteSnapshot.objects.create(
        tenant=tenant_a, xero_tenant_id=ledger.xero_tenant_id, credit_note_id="cn-1",
        type="ACCRECCREDIT", status="AUTHORISED", number="CN-0007", contact_id=RUAPEHU,
        currency="NZD", total=50,
    )  # fmt: skip
    InboundMessage.objects.create(
        tenant=tenant_a, message_sid="SM" + "2" * 32, channel="sms", from_phone="+6495550100",
        to="+6491234567", body="Can I pay the rest next Friday?", intent="other",
    )  # fmt: skip
    ReminderPause.objects.create(  # the reply paused the contact (billing_events.replies)
        tenant=tenant_a, contact_id=RUAPEHU, resume_on=date(2026, 12, 14), reason="reply",
        created_at=local("Pacific/Auckland", "2026-12-11 10:01"),
    )  # fmt: skip
    staff_client.post(f"{PAGE}pause/", {"resume_on": "2026-12-19"})
    at = {"1": "2026-12-05 10:00", "2": "2026-12-08 10:00", "3": "2026-12-11 10:00"}
    moments = {key: local("Pacific/Auckland", when) for key, when in at.items()}
    Message.objects.filter(pk=receipt.pk).update(created_at=moments["1"])
    CreditNoteSnapshot.objects.update(first_seen_at=moments["2"])
    InboundMessage.objects.update(received_at=moments["3"])

    page = staff_client.get(PAGE).text
    assert_accessible(page)
    order = [
        "Paused reminders", "by staff@alpha.test", "Reminders paused until 14 Dec 2026",
        "The customer replied", "They replied by SMS",
        "Credit note CN-0007 for NZD 50.00", "Receipt for $100.00 by SMS",
        "Payment of $100.00 in Xero", "INV-0142 for NZD 485.00 seen in Xero",
    ]  # fmt: skip
    positions = [page.index(title) for title in order]
    assert positions == sorted(positions)
    assert "Reminders paused until 19 Dec" not in page  # staff's pause is told once, as theirs
    assert "by staff@alpha.test" in page
    assert "2 segments" in page and "Delivered — Twilio: delivered" in page
    assert "Can I pay the rest next Friday?" in page
    assert f'href="https://go.xero.com/AccountsReceivable/View.aspx?InvoiceID={INV_0142}"' in page


def test_each_payment_xero_lists_shows_its_amount_and_day_without_a_receipt(staff_client):
    InvoiceSnapshot.objects.filter(invoice_id=INV_0142).update(
        payments=[{"payment_id": "p9", "amount": "150.00", "date": "2026-12-03"}]
    )
    page = staff_client.get(PAGE).text
    assert page.count("Payment of NZD 150.00 in Xero") == 1
    assert '<time datetime="2026-12-03T00:00:00+13:00">3 Dec 2026</time>' in page


def test_pause_with_a_date_then_resume(staff_client, staff_a):
    staff_client.post(f"{PAGE}pause/", {"resume_on": "2026-12-19"})
    pause = ReminderPause.objects.get(invoice_id=INV_0142)
    assert pause.resume_on == date(2026, 12, 19)
    page = staff_client.get(PAGE).text
    assert "Paused until Sat 19 Dec" in page and "Resume reminders" in page

    staff_client.post(f"{PAGE}resume/")
    assert not ReminderPause.objects.exists()
    assert "1 day overdue · Sat 12 Dec 09:00" in staff_client.get(PAGE).text
    kinds = list(InvoiceAction.objects.values_list("kind", "by_user"))
    assert kinds == [("resumed", staff_a.pk), ("paused", staff_a.pk)]


def test_send_next_now_confirms_then_sends_once_however_often_it_is_clicked(staff_client):
    confirm = staff_client.get(f"{PAGE}send-next/").text
    assert_accessible(confirm)
    assert "Send “1 day overdue” now?" in confirm and "It goes straight away." in confirm
    assert not _reminders().exists()  # the confirm step sends nothing

    first = staff_client.post(f"{PAGE}send-next/", {"occurrence": "overdue_1"}, follow=True)
    assert "Reminder sent now. SMS is on its way." in first.text
    second = staff_client.post(f"{PAGE}send-next/", {"occurrence": "overdue_1"}, follow=True)
    assert "A reminder for this invoice already went today." in second.text
    assert _reminders().count() == 1
    assert _reminders().get().dedup_key == f"invoice:{INV_0142}:reminder:overdue_1"
    assert ReminderSent.objects.filter(invoice_id=INV_0142).count() == 1


def test_the_days_run_does_not_send_again_what_staff_sent_now(staff_client, ledger):
    staff_client.post(f"{PAGE}send-next/", {"occurrence": "overdue_1"})
    sweep_at(ledger, "2026-12-12 09:05")
    assert _reminders().count() == 1
    assert list(ReminderSent.objects.filter(invoice_id=INV_0142).values_list("occurrence")) == [
        ("overdue_1",)
    ]


def test_a_step_that_is_no_longer_next_is_not_sent(staff_client):
    response = staff_client.post(f"{PAGE}send-next/", {"occurrence": "overdue_7"}, follow=True)
    assert "no longer the next one: nothing was sent" in response.text
    assert not _reminders().exists()


def test_inside_quiet_hours_it_says_when_the_text_will_go(staff_client, tenant_a):
    tenant_a.timezone = "Pacific/Auckland"  # NZ numbers span two zones: the tenant's decides
    tenant_a.save()
    with time_machine.travel(local("Pacific/Auckland", "2026-12-12 22:30"), tick=False):
        confirm = staff_client.get(f"{PAGE}send-next/").text
        assert "the text goes at 08:00 on Sun 13 Dec" in confirm
        done = staff_client.post(f"{PAGE}send-next/", {"occurrence": "overdue_1"}, follow=True)
    assert "SMS goes at 08:00 on Sun 13 Dec (after the recipient’s quiet hours)" in done.text
    assert _reminders().get().status == "scheduled"


def test_an_opted_out_contact_is_not_offered_the_button(staff_client, tenant_a):
    OptOut.objects.create(tenant=tenant_a, phone="+64215550199")  # Ruapehu Motors' mobile
    page = staff_client.get(PAGE).text
    assert "Opted out (replied STOP): it would not be sent." in page
    assert "Send the next reminder now" not in page


def test_a_paid_invoice_offers_no_actions(staff_client):
    InvoiceSnapshot.objects.filter(invoice_id=INV_0142).update(status="PAID", amount_due=0)
    page = staff_client.get(PAGE).text
    assert "Send the next reminder now" not in page and "Pause reminders" not in page


def test_an_invoice_paid_in_xero_since_the_page_was_shown_is_not_reminded(staff_client, xero):
    xero.pay("INV-0142", on=date(2026, 12, 12))  # no webhook yet: only the re-check knows
    response = staff_client.post(f"{PAGE}send-next/", {"occurrence": "overdue_1"}, follow=True)
    assert "Xero says this invoice is no longer open: nothing was sent." in response.text
    assert not _reminders().exists()
    assert InvoiceSnapshot.objects.get(invoice_id=INV_0142).status == "PAID"


def test_another_tenants_invoice_is_404(client, tenant_b):
    owner_b = tenant_b.memberships.first().user
    client.force_login(owner_b)
    for path in (PAGE, f"{PAGE}send-next/"):
        assert client.get(path).status_code == 404
    for action in ("pause/", "resume/", "send-next/"):
        assert client.post(f"{PAGE}{action}", {"occurrence": "overdue_1"}).status_code == 404
    assert not ReminderPause.objects.exists() and not _reminders().exists()


def test_the_send_log_links_a_message_to_its_invoice_page(staff_client, tenant_a):
    message = Message.objects.create(
        tenant=tenant_a, kind="invoice_issued", channel="sms", dedup_key="invoice:x:issued",
        invoice_id=INV_0142, status="delivered",
    )  # fmt: skip
    assert f'href="{PAGE}">INV-0142</a>' in staff_client.get("/messaging/").text
    assert f'href="{PAGE}">INV-0142</a>' in staff_client.get(f"/messaging/{message.pk}/").text
