"""The team's pages in a real browser: invitations, removal, settings, keyboard, phone size."""

import pytest
from django.contrib.auth import get_user_model

from connections.models import Membership
from connections.navigation import MAIN_NAV
from tests.browser.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEW_PASSWORD = "a-long-and-unusual-passphrase-42"


def test_an_invited_colleague_joins_and_logs_in(
    logged_in_page, second_page, live_server, settings, tenant_a, screenshot
):
    settings.PUBLIC_BASE_URL = live_server.url
    page = logged_in_page
    page.get_by_text("Settings", exact=True).click()  # Members is folded under Settings
    page.get_by_role("link", name="Members", exact=True).click()
    page.get_by_label("Colleague's email").fill("sam@alpha.test")
    page.get_by_role("button", name="Create invitation link").click()
    link = page.get_by_label("Invitation link", exact=True).input_value()
    assert link.startswith(f"{live_server.url}/invitations/")
    assert page.get_by_role("row", name="sam@alpha.test").is_visible()
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.get_by_role("button", name="Copy link").click()
    page.get_by_role("button", name="Copied").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == link
    screenshot("members-new-invitation")

    guest = second_page
    guest.goto(link)
    assert guest.get_by_role("heading", level=1).inner_text() == "Join Alpha Plumbing"
    guest.get_by_label("Choose a password").fill(NEW_PASSWORD)
    guest.get_by_label("Type it again").fill(NEW_PASSWORD)
    guest.get_by_role("button", name="Create login and join").click()
    guest.wait_for_url(f"{live_server.url}/")
    assert guest.get_by_role("heading", level=1).inner_text() == tenant_a.name

    guest.get_by_role("button", name="Log out").click()
    log_in(guest, "sam@alpha.test", NEW_PASSWORD)
    assert guest.get_by_role("heading", level=1).inner_text() == tenant_a.name
    assert guest.get_by_role("link", name="Settings", exact=True).count() == 0  # staff, not owner
    sam = get_user_model().objects.get(email="sam@alpha.test")
    assert Membership.objects.get(user=sam).role == "staff"

    guest.goto(link)
    assert "no longer works" in guest.get_by_role("heading", level=1).inner_text()


def test_an_owner_removes_a_member(logged_in_page, staff_a, screenshot, console_errors):
    page = logged_in_page
    page.goto("/members/")
    screenshot("members")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Remove staff@alpha.test").click()
    assert "staff@alpha.test was removed from the team." in page.get_by_role("status").inner_text()
    assert page.get_by_role("row", name="staff@alpha.test").count() == 0
    assert not Membership.objects.filter(user=staff_a).exists()
    assert console_errors == []


def test_settings_explain_a_mistake_then_save(logged_in_page, tenant_a, screenshot):
    page = logged_in_page
    page.get_by_text("Settings", exact=True).click()
    page.get_by_role("link", name="Account", exact=True).click()
    page.get_by_label("Time zone").select_option("Pacific/Auckland")
    page.get_by_label("Quiet hours start").fill("21:00")
    page.get_by_label("Quiet hours end").fill("21:00")
    page.get_by_role("button", name="Save settings").click()
    assert "Some settings need fixing" in page.get_by_role("alert").inner_text()
    end = page.get_by_label("Quiet hours end")
    assert end.get_attribute("aria-invalid") == "true"
    assert (
        "so there would be none"
        in page.locator(f"#{end.get_attribute('aria-describedby').split()[-1]}").inner_text()
    )
    screenshot("settings-error")

    end.fill("07:30")
    page.get_by_role("button", name="Save settings").click()
    assert "Settings saved." in page.get_by_role("status").inner_text()
    tenant_a.refresh_from_db()
    assert (tenant_a.timezone, tenant_a.quiet_hours_end.strftime("%H:%M")) == (
        "Pacific/Auckland",
        "07:30",
    )


def test_the_keyboard_alone_reaches_the_main_nav(logged_in_page, console_errors):
    page = logged_in_page
    page.goto("/members/")
    top = [entry.label for entry in MAIN_NAV if not entry.group]
    grouped = [entry.label for entry in MAIN_NAV if entry.group]  # an owner sees every entry
    focused = []
    for _ in range(3 + len(top)):
        page.keyboard.press("Tab")
        focused.append(page.evaluate("document.activeElement.textContent.trim()"))
    assert focused == ["Skip to content", "Dunwell", *top, "Settings"]
    page.keyboard.press("Enter")  # opens the "Settings" group
    for _ in grouped:
        page.keyboard.press("Tab")
    # The focused link ("Account", last) is visibly outlined, and Enter follows it.
    assert page.evaluate("document.activeElement.textContent.trim()") == grouped[-1] == "Account"
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") == "solid"
    page.keyboard.press("Enter")
    page.wait_for_url("**/settings/")
    assert page.get_by_role("heading", level=1).inner_text() == "Settings"
    assert console_errors == []


def _overflow(page):
    return page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


def test_the_pages_fit_a_phone(logged_in_page, staff_a, screenshot):
    page = logged_in_page
    page.set_viewport_size({"width": 375, "height": 740})
    page.goto("/")
    assert _overflow(page) <= 0
    assert page.get_by_text("Settings", exact=True).is_visible()
    assert page.get_by_role("link", name="Review settings").is_visible()
    screenshot("home-phone")
    for path, name in [("/members/", "members-phone"), ("/settings/", "settings-phone")]:
        page.goto(path)
        assert _overflow(page) <= 0, path
        screenshot(name)
