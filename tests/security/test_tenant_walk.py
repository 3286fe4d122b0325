"""Walk every tenant-scoped page as tenant A's people while tenant B has recognisable data.

tests/connections/test_tenant_isolation.py proves B's objects are 404 by id; this proves that no
list, count, form or CSV of A's leaks B's names. New URLs and new kinds of tenant data are picked
up from tests/tenant_urls.py (tenant_urls(), OTHER_TENANT_DATA), so nothing needs listing here.
"""

import pytest

from messaging.models import Message
from tests.tenant_urls import OTHER_TENANT_OBJECTS, other_tenant_data_create, tenant_urls

URLS = tenant_urls()
# Search and filter parameters the list pages take: a search for B's names must find nothing.
QUERIES = ("", "?search=Quokka&q=Quokka&status=&page=1", "?search=%2B6427&q=Bravo")


@pytest.fixture
def tenant_b_data(tenant_b):
    return other_tenant_data_create(tenant_b)


@pytest.fixture
def tenant_a_message(tenant_a):
    return Message.objects.create(
        tenant=tenant_a, kind="invoice_issued", channel="sms", dedup_key="a:walk:1",
        status="skipped", error_code="no_phone", contact_name="Alpha Own Contact",
    )  # fmt: skip


def _own_objects(tenant) -> dict:
    return {name: factory(tenant) for name, factory in OTHER_TENANT_OBJECTS.items()}


def _pages(client, tenant_a):
    values = _own_objects(tenant_a)
    for url in URLS:
        path = url.build(values)
        for query in QUERIES:
            response = client.get(path + query)
            yield path + query, response


@pytest.mark.parametrize("who", ["staff_a", "owner_a"])
def test_no_page_of_tenant_a_shows_anything_of_tenant_b(
    client, request, who, tenant_a, tenant_b_data, tenant_a_message
):
    client.force_login(request.getfixturevalue(who))
    seen_own = False
    for path, response in _pages(client, tenant_a):
        assert response.status_code < 500, f"{path}: {response.status_code}"
        body = b"".join(response.streaming_content) if response.streaming else response.content
        text = body.decode(errors="replace")
        leaked = [marker for marker in tenant_b_data if marker in text]
        assert not leaked, f"{path} as {who} shows tenant B's {leaked}"
        seen_own = seen_own or "Alpha Own Contact" in text
    assert seen_own, "the walk never saw tenant A's own message: it proves nothing"


def test_tenant_b_sees_its_own_data_so_the_markers_are_real(client, tenant_b, tenant_b_data):
    owner_b = tenant_b.memberships.get(role="owner").user
    client.force_login(owner_b)
    text = client.get("/messaging/").content.decode()
    assert "Zebedee Quokka" in text
