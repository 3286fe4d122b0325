"""The inbox in a real browser: a customer asks for time, staff record a promise to pay and
answer; the reminder sweep then waits for the promised day. Desktop and phone width."""

import pytest
import responses
from django_q import tasks as q_tasks
from playwright.sync_api import expect

from messaging.models import Message
from tests.billing_events.conftest import _connection
from tests.billing_events.helpers import XERO_TENANT_ID
from tests.billing_events.inbound import (
    inbound_post,
    texted_organisation_at,
    twilio_message_created,
    twilio_sends,
)
from tests.billing_events.reminder_helpers import reminders_of, sweep_at

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def organisation(tenant_a, live_server, monkeypatch):
    monkeypatch.setattr(q_tasks.Conf, "SYNC", True)  # the answer is dispatched in the request
    connection = _connection(tenant_a, XERO_TENANT_ID, "Ruapehu Motors Ltd")
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        twilio_message_created(mock)
        with texted_organisation_at(tenant=tenant_a, connection=connection, mock=mock) as xero:
            yield connection, mock, xero


def _overflow(page) -> int:
    return page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


def test_a_customer_asking_for_time_gets_a_promise_and_an_answer_from_the_inbox(
    organisation, client, logged_in_page, owner_a, screenshot, console_errors
):
    connection, mock, _ = organisation
    owner_a.first_name, owner_a.last_name = "Mere", "Tane"
    owner_a.save()
    assert inbound_post(client, body="Hi, can I pay next Friday?").status_code == 200
    page = logged_in_page

    page.goto("/")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Inbox 1 waiting")).to_be_visible()
    nav.get_by_role("link", name="Inbox 1 waiting").click()
    screenshot("inbox-list")
    page.get_by_role("link", name="Hi, can I pay next Friday?").click()
    expect(page.get_by_role("heading", name="Ruapehu Motors")).to_be_visible()
    expect(page.get_by_role("link", name="Invoice INV-0142")).to_be_visible()

    page.get_by_label("Promised to pay by").fill("2026-12-25")
    page.get_by_label("Note (optional)").fill("Payday is Friday")
    page.get_by_role("button", name="Record promise").click()
    expect(page.get_by_role("status")).to_contain_text(
        "no reminders for INV-0142 until Fri 25 Dec; they resume on Sat 26 Dec"
    )
    answer = page.get_by_label("Your answer")
    expect(answer).to_have_value(
        "Thanks Aroha, that's fine: we've noted you'll pay INV-0142 by Friday 25 December. "
        "We won't send reminders about it until then."
    )
    answer.fill("Hi Aroha, Friday 25 December is fine. We'll hold reminders until then.")
    page.get_by_role("button", name="Send answer").click()
    expect(page.get_by_role("status")).to_contain_text("Answer sent to +64215550199.")
    expect(page.locator(".thread li.ours").last).to_contain_text("Mere Tane")
    expect(answer).to_have_value("")  # the promise is confirmed: nothing more to suggest
    expect(page.get_by_label("Promised to pay by")).to_have_value("2026-12-25")
    screenshot("inbox-item")
    page.set_viewport_size(PHONE)
    assert _overflow(page) <= 0
    screenshot("inbox-item-phone")
    page.get_by_role("button", name="Mark handled").click()
    expect(page.get_by_text("No texts waiting.")).to_be_visible()
    expect(nav.get_by_role("link", name="Inbox", exact=True)).to_be_visible()
    assert _overflow(page) <= 0
    page.goto("/messaging/inbox/?show=all")
    screenshot("inbox-list-phone")
    page.set_viewport_size({"width": 1280, "height": 800})
    screenshot("inbox-list-all")

    answers = [s for s in twilio_sends(mock) if s["Body"].startswith("Hi Aroha, Friday 25")]
    assert [a["To"] for a in answers] == ["+64215550199"]
    assert Message.objects.get(kind="reply_staff").sent_by == owner_a
    before = reminders_of("INV-0142")
    for day in ("2026-12-24", "2026-12-25"):
        sweep_at(connection, f"{day} 09:05")
    assert reminders_of("INV-0142") == before
    sweep_at(connection, "2026-12-26 09:05")
    assert reminders_of("INV-0142") == [*before, ("overdue_14", "2026-12-26")]
    assert console_errors == []
