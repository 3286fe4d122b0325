"""CSRF on every form: each POST form carries the token, and a POST without it is refused (403).

Walks the same URL list as the tenant-isolation tests, so a new page or form is covered without
being listed here.
"""

from html.parser import HTMLParser

import pytest
from django.test import Client

from tests.tenant_urls import OTHER_TENANT_OBJECTS, tenant_urls

URLS = tenant_urls()
PUBLIC_PAGES = ["/accounts/login/"]


class _Forms(HTMLParser):
    """Collects each <form method=post> with the names of the inputs inside it."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self._open: dict | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form":
            self._open = {
                "method": (attributes.get("method") or "get").lower(),
                "action": attributes.get("action") or "",
                "inputs": set(),
            }
            self.forms.append(self._open)
        elif tag == "input" and self._open is not None:
            self._open["inputs"].add(attributes.get("name"))

    def handle_endtag(self, tag):
        if tag == "form":
            self._open = None


def post_forms(html: str) -> list[dict]:
    parser = _Forms()
    parser.feed(html)
    return [form for form in parser.forms if form["method"] == "post"]


def _paths(tenant) -> list[str]:
    values = {name: factory(tenant) for name, factory in OTHER_TENANT_OBJECTS.items()}
    return [url.build(values) for url in URLS]


def test_the_form_parser_sees_a_post_form_without_a_token():
    forms = post_forms('<form method="POST" action="/x/"><input name="phone"></form>')
    assert forms == [{"method": "post", "action": "/x/", "inputs": {"phone"}}]


def test_every_post_form_on_every_page_carries_a_csrf_token(owner_client, tenant_a):
    pages = _paths(tenant_a) + PUBLIC_PAGES
    checked = 0
    for path in pages:
        response = owner_client.get(path)
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        for form in post_forms(response.content.decode()):
            assert "csrfmiddlewaretoken" in form["inputs"], f"{path}: form {form} has no token"
            checked += 1
    assert checked >= 3, "the walk found almost no forms: it proves nothing"


def test_the_login_form_carries_a_csrf_token(client, db):
    forms = post_forms(client.get("/accounts/login/").content.decode())
    assert forms and all("csrfmiddlewaretoken" in form["inputs"] for form in forms)


@pytest.mark.parametrize("path_of", range(len(URLS)), ids=[u.route for u in URLS])
def test_a_post_without_a_csrf_token_is_refused(owner_a, tenant_a, path_of):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(owner_a)
    path = _paths(tenant_a)[path_of]
    response = browser.post(path, {"name": "x"})
    assert response.status_code == 403, f"{path}: {response.status_code}"


def test_a_login_post_without_a_csrf_token_is_refused(owner_a):
    browser = Client(enforce_csrf_checks=True)
    response = browser.post("/accounts/login/", {"username": owner_a.username, "password": "x"})
    assert response.status_code == 403
