"""The API tokens page in a real browser: a new token is copied with one click and reads clearly."""

import re

import pytest

from api_tokens.services import TOKEN_ALPHABET, TOKEN_LENGTH

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LOOK_ALIKES = set("0O1lI")


def _create_token(page) -> str:
    page.goto("/api-tokens/")
    page.get_by_label("What is this token for?").fill("Accounts dashboard")
    page.get_by_role("button", name="Create token").click()
    return page.get_by_label("Token", exact=True).input_value()


def test_a_new_token_is_copied_with_the_copy_button(logged_in_page, screenshot):
    page = logged_in_page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    token = _create_token(page)

    page.get_by_role("button", name="Copy").click()

    page.get_by_role("button", name="Copied").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == token
    screenshot("api-tokens-copied")


def test_copy_says_copied_when_the_browser_refuses_clipboard_access(logged_in_page):
    page = logged_in_page
    page.add_init_script(
        "navigator.clipboard.writeText = () => Promise.reject(new DOMException('Denied'));"
    )
    token = _create_token(page)

    page.get_by_role("button", name="Copy").click()

    page.get_by_role("button", name="Copied").wait_for()
    page.context.grant_permissions(["clipboard-read"])
    assert page.evaluate("navigator.clipboard.readText()") == token


def test_the_token_has_no_look_alike_characters_and_a_monospace_face(logged_in_page):
    page = logged_in_page
    token = _create_token(page)

    assert re.fullmatch(rf"dw_[{TOKEN_ALPHABET}]{{{TOKEN_LENGTH}}}", token)
    assert not LOOK_ALIKES & set(token)
    font = page.get_by_label("Token", exact=True).evaluate(
        "input => getComputedStyle(input).fontFamily"
    )
    assert font.split(",")[0] == '"Cascadia Mono"' and font.endswith("monospace")
