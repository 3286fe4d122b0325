"""Every API URL with an id, called with a token of tenant A on tenant B's object, is a 404.

The URLs come from the URL walker (tests/tenant_urls.py), so a new API endpoint is covered as
soon as it is routed; the session side is covered by tests/connections/test_tenant_isolation.py.
"""

import pytest

from tests.tenant_urls import API_PREFIX, OTHER_TENANT_OBJECTS, tenant_urls

API_URLS = [u for u in tenant_urls() if u.route.startswith(API_PREFIX) and u.params]


def test_the_walker_finds_the_api_urls_with_ids():
    assert {u.name for u in API_URLS} >= {"message", "message-resend", "template"}


@pytest.mark.parametrize("url", API_URLS, ids=lambda u: u.route)
def test_a_token_of_tenant_a_gets_404_for_tenant_bs_objects(api, tenant_b, url):
    missing = [p for p in url.params if p not in OTHER_TENANT_OBJECTS]
    assert not missing, f"add a factory for {missing} to tests/tenant_urls.OTHER_TENANT_OBJECTS"
    path = url.build({p: OTHER_TENANT_OBJECTS[p](tenant_b) for p in url.params})
    statuses = {
        method: getattr(api, method)(path, {}).status_code
        for method in ("get", "post", "put", "patch", "delete")
    }
    assert set(statuses.values()) <= {404, 405}, statuses
    assert 404 in statuses.values()
