"""Keeping grants alive, disconnecting organisations, and what operators see."""

from datetime import timedelta
from pathlib import Path
from zoneinfo import available_timezones

import pytest
import responses
import yaml
from django.conf import settings
from django.utils import timezone
from django_q.models import Schedule

from config.schedules import sync_schedules
from connections.models import XeroCall, XeroConnection, XeroGrant
from connections.services import grants_connections_check, grants_keep_alive, xero_calls_prune
from connections.xero_format import WINDOWS_TO_IANA, iana_timezone
from tests.xero_api import ACCESS_TOKEN, REFRESH_TOKEN, token_url, xero_connection_create, xero_json


def _spec(name: str) -> Path | None:
    """specs/xero/ from the shared folder next to the checkout (../shared or ../../shared)."""
    for folder in Path(__file__).resolve().parents:
        candidate = folder / "shared" / "specs" / "xero" / name
        if candidate.exists():
            return candidate
    return None


def test_every_xero_time_zone_maps_to_an_iana_zone():
    spec = _spec("xero_accounting.yaml")
    if spec is None:
        pytest.skip("the Xero OpenAPI spec (shared/specs/xero) is not next to this checkout")
    enum = yaml.safe_load(spec.read_text())["components"]["schemas"]["TimeZone"]["enum"]
    assert sorted(enum) == sorted(WINDOWS_TO_IANA)
    assert set(WINDOWS_TO_IANA.values()) <= available_timezones()
    assert iana_timezone("NEWZEALANDSTANDARDTIME") == "Pacific/Auckland"
    assert iana_timezone("somewhere new") == "UTC"


@pytest.fixture
def xero():
    with responses.RequestsMock() as mock:
        yield mock


def test_a_quiet_grant_is_refreshed_before_its_refresh_token_ages_out(xero, tenant_a):
    quiet = xero_connection_create(tenant=tenant_a).grant
    busy = xero_connection_create(tenant=tenant_a, name="Busy").grant
    XeroGrant.objects.filter(pk=quiet.pk).update(
        last_refreshed_at=timezone.now() - timedelta(days=21)
    )
    token = xero.post(token_url(), json=xero_json("token__refreshed"))

    assert grants_keep_alive() == 1

    assert token.call_count == 1
    quiet.refresh_from_db()
    busy.refresh_from_db()
    assert quiet.refresh_token == xero_json("token__refreshed")["refresh_token"]
    assert quiet.last_refreshed_at > timezone.now() - timedelta(minutes=1)
    assert busy.refresh_token == REFRESH_TOKEN


def test_a_revoked_grant_found_by_the_keep_alive_is_marked_not_raised(xero, tenant_a):
    grant = xero_connection_create(tenant=tenant_a).grant
    XeroGrant.objects.filter(pk=grant.pk).update(
        last_refreshed_at=timezone.now() - timedelta(days=30)
    )
    xero.post(token_url(), status=400, json=xero_json("token__invalid_grant"))
    assert grants_keep_alive() == 0
    grant.refresh_from_db()
    assert grant.status == XeroGrant.Status.NEEDS_RECONNECT
    # The organisations behind it say so too, so polls stop and every reader sees one status.
    connection = grant.connections.get()
    assert connection.status == XeroConnection.Status.NEEDS_RECONNECT
    assert connection.last_error == "Xero revoked the grant (invalid_grant)"


def test_the_keep_alive_and_log_pruning_are_scheduled(db):
    sync_schedules()
    scheduled = dict(Schedule.objects.values_list("name", "func"))
    assert scheduled["xero-grant-keep-alive"] == "connections.tasks.grants_keep_alive"
    assert scheduled["xero-call-log-prune"] == "connections.tasks.xero_calls_prune"
    assert scheduled["xero-connections-check"] == "connections.tasks.grants_connections_check"


def _connections_listed(xero, access_token: str, listing: list):
    return xero.get(
        f"{settings.XERO_API_URL}/connections",
        json=listing,
        match=[responses.matchers.header_matcher({"Authorization": f"Bearer {access_token}"})],
    )


def test_an_organisation_xero_no_longer_lists_needs_reconnecting(xero, tenant_a, tenant_b):
    listed = xero_json("connections__one_org")[0]["tenantId"]
    kept = xero_connection_create(tenant=tenant_a, xero_tenant_id=listed)
    dropped = xero_connection_create(
        tenant=tenant_a, name="Alpha Plumbing (AU)", grant=kept.grant, xero_tenant_id="au-org"
    )
    elsewhere = xero_connection_create(tenant=tenant_b, name="Bravo Bakery", xero_tenant_id="b")
    elsewhere.grant.access_token = "bravo-access-token"
    elsewhere.grant.save()
    listing = _connections_listed(xero, ACCESS_TOKEN, xero_json("connections__one_org"))
    _connections_listed(xero, "bravo-access-token", [{**xero_json("connections__one_org")[0],
                                                      "tenantId": "b"}])  # fmt: skip

    assert grants_connections_check() == 1

    assert listing.call_count == 1
    statuses = dict(XeroConnection.objects.values_list("pk", "status"))
    assert statuses == {kept.pk: "active", dropped.pk: "needs_reconnect", elsewhere.pk: "active"}
    dropped.refresh_from_db()
    assert "no longer lists this organisation" in dropped.last_error


def test_a_failing_connections_check_changes_nothing(xero, tenant_a):
    connection = xero_connection_create(tenant=tenant_a)
    xero.get(f"{settings.XERO_API_URL}/connections", status=503, body="maintenance")
    assert grants_connections_check() == 0
    connection.refresh_from_db()
    assert connection.status == XeroConnection.Status.ACTIVE


def test_old_calls_are_pruned_from_the_log(db):
    XeroCall.objects.create(xero_tenant_id="org", started_at=timezone.now() - timedelta(days=2))
    XeroCall.objects.create(xero_tenant_id="org")
    assert xero_calls_prune() == 1
    assert XeroCall.objects.count() == 1


def test_an_owner_disconnects_an_organisation_and_its_history_stays(xero, owner_client, tenant_a):
    connection = xero_connection_create(tenant=tenant_a)
    delete = xero.delete(
        f"{settings.XERO_API_URL}/connections/{connection.connection_id}", status=204
    )
    page = owner_client.get("/connections/")
    assert b"Alpha Plumbing (NZ)" in page.content and b"Disconnect" in page.content

    response = owner_client.post(f"/connections/{connection.pk}/disconnect/", follow=True)

    assert delete.call_count == 1
    assert delete.calls[0].request.headers["Authorization"] == f"Bearer {ACCESS_TOKEN}"
    assert b"Disconnected Alpha Plumbing (NZ) from Dunwell." in response.content
    connection.refresh_from_db()
    assert connection.status == XeroConnection.Status.DISCONNECTED
    assert connection.disconnected_at is not None
    assert b"No Xero organisation is connected yet" in response.content


def test_a_disconnect_xero_cannot_take_says_so(xero, owner_client, tenant_a):
    connection = xero_connection_create(tenant=tenant_a)
    xero.delete(f"{settings.XERO_API_URL}/connections/{connection.connection_id}", status=400)
    response = owner_client.post(f"/connections/{connection.pk}/disconnect/", follow=True)
    assert b"Xero did not confirm that Alpha Plumbing (NZ) is disconnected" in response.content
    connection.refresh_from_db()
    assert connection.status == XeroConnection.Status.ACTIVE


def test_staff_cannot_disconnect(staff_client, tenant_a):
    connection = xero_connection_create(tenant=tenant_a)
    assert staff_client.post(f"/connections/{connection.pk}/disconnect/").status_code == 403
    assert staff_client.get("/connections/").status_code == 403


def test_the_admin_never_shows_tokens(admin_client, tenant_a):
    connection = xero_connection_create(tenant=tenant_a)
    pages = [
        admin_client.get(f"/admin/connections/xerogrant/{connection.grant.pk}/change/"),
        admin_client.get("/admin/connections/xerogrant/"),
        admin_client.get(f"/admin/connections/xeroconnection/{connection.pk}/change/"),
        admin_client.get("/admin/connections/xeroconnection/?tenant__id__exact=1"),
    ]
    for page in pages:
        assert page.status_code == 200
        assert ACCESS_TOKEN.encode() not in page.content
        assert REFRESH_TOKEN.encode() not in page.content
