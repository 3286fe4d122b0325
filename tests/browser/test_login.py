import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_owner_logs_in_and_sees_their_tenant(logged_in_page, tenant_a, screenshot):
    assert logged_in_page.get_by_role("heading", level=1).inner_text() == tenant_a.name
    screenshot("home")


def test_a_wrong_password_says_what_went_wrong(page, owner_a, screenshot):
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(owner_a.username)
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Log in").click()
    assert "do not match" in page.get_by_role("alert").inner_text()
    screenshot("login-error")
