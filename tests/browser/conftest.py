"""Playwright (Python) driving Debian's chromium against Django's live server.

Without /usr/bin/chromium the browser tests are skipped with the reason — unless
DUNWELL_REQUIRE_BROWSER=1 (set by .ci/run), where a missing browser fails the run instead.
"""

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make around
# it are still plain synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def chromium():
    if not Path(CHROMIUM).exists():
        reason = "chromium is not installed (apt-get install chromium) — browser tests skipped"
        if os.environ.get("DUNWELL_REQUIRE_BROWSER") == "1":
            pytest.fail(reason.replace("skipped", "required by DUNWELL_REQUIRE_BROWSER=1"))
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


def _browser_page(chromium, live_server):
    context = chromium.new_context(
        base_url=live_server.url, viewport={"width": 1280, "height": 800}
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def page(chromium, live_server):
    yield from _browser_page(chromium, live_server)


@pytest.fixture
def second_page(chromium, live_server):
    """Another person's browser (its own cookies), beside `page`."""
    yield from _browser_page(chromium, live_server)


@pytest.fixture
def screenshot(page):
    def take(name: str):
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)

    return take


@pytest.fixture
def logged_in_page(page, owner_a):
    from tests.conftest import PASSWORD

    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(owner_a.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/")
    return page


@pytest.fixture
def console_errors(page):
    """Errors the browser logs, a CSP refusal among them (inline script or style)."""
    errors = []
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    return errors


def log_in(page, email, password):
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/")
