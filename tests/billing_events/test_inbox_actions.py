"""Acting on a customer's text from the inbox: answer it, record a promise to pay, assign it,
mark it handled. Texts arrive through the real inbound webhook, signed as Twilio signs them;
Twilio's Messages API is mocked at HTTP."""

from datetime import date, timedelta

import pytest
import time_machine
from django.utils import timezone
from django_q import tasks as q_tasks

from billing_events.models import ReminderPause
from billing_events.selectors import promise_for_invoice, promises_for_invoices
from messaging.models import InboundMessage, Message
from snapshots.models import InvoiceSnapshot
from tests.billing_events.inbound import (
    AROHA,
    inbound_post,
    twilio_message_created,
    twilio_sends,
)
from tests.billing_events.reminder_helpers import reminders_of, sweep_at

KAURI_CAFE = "+64225550123"  # Xero holds it as "022 555 0123": national, no country code
FRIDAY_NEXT = date(2026, 12, 25)  # asked on Friday 18 December


@pytest.fixture(autouse=True)
def q_sync(monkeypatch):
    """Run django-q2 kicks in-process: on_commit → dispatch task → Twilio."""
    monkeypatch.setattr(q_tasks.Conf, "SYNC", True)


@pytest.fixture
def asked(client, texted_organisation, owner_a, xero_api, django_capture_on_commit_callbacks):
    """Aroha (Ruapehu Motors, INV-0142) asks for time; the owner opens the inbox."""
    twilio_message_created(xero_api)
    inbound_post(client, body="Can I pay next Friday?")
    client.force_login(owner_a)
    return InboundMessage.objects.get()


def _answer(client, inbound, body, *, token="form-token-0000000001", capture=None):
    url = f"/messaging/inbox/{inbound.pk}/answer/"
    with capture(execute=True):
        return client.post(url, {"body": body, "token": token}, follow=True)


def _promise(client, inbound, *, by: date, invoice_id: str, note: str = ""):
    return client.post(
        f"/messaging/inbox/{inbound.pk}/promise/",
        {"invoice": invoice_id, "promised_by": by.isoformat(), "note": note},
        follow=True,
    )


def _inv(number: str) -> str:
    return InvoiceSnapshot.objects.get(number=number).invoice_id


# --- matching the sender ---------------------------------------------------------------------


def test_a_contact_texted_at_a_national_number_is_matched_when_they_reply_from_e164(
    client, texted_organisation, owner_a, tenant_a
):
    # Their organisation is in New Zealand; the account's own default country is not.
    tenant_a.default_country = "AU"
    tenant_a.save()

    inbound_post(client, body="Can I pay next Friday?", sender=KAURI_CAFE)

    inbound = InboundMessage.objects.get()
    assert inbound.contact_names == "Kauri Cafe"
    assert inbound.invoice_id == _inv("INV-0150")  # the invoice Dunwell last texted them about
    client.force_login(owner_a)
    assert "Not a known contact" not in client.get("/messaging/inbox/").content.decode()
    page = client.get(f"/messaging/inbox/{inbound.pk}/").content.decode()
    assert "Invoice INV-0150" in page and "Kauri Cafe" in page


def test_existing_contact_snapshots_get_their_number_from_the_backfill(texted_organisation):
    from importlib import import_module

    from django.apps import apps

    from snapshots.models import ContactSnapshot

    ContactSnapshot.objects.update(phone_e164="")  # as every row was before the column

    import_module("snapshots.migrations.0002_contact_phone_e164").phones_fill(apps, None)

    numbers = dict(ContactSnapshot.objects.values_list("name", "phone_e164"))
    assert numbers == {
        "Ruapehu Motors": AROHA,
        "Kauri Cafe": KAURI_CAFE,
        "Totara Builders": "",
    }


# --- a promise to pay ------------------------------------------------------------------------


def test_a_promise_stops_reminders_until_the_day_and_they_resume_the_day_after(
    client, asked, new_connection, tenant_a
):
    page = _promise(client, asked, by=FRIDAY_NEXT, invoice_id=_inv("INV-0142"), note="Payday")

    assert "no reminders for INV-0142 until Fri 25 Dec; they resume on Sat 26 Dec" in (
        page.content.decode()
    )
    promise = promise_for_invoice(tenant=tenant_a, invoice_id=_inv("INV-0142"))
    assert (promise.promised_by, promise.note, promise.recorded_by) == (
        FRIDAY_NEXT,
        "Payday",
        "owner@alpha.test",
    )
    sent_before = reminders_of("INV-0142")
    for day in ("2026-12-21", "2026-12-24", "2026-12-25"):  # "14 days overdue" falls on the 24th
        sweep_at(new_connection, f"{day} 09:05")
    assert reminders_of("INV-0142") == sent_before

    sweep_at(new_connection, "2026-12-26 09:05")

    assert reminders_of("INV-0142") == [*sent_before, ("overdue_14", "2026-12-26")]


def test_a_promise_kept_means_no_reminder_ever_again(
    client, asked, texted_organisation, new_connection
):
    _promise(client, asked, by=FRIDAY_NEXT, invoice_id=_inv("INV-0142"))
    sent_before = reminders_of("INV-0142")
    texted_organisation.pay("INV-0142", on=date(2026, 12, 24))  # in Xero; no webhook yet

    for day in ("2026-12-26", "2026-12-27", "2027-01-09"):
        sweep_at(new_connection, f"{day} 09:05")

    assert reminders_of("INV-0142") == sent_before


def test_the_promise_shows_on_the_inbox_and_a_new_one_replaces_it(client, asked, tenant_a):
    _promise(client, asked, by=FRIDAY_NEXT, invoice_id=_inv("INV-0142"))
    _promise(client, asked, by=date(2026, 12, 23), invoice_id=_inv("INV-0142"))

    [promise] = ReminderPause.objects.filter(reason="promise")
    # The pause names the invoice's organisation, so the Reminders page's filter finds it.
    assert promise.xero_tenant_id == InvoiceSnapshot.objects.get(number="INV-0142").xero_tenant_id
    assert "promised to pay by Wed 23 Dec" in client.get("/messaging/inbox/").content.decode()
    page = client.get(f"/messaging/inbox/{asked.pk}/").content.decode()
    assert "Promised to pay <strong>INV-0142</strong> by <strong>Wed 23 Dec</strong>" in page
    # Staff confirm it in words the page suggests.
    assert "we&#x27;ve noted you&#x27;ll pay INV-0142 by Wednesday 23 December" in page


def test_promises_are_read_for_a_page_of_invoices_at_once_and_lapse_after_the_day(
    client, asked, tenant_a, django_assert_num_queries
):
    _promise(client, asked, by=FRIDAY_NEXT, invoice_id=_inv("INV-0142"))
    ids = [_inv("INV-0142"), _inv("INV-0150")]

    with django_assert_num_queries(1):
        promises = promises_for_invoices(tenant=tenant_a, invoice_ids=ids)

    assert list(promises) == [_inv("INV-0142")]
    assert promises_for_invoices(tenant=tenant_a, invoice_ids=ids, on=FRIDAY_NEXT)
    assert not promises_for_invoices(
        tenant=tenant_a, invoice_ids=ids, on=FRIDAY_NEXT + timedelta(days=1)
    )


def test_a_promise_is_only_for_the_customers_own_unpaid_invoice_and_a_day_to_come(client, asked):
    for invoice_id, day, said in (
        (_inv("INV-0150"), FRIDAY_NEXT, "Choose one of their unpaid invoices"),  # Kauri Cafe's
        (_inv("INV-0142"), date(2026, 12, 17), "The promised day has passed"),
    ):
        page = _promise(client, asked, by=day, invoice_id=invoice_id).content.decode()
        assert said in page
    assert not ReminderPause.objects.filter(reason="promise").exists()


# --- answering -------------------------------------------------------------------------------


def test_an_answer_goes_by_sms_through_twilio_once_and_is_logged_with_who_wrote_it(
    client, asked, owner_a, xero_api, django_capture_on_commit_callbacks
):
    owner_a.first_name, owner_a.last_name = "Mere", "Tane"
    owner_a.save()
    words = "Yes, Friday is fine. Thanks Aroha!"

    first = _answer(client, asked, words, capture=django_capture_on_commit_callbacks)
    _answer(client, asked, words, capture=django_capture_on_commit_callbacks)  # a double submit

    assert "Answer sent to +64215550199." in first.content.decode()
    assert [(s["To"], s["From"], s["Body"]) for s in twilio_sends(xero_api)] == [
        (AROHA, "+6498880000", words)
    ]
    answer = Message.objects.get(kind="reply_staff")
    assert (answer.status, answer.sent_by, answer.in_reply_to) == ("sent", owner_a, asked)
    log = client.get(f"/messaging/{answer.pk}/").content.decode()
    assert "Reply from staff" in log and "Mere Tane" in log
    page = client.get(f"/messaging/inbox/{asked.pk}/").content.decode()
    assert words in page and "Mere Tane" in page


def test_a_second_form_sends_a_second_answer(
    client, asked, xero_api, django_capture_on_commit_callbacks
):
    _answer(client, asked, "One", token="a" * 20, capture=django_capture_on_commit_callbacks)
    _answer(client, asked, "Two", token="b" * 20, capture=django_capture_on_commit_callbacks)

    assert [s["Body"] for s in twilio_sends(xero_api)] == ["One", "Two"]


def test_an_opted_out_number_gets_no_answer_and_staff_are_told(
    client, asked, xero_api, django_capture_on_commit_callbacks
):
    inbound_post(client, body="STOP", sid="SM" + "2" * 32)

    page = _answer(client, asked, "Hello?", capture=django_capture_on_commit_callbacks)

    assert "This number opted out (replied STOP)" in page.content.decode()
    assert twilio_sends(xero_api) == [] and not Message.objects.filter(kind="reply_staff")


def test_a_whatsapp_text_is_answered_free_form_on_whatsapp_within_24_hours_only(
    client, texted_organisation, owner_a, xero_api, django_capture_on_commit_callbacks
):
    twilio_message_created(xero_api)
    inbound_post(client, body="Can I pay next Friday?", fixture="inbound__whatsapp")
    inbound = InboundMessage.objects.get()
    client.force_login(owner_a)

    _answer(client, inbound, "Yes, that's fine.", capture=django_capture_on_commit_callbacks)

    (sent,) = twilio_sends(xero_api)
    assert (sent["To"], sent["From"], sent["Body"]) == (
        f"whatsapp:{AROHA}",
        "whatsapp:+6498880000",
        "Yes, that's fine.",
    )
    assert "ContentSid" not in sent
    with time_machine.travel(timezone.now() + timedelta(hours=24, minutes=1), tick=False):
        page = _answer(
            client, inbound, "Still there?", token="c" * 20,
            capture=django_capture_on_commit_callbacks,
        )  # fmt: skip
    assert "WhatsApp allows an answer only within 24 hours" in page.content.decode()
    assert len(twilio_sends(xero_api)) == 1


# --- handled, reopened, assigned -------------------------------------------------------------


def test_handled_texts_leave_the_waiting_list_and_the_navigation_count(client, asked):
    assert 'Inbox <span class="nav-count">1<' in client.get("/messaging/inbox/").content.decode()

    client.post(f"/messaging/inbox/{asked.pk}/handle/", {"handled": "1"})

    inbox = client.get("/messaging/inbox/").content.decode()
    assert "Can I pay next Friday?" not in inbox and "nav-count" not in inbox
    assert "Can I pay next Friday?" in client.get("/messaging/inbox/?show=all").content.decode()

    client.post(f"/messaging/inbox/{asked.pk}/handle/", {"handled": "0"})

    assert "Can I pay next Friday?" in client.get("/messaging/inbox/").content.decode()


def test_the_navigation_count_costs_one_query(client, asked, django_assert_num_queries):
    from messaging.selectors import inbox_waiting_count

    tenant = asked.tenant
    with django_assert_num_queries(1):
        assert inbox_waiting_count(tenant=tenant) == 1


def test_a_text_is_assigned_to_a_member_of_the_account_only(client, asked, staff_a, tenant_b):
    staff_a.first_name = "Wiremu"
    staff_a.save()
    member = staff_a.memberships.get()

    client.post(f"/messaging/inbox/{asked.pk}/assign/", {"member": member.pk})

    asked.refresh_from_db()
    assert asked.assigned_to == staff_a
    assert "Wiremu" in client.get("/messaging/inbox/").content.decode()
    outsider = tenant_b.memberships.get()
    response = client.post(f"/messaging/inbox/{asked.pk}/assign/", {"member": outsider.pk})
    assert response.status_code == 404
    asked.refresh_from_db()
    assert asked.assigned_to == staff_a


def test_times_are_the_tenants(client, asked):
    page = client.get(f"/messaging/inbox/{asked.pk}/").content.decode()

    assert "received <time" in page and "Fri 18 Dec, 10:00" in page  # Auckland, not UTC


def test_another_tenant_can_neither_see_nor_act_on_the_text(
    client, asked, tenant_b, xero_api, django_capture_on_commit_callbacks
):
    client.force_login(tenant_b.memberships.get().user)
    base = f"/messaging/inbox/{asked.pk}/"

    assert client.get(base).status_code == 404
    for action, data in (
        ("answer/", {"body": "Hi", "token": "d" * 20}),
        ("promise/", {"invoice": _inv("INV-0142"), "promised_by": "2026-12-25"}),
        ("assign/", {"member": ""}),
        ("handle/", {"handled": "1"}),
    ):
        assert client.post(base + action, data).status_code == 404
    asked.refresh_from_db()
    assert asked.handled_at is None and asked.promised_by is None
    assert twilio_sends(xero_api) == [] and not ReminderPause.objects.filter(reason="promise")


def test_an_answer_written_at_night_says_when_it_will_go(
    client, asked, xero_api, django_capture_on_commit_callbacks
):
    with time_machine.travel(timezone.now() + timedelta(hours=13), tick=False):  # 23:00 NZ
        page = _answer(client, asked, "Sure.", capture=django_capture_on_commit_callbacks)

    assert "it goes at 08:00 on Sat 19 Dec (your time), when their quiet hours end" in (
        page.content.decode()
    )
    assert twilio_sends(xero_api) == []
    assert Message.objects.get(kind="reply_staff").status == "scheduled"
