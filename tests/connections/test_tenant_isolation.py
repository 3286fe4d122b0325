import pytest

from tests.tenant_urls import (
    API_PREFIX,
    OTHER_TENANT_OBJECTS,
    _is_tenant_scoped,
    is_owner_only,
    tenant_urls,
)

URLS = tenant_urls()


def test_every_non_public_url_is_tenant_scoped():
    unscoped = [u.route for u in URLS if not _is_tenant_scoped(u.view)]
    assert not unscoped, (
        f"{unscoped} are neither tenant-scoped nor public: wrap the view in tenant_required "
        "or list its prefix in tests/tenant_urls.PUBLIC_PREFIXES"
    )


def _other_tenants_path(url, tenant_b):
    missing = [p for p in url.params if p not in OTHER_TENANT_OBJECTS]
    assert not missing, f"add a factory for {missing} to tests/tenant_urls.OTHER_TENANT_OBJECTS"
    return url.build({p: OTHER_TENANT_OBJECTS[p](tenant_b) for p in url.params})


def _assert_hidden(client, path, *, refused=404):
    for method in (client.get, client.post):
        response = method(path)
        assert response.status_code in (refused, 405), f"{path}: {response.status_code}"
    assert refused in {client.get(path).status_code, client.post(path).status_code}


@pytest.mark.parametrize("url", [u for u in URLS if u.params], ids=lambda u: u.route)
def test_a_staff_member_gets_404_for_another_tenants_objects(staff_client, tenant_b, url):
    path = _other_tenants_path(url, tenant_b)
    # Owner-only pages turn staff away (403) before looking anything up, whatever the id.
    _assert_hidden(staff_client, path, refused=403 if is_owner_only(url.view) else 404)


@pytest.mark.parametrize("url", [u for u in URLS if u.params], ids=lambda u: u.route)
def test_an_owner_gets_404_for_another_tenants_objects(owner_client, tenant_b, url):
    _assert_hidden(owner_client, _other_tenants_path(url, tenant_b))


@pytest.mark.parametrize("url", [u for u in URLS if not u.params], ids=lambda u: u.route)
def test_someone_in_no_tenant_is_turned_away(client, outsider, url):
    client.force_login(outsider)
    response = client.get(url.build({}))
    assert response.status_code in (403, 405)


@pytest.mark.parametrize("url", URLS, ids=lambda u: u.route)
def test_anonymous_visitors_are_sent_to_log_in(client, db, url):
    response = client.get(url.build(url.samples))
    if url.route.startswith(API_PREFIX):
        assert response.status_code == 401
        return
    assert response.status_code in (302, 405)
    if response.status_code == 302:
        assert response["Location"].startswith("/accounts/login/")


def test_switching_to_own_tenant_shows_it(client, owner_a, tenant_a):
    from connections.models import Membership
    from dashboard.services import tenant_open

    second, _ = tenant_open(name="Charlie Cafe", owner_email=owner_a.email)
    assert Membership.objects.filter(user=owner_a).count() == 2
    client.force_login(owner_a)
    response = client.post(f"/tenants/{second.slug}/switch/", follow=True)
    assert response.status_code == 200
    assert b"<h1>Charlie Cafe</h1>" in response.content
