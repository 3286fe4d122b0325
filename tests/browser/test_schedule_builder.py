"""The reminder schedule builder in a real browser, at desktop and phone width: a schedule of four
steps built, one moved by its day, without typing an id or a key."""

import pytest

from billing_events.models import ReminderStage
from snapshots.models import XeroContactGroup
from tests.browser.test_messaging_pages import _overflow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _add(page, link: str, *, shows: str, days="", when: str, name="", applies_to=""):
    page.get_by_role("link", name=link).first.click()
    form = page.locator("form.step-form")
    form.wait_for()
    if days:
        form.get_by_label("Number of days").fill(days)
    form.get_by_label("When").select_option(label=when)
    if name:
        form.get_by_label("Name").fill(name)
    if applies_to:
        form.get_by_label("Applies to").select_option(label=applies_to)
    form.get_by_role("button", name="Add step").click()
    page.locator(".step-day", has_text=shows).wait_for()


def _days(page) -> list[str]:
    return page.locator(".step-day").all_inner_texts()


@pytest.mark.parametrize("width", [1280, 390])
def test_an_owner_builds_a_four_step_schedule_by_day_and_name_and_moves_a_step(
    logged_in_page, tenant_a, width, screenshot, console_errors
):
    ReminderStage.objects.filter(tenant=tenant_a).delete()
    XeroContactGroup.objects.create(
        tenant=tenant_a, xero_tenant_id="xt-alpha", group_id="g-trade", name="Trade customers"
    )
    page = logged_in_page
    page.set_viewport_size({"width": width, "height": 900})
    page.goto("/reminders/#schedule")
    assert page.get_by_text("No steps: no reminders are sent.").is_visible()

    _add(page, "Add a step", shows="3 days before due", days="3", when="before the due date")
    _add(page, "Add a step to this schedule", shows="On the due date", when="on the due date")
    _add(page, "Add a step to this schedule", shows="7 days overdue", days="7",
         when="after the due date", name="A week late")  # fmt: skip
    _add(page, "Add a schedule for a contact group", shows="14 days overdue", days="14",
         when="after the due date", applies_to="Trade customers")  # fmt: skip
    assert _days(page) == ["3 days before due", "On the due date", "7 days overdue",
                           "14 days overdue"]  # fmt: skip
    assert page.get_by_role("heading", name="Schedule for Trade customers").is_visible()

    # Moving a step is changing its day: "A week late" becomes 1 day before the due date.
    late = page.locator(".step-card", has_text="A week late")
    late.get_by_role("link", name="Edit").click()
    form = page.locator("form.step-form")
    form.get_by_label("Number of days").fill("1")
    form.get_by_label("When").select_option(label="before the due date")
    form.get_by_role("button", name="Save step").click()
    page.locator(".step-day", has_text="1 day before due").wait_for()
    assert _days(page) == ["3 days before due", "1 day before due", "On the due date",
                           "14 days overdue"]  # fmt: skip

    page.locator("#schedule").scroll_into_view_if_needed()
    screenshot(f"schedule-builder-{width}")
    assert _overflow(page) <= 0
    stages = ReminderStage.objects.filter(tenant=tenant_a).order_by(
        "contact_group_id", "offset_days"
    )
    assert [(s.offset_days, s.key, s.contact_group_name) for s in stages] == [
        (-3, "3_days_before_due", ""),
        (-1, "7_days_overdue", ""),  # keys are made once and kept: reminders already sent name it
        (0, "on_the_due_date", ""),
        (14, "14_days_overdue", "Trade customers"),
    ]
    assert console_errors == []


def test_the_builder_works_without_javascript(chromium, live_server, owner_a, tenant_a):
    from tests.conftest import PASSWORD

    context = chromium.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(owner_a.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto("/reminders/#schedule")
    page.get_by_role("link", name="Add a step to this schedule").first.click()
    page.get_by_label("Number of days").fill("2")
    page.get_by_label("When").select_option(label="before the due date")
    page.get_by_role("button", name="Add step").click()
    assert page.get_by_text("Step added.").is_visible()
    assert "2 days before due" in page.locator(".step-day").all_inner_texts()
    page.locator(".step-card", has_text="2 days before due").get_by_role(
        "button", name="Remove"
    ).click()
    assert page.get_by_text("Step “2 days before due” removed.").is_visible()
    assert not ReminderStage.objects.filter(tenant=tenant_a, offset_days=-2).exists()
    context.close()
