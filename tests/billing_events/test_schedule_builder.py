"""The reminder schedule builder: a timeline of steps with their day, channels and text; steps
added, changed (a new day moves them), removed and tried on one's own mobile, by name and never
by key or id."""

import re
from datetime import UTC, datetime

import pytest
import responses
import time_machine
from django_q import tasks as q_tasks

from billing_events.models import ReminderSettings, ReminderStage
from connections.models import MessagingSettings
from messaging.models import Message
from messaging.services import message_resend
from snapshots.models import XeroContactGroup
from tests.a11y import assert_accessible
from tests.messaging.conftest import ACCOUNT_SID, AUTH_TOKEN, MESSAGES_URL, twilio_reply

# 23:30 in Auckland: inside quiet hours for a NZ mobile.
LATE_IN_NZ = datetime(2026, 7, 7, 11, 30, tzinfo=UTC)
HTMX = {"HTTP_HX_REQUEST": "true"}


def step(**fields) -> dict:
    return {"days": "3", "when": "before", "label": "", "applies_to": "", "region": "",
            "repeat_times": "0", "is_active": "on", **fields}  # fmt: skip


def days_on_page(page: str) -> list[str]:
    return re.findall(r'<span class="step-day">([^<]+)</span>', page)


@pytest.fixture
def twilio_a(tenant_a):
    tenant_a.timezone = "Pacific/Auckland"
    tenant_a.save()
    return MessagingSettings.objects.create(
        tenant=tenant_a, twilio_account_sid=ACCOUNT_SID, twilio_auth_token=AUTH_TOKEN,
        twilio_from_number="+6498880000",
    )  # fmt: skip


@pytest.fixture
def mobile_staff(staff_a, tenant_a):
    membership = staff_a.memberships.get(tenant=tenant_a)
    membership.mobile = "+64215550100"
    membership.save()
    return membership


# --- the timeline ----------------------------------------------------------------------------


def test_each_step_shows_its_day_in_words_its_channel_and_the_text_it_sends(staff_client):
    page = staff_client.get("/reminders/").text

    assert days_on_page(page) == [
        "7 days before due", "On the due date", "1 day overdue",
        "7 days overdue", "14 days overdue", "30 days overdue",
    ]  # fmt: skip
    assert "Before the due date" in page and "After the due date" in page
    assert "By SMS" in page
    # The default template for the stage before the due date, filled for the example invoice.
    assert "Hi Aroha, a friendly reminder that invoice INV-0142 for $485.00" in page
    # No internal keys: neither the column nor a key.
    assert ">Key<" not in page and "overdue_7" not in page and "due_soon" not in page
    assert_accessible(page)


def test_a_segments_schedule_shows_the_template_written_for_that_segment(staff_client, tenant_a):
    XeroContactGroup.objects.create(
        tenant=tenant_a, xero_tenant_id="org", group_id="g-trade", name="Trade customers"
    )
    ReminderStage.objects.create(
        tenant=tenant_a, key="trade_3", label="Trade nudge", offset_days=3,
        contact_group_id="g-trade", contact_group_name="Trade customers",
    )  # fmt: skip
    tenant_a.message_templates.create(
        kind="reminder", channel="sms", contact_group_id="g-trade",
        contact_group_name="Trade customers", body="Trade account {{ invoice_number }} is late.",
    )  # fmt: skip

    page = staff_client.get("/reminders/").text

    trade = page[page.index(">Schedule for Trade customers</h3>") :]
    assert "3 days overdue" in trade and "Trade account INV-0142 is late." in trade


# --- adding, changing, removing ----------------------------------------------------------------


def test_an_owner_adds_a_step_by_its_day_in_words_and_dunwell_makes_its_key(owner_client, tenant_a):
    response = owner_client.post("/reminders/steps/new/", step(days="3", when="before"))

    assert response.status_code == 302
    stage = ReminderStage.objects.get(tenant=tenant_a, offset_days=-3)
    assert (stage.label, stage.key) == ("3 days before due", "3_days_before_due")
    page = owner_client.get("/reminders/").text
    assert days_on_page(page)[:2] == ["7 days before due", "3 days before due"]


def test_a_key_already_taken_gets_a_number(owner_client, tenant_a):
    ReminderStage.objects.create(
        tenant=tenant_a, key="3_days_before_due", label="Old", offset_days=-3, country="AU"
    )

    owner_client.post("/reminders/steps/new/", step(days="3", when="before"))

    assert ReminderStage.objects.get(tenant=tenant_a, offset_days=-3, country="").key == (
        "3_days_before_due_2"
    )


def test_changing_a_steps_day_moves_it_and_keeps_its_key(owner_client, tenant_a):
    due_soon = ReminderStage.objects.get(tenant=tenant_a, key="due_soon")

    owner_client.post(
        f"/reminders/steps/{due_soon.pk}/", step(days="10", when="after", label="Ten days late")
    )

    due_soon.refresh_from_db()
    assert (due_soon.offset_days, due_soon.key, due_soon.label) == (10, "due_soon", "Ten days late")
    page = owner_client.get("/reminders/").text
    assert days_on_page(page) == [
        "On the due date", "1 day overdue", "7 days overdue",
        "10 days overdue", "14 days overdue", "30 days overdue",
    ]  # fmt: skip


def test_an_owner_removes_a_step(owner_client, tenant_a):
    stage = ReminderStage.objects.get(tenant=tenant_a, key="overdue_14")

    response = owner_client.post(f"/reminders/steps/{stage.pk}/delete/")

    assert response.status_code == 302
    assert not ReminderStage.objects.filter(pk=stage.pk).exists()
    assert "14 days overdue" not in days_on_page(owner_client.get("/reminders/").text)


def test_with_htmx_a_change_answers_with_the_whole_builder_in_its_new_order(owner_client, tenant_a):
    stage = ReminderStage.objects.get(tenant=tenant_a, key="overdue_1")

    form = owner_client.get(f"/reminders/steps/{stage.pk}/", **HTMX)
    response = owner_client.post(
        f"/reminders/steps/{stage.pk}/", step(days="20", when="after"), **HTMX
    )

    assert form.text.startswith('<li class="step-card editing"')
    assert 'value="1"' in form.text and 'value="after" selected' in form.text
    assert response["HX-Retarget"] == "#schedule-builder"
    assert response.text.lstrip().startswith('<div id="schedule-builder"')
    assert days_on_page(response.text)[-2:] == ["20 days overdue", "30 days overdue"]


def test_a_second_step_on_the_same_day_of_a_schedule_is_refused_at_the_day(owner_client, tenant_a):
    response = owner_client.post("/reminders/steps/new/", step(days="7", when="after"))

    assert response.status_code == 200
    assert "This schedule already has a step on that day." in response.text
    assert ReminderStage.objects.filter(tenant=tenant_a, offset_days=7).count() == 1
    assert_accessible(response.text)


def test_mistakes_are_shown_at_their_own_fields(owner_client, tenant_a):
    before = ReminderStage.objects.filter(tenant=tenant_a).count()

    zero = owner_client.post("/reminders/steps/new/", step(days="0", when="before"), **HTMX)
    blank = owner_client.post("/reminders/steps/new/", step(days="", when="after"), **HTMX)
    region = owner_client.post("/reminders/steps/new/", step(region="NSW"), **HTMX)

    def error_before(page: str, field: str) -> str:
        return page.split(f'for="step-new-{field}"', 1)[0].rsplit('<div class="field', 1)[1]

    assert "Give at least 1 day, or choose “on the due date”." in error_before(zero.text, "days")
    assert "This field is required." in error_before(blank.text, "days")
    assert "A region needs a country" in error_before(region.text, "region")
    assert ReminderStage.objects.filter(tenant=tenant_a).count() == before


def test_on_the_due_date_needs_no_number_of_days(owner_client, tenant_a):
    ReminderStage.objects.filter(tenant=tenant_a, offset_days=0).delete()

    owner_client.post("/reminders/steps/new/", step(days="5", when="due"))

    assert ReminderStage.objects.get(tenant=tenant_a, offset_days=0).label == "On the due date"


def test_staff_see_the_schedule_but_cannot_change_it(staff_client, tenant_a):
    stage = ReminderStage.objects.get(tenant=tenant_a, key="overdue_1")

    page = staff_client.get("/reminders/").text
    form = staff_client.get(f"/reminders/steps/{stage.pk}/")
    add = staff_client.post("/reminders/steps/new/", step())
    change = staff_client.post(f"/reminders/steps/{stage.pk}/", step(days="2", when="after"))
    remove = staff_client.post(f"/reminders/steps/{stage.pk}/delete/")

    assert "Add a step" not in page and "Send me this step as a test" in page
    assert [form.status_code, add.status_code, change.status_code, remove.status_code] == [
        403, 403, 403, 403,
    ]  # fmt: skip
    assert ReminderStage.objects.get(pk=stage.pk).offset_days == 1


def test_another_tenants_step_is_not_found_by_any_step_url(owner_client, tenant_b):
    theirs = ReminderStage.objects.create(
        tenant=tenant_b, key="b_4", label="Bravo step", offset_days=4
    )

    answers = [
        owner_client.get(f"/reminders/steps/{theirs.pk}/").status_code,
        owner_client.post(f"/reminders/steps/{theirs.pk}/", step()).status_code,
        owner_client.post(f"/reminders/steps/{theirs.pk}/delete/").status_code,
        owner_client.post(f"/reminders/steps/{theirs.pk}/test/").status_code,
    ]

    assert answers == [404, 404, 404, 404]
    theirs.refresh_from_db()
    assert theirs.offset_days == 4


def test_excluded_contact_groups_are_ticked_by_name(owner_client, tenant_a):
    XeroContactGroup.objects.create(
        tenant=tenant_a, xero_tenant_id="org", group_id="g-staff", name="Staff accounts"
    )

    page = owner_client.get("/reminders/").text
    owner_client.post(
        "/reminders/",
        {"send_time": "09:00", "reply_pause_days": "3", "excluded_groups": ["g-staff"]},
    )

    assert "Staff accounts" in page and "ContactGroupID" not in page
    assert ReminderSettings.objects.get(tenant=tenant_a).excluded_group_ids == ["g-staff"]


# --- "send me this step as a test" ------------------------------------------------------------


def test_a_members_mobile_is_kept_in_e164_read_in_the_tenants_country(staff_client, staff_a):
    staff_client.post("/reminders/my-mobile/", {"mobile": "021 555 0100"})
    refused = staff_client.post("/reminders/my-mobile/", {"mobile": "12"}, follow=True)

    assert staff_a.memberships.get().mobile == "+64215550100"
    assert "“12” is not a mobile number we can text." in refused.text


def test_without_a_mobile_the_test_asks_for_one(staff_client, tenant_a, twilio_a):
    stage = ReminderStage.objects.get(tenant=tenant_a, key="overdue_7")

    response = staff_client.post(f"/reminders/steps/{stage.pk}/test/", **HTMX)

    assert "Add your mobile number first" in response.text
    assert not Message.objects.exists()


def test_a_test_goes_to_the_members_mobile_at_once_marked_and_with_its_own_key(
    staff_client, tenant_a, twilio_a, mobile_staff, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(q_tasks.Conf, "SYNC", True)  # the dispatch task runs in-process
    stage = ReminderStage.objects.get(tenant=tenant_a, key="overdue_7")
    # A real reminder of this step has gone already: the test is not stopped by it.
    Message.objects.create(
        tenant=tenant_a, kind="reminder", channel="sms", status="delivered",
        dedup_key="invoice:inv-1:reminder:overdue_7",
    )  # fmt: skip

    with time_machine.travel(LATE_IN_NZ, tick=False), responses.RequestsMock() as rsps:
        twilio_reply(rsps, "message_create__queued", 201)
        with django_capture_on_commit_callbacks(execute=True):
            first = staff_client.post(f"/reminders/steps/{stage.pk}/test/", **HTMX)
            second = staff_client.post(f"/reminders/steps/{stage.pk}/test/", **HTMX)
        sent_to = [call.request.body for call in rsps.calls if call.request.url == MESSAGES_URL]

    tests = list(Message.objects.filter(is_test=True).order_by("pk"))
    assert len(tests) == 2 and len(sent_to) == 2  # quiet hours hold no test
    assert all("To=%2B64215550100" in body for body in sent_to)
    assert {m.status for m in tests} == {"sent"}
    assert [m.dedup_key.rsplit(":", 1)[0] for m in tests] == [f"test:{stage.pk}"] * 2
    assert tests[0].dedup_key != tests[1].dedup_key
    assert tests[0].body.startswith("Hi Aroha, invoice INV-0142 for $485.00")
    assert tests[0].body in staff_client.get("/reminders/").text  # the text the step shows
    assert "SMS test on its way to +64215550100" in first.text and "test" in second.text
    log = staff_client.get("/messaging/").text
    assert log.count('<span class="status status-test">Test</span>') == 2


def test_a_resent_test_is_still_a_test(staff_a, tenant_a, twilio_a):
    failed = Message.objects.create(
        tenant=tenant_a, kind="reminder", channel="sms", status="failed", is_test=True,
        dedup_key="test:1:abc", recipient="+64215550100", body="Hi", error_code="30008",
    )  # fmt: skip

    again = message_resend(message=failed, by_user=staff_a)

    assert (again.resend_of, again.is_test) == (failed, True)


def test_tests_are_not_counted_on_the_dashboard(staff_client, tenant_a):
    now = datetime(2026, 7, 20, 1, 0, tzinfo=UTC)
    for status, is_test in (("delivered", False), ("failed", True), ("delivered", True)):
        Message.objects.create(
            tenant=tenant_a, kind="reminder", channel="sms", status=status, is_test=is_test,
            dedup_key=f"k{status}{is_test}", created_at=now,
        )  # fmt: skip

    with time_machine.travel(now, tick=False):
        html = staff_client.get("/dashboard/").text

    last_7 = html.split("<h3>Last 7 days</h3>", 1)[1]
    assert re.search(r"<dt>Sent</dt>\s*<dd[^>]*>1</dd>", last_7)
    assert re.search(r"<dt>Failed</dt>\s*<dd[^>]*>0</dd>", last_7)
    assert "<strong>100%</strong> of the 1 text with a delivery report" in html


def test_a_new_step_before_the_due_date_warns_of_the_overdue_wording_and_offers_its_own(
    owner_client, tenant_a
):
    owner_client.post("/reminders/steps/new/", step(days="3", when="before"))

    page = owner_client.get("/reminders/").text
    card = page[page.index("3 days before due</span>") :].split("</li>", 1)[0]
    link = "/messaging/templates/new/?kind=reminder&amp;stage=3_days_before_due"
    editor = owner_client.get(link.replace("&amp;", "&")).text

    assert "is 0 days overdue" in card  # what it would really send, shown as it is
    assert "This is the general reminder, written for overdue invoices." in card
    assert link in card
    assert 'value="3_days_before_due"' in editor
