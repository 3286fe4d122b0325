"""Every page of the team's app passes tests/a11y.py, in each state a user can reach."""

import pytest

from connections.members import invitation_create
from tests.a11y import accessibility_problems, assert_accessible


@pytest.fixture
def invitation_path(owner_a, tenant_a):
    link = invitation_create(tenant=tenant_a, email="sam@alpha.test", invited_by=owner_a).link
    return link.removeprefix("http://127.0.0.1:8000")


def test_the_login_page_is_accessible(client, db):
    assert_accessible(client.get("/accounts/login/").text)


OWNER_PAGES = [
    "/",
    "/members/",
    "/settings/",
    "/connections/",
    "/messaging/",
    "/messaging/contacts-needing-phone/",
    "/messaging/settings/",
    "/settings/alerts/",
    "/no-such-page/",
]


@pytest.mark.parametrize("path", OWNER_PAGES)
def test_an_owners_pages_are_accessible(owner_client, staff_a, invitation_path, path):
    assert_accessible(owner_client.get(path).text)


@pytest.mark.parametrize("path", ["/", "/members/", "/settings/", "/messaging/"])
def test_a_staff_members_pages_are_accessible(staff_client, path):
    assert_accessible(staff_client.get(path).text)


def test_pages_showing_errors_and_new_links_are_accessible(owner_client):
    assert_accessible(owner_client.post("/settings/", {"name": ""}).text)
    assert_accessible(owner_client.post("/members/invite/", {"email": "nope"}).text)
    assert_accessible(
        owner_client.post("/members/invite/", {"email": "sam@alpha.test"}, follow=True).text
    )


def test_the_invitation_pages_are_accessible(client, staff_a, invitation_path):
    assert_accessible(client.get(invitation_path).text)
    assert_accessible(client.post(invitation_path, {"password1": "x", "password2": "y"}).text)
    client.force_login(staff_a)
    assert_accessible(client.get(invitation_path).text)
    client.post(invitation_path)
    assert_accessible(client.get(invitation_path).text)  # the "no longer works" page


def test_someone_in_no_team_sees_an_accessible_page(client, outsider):
    client.force_login(outsider)
    assert_accessible(client.get("/").text)


def test_the_check_finds_what_it_is_meant_to_find():
    html = (
        '<html><body><h1>A</h1><h1>B</h1><input name="q"><img src="x.png">'
        '<label for="e">Email</label><input id="e" name="email"><input type="hidden" name="t">'
        '<label>Note <textarea name="note"></textarea></label><select name="s" id="e"></select>'
        "</body></html>"
    )
    assert accessibility_problems(html) == [
        "<html> has no lang attribute",
        "2 <h1> elements, not exactly one",
        "<input name='q'> has no label",
        "<img src='x.png'> has no alt text",
        "duplicate ids: ['e']",
    ]
