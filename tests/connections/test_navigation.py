import html
import re

from connections.navigation import MAIN_NAV


def _nav(page):
    nav = re.search(r"<nav aria-label=\"Main\">(.*?)</nav>", page, re.S).group(1)
    links = re.findall(r'<a href="([^"]+)"( aria-current="page")?>([^<]+)</a>', nav)
    return [(href, current, html.unescape(label)) for href, current, label in links]


def test_owners_see_every_section_with_the_current_one_marked(owner_client):
    links = _nav(owner_client.get("/members/").text)
    assert [(href, label) for href, _, label in links] == [
        ("/", "Home"),
        ("/invoices/", "Invoices"),
        ("/dashboard/", "Dashboard"),
        ("/messaging/", "Send log"),
        ("/messaging/templates/", "Templates"),
        ("/reminders/", "Reminders"),
        ("/messaging/inbox/", "Inbox"),
        ("/messaging/contacts-needing-phone/", "Contacts to fix"),
        ("/welcome/", "Set-up wizard"),
        ("/members/", "Members"),
        ("/api-tokens/", "API tokens"),
        ("/connections/", "Xero"),
        ("/messaging/settings/", "Twilio & email"),
        ("/settings/alerts/", "Alerts"),
        ("/settings/", "Account"),
    ]
    assert [label for _, current, label in links if current] == ["Members"]
    assert len(links) == len(MAIN_NAV)


def test_staff_do_not_see_owner_only_sections(staff_client):
    labels = [label for _, _, label in _nav(staff_client.get("/").text)]
    assert labels == [
        "Home",
        "Invoices",
        "Dashboard",
        "Send log",
        "Templates",
        "Reminders",
        "Inbox",
        "Contacts to fix",
        "Members",
        "API tokens",
    ]
    # holding Members and API tokens
    assert "<summary>Settings</summary>" in staff_client.get("/").text


def test_someone_in_no_team_gets_no_section_links(client, outsider):
    client.force_login(outsider)
    assert _nav(client.get("/").text) == []


def test_only_the_most_specific_section_is_current(owner_client):
    links = _nav(owner_client.get("/messaging/settings/").text)
    assert [label for _, current, label in links if current] == ["Twilio & email"]


def test_a_page_under_another_sections_address_marks_only_its_own_section(staff_client):
    links = _nav(staff_client.get("/messaging/templates/").text)
    assert [label for _, current, label in links if current] == ["Templates"]


def test_owner_sections_fold_under_settings_which_is_marked_when_one_of_them_is_open(owner_client):
    page = owner_client.get("/connections/").text
    assert '<summary class="current">Settings</summary>' in page
    assert "<summary>Settings</summary>" in owner_client.get("/").text
