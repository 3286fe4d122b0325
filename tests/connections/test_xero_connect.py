"""Connect to Xero: the owner's path through consent, and every way it can go wrong."""

import base64
import hashlib
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from django.db import connection as db
from responses import matchers

from connections.models import XeroConnection, XeroGrant
from tests.xero_api import api_url, token_url, xero_connection_create, xero_json

NZ_ORG = "fe79f7dd-b6d4-4a92-ba7b-538af6289c58"
AU_ORG = "0b2c3d4e-5f60-4718-8a9b-acbdcedf0011"
AUTH_EVENT = "d99ecdfe-00d1-4d36-a1d3-5f7b4f1ec2a1"


@pytest.fixture
def xero(settings):
    settings.XERO_CLIENT_ID = "DUNWELLTESTCLIENTID"
    settings.XERO_CLIENT_SECRET = "client-secret-for-tests"
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def _start(client) -> dict:
    response = client.get("/connections/xero/connect/")
    assert response.status_code == 302
    return {k: v[0] for k, v in parse_qs(urlsplit(response["Location"]).query).items()}


def _consent(xero, *, connections="connections__one_org", token="token__ok"):
    xero.post(token_url(), json=xero_json(token), status=200 if token == "token__ok" else 400)
    xero.get(
        f"{api_url('').removesuffix('/api.xro/2.0/')}/connections",
        json=xero_json(connections),
        match=[matchers.query_param_matcher({"authEventId": AUTH_EVENT})],
    )
    xero.get(
        api_url("Organisation"),
        json=xero_json("organisation__nz"),
        match=[matchers.header_matcher({"Xero-tenant-id": NZ_ORG})],
    )
    xero.get(
        api_url("Organisation"),
        json=xero_json("organisation__au"),
        match=[matchers.header_matcher({"Xero-tenant-id": AU_ORG})],
    )


def _callback(client, query: dict):
    return client.get("/connections/xero/callback/", query)


def test_an_owner_connects_one_organisation_end_to_end(owner_client, tenant_a, xero, settings):
    started = _start(owner_client)
    assert started["response_type"] == "code"
    assert started["scope"] == settings.XERO_SCOPES
    assert started["client_id"] == "DUNWELLTESTCLIENTID"
    assert started["redirect_uri"] == f"{settings.PUBLIC_BASE_URL}/connections/xero/callback/"
    assert started["code_challenge_method"] == "S256"
    _consent(xero)

    response = _callback(owner_client, {"code": "auth-code-1", "state": started["state"]})
    assert response.status_code == 302 and response["Location"] == "/connections/xero/choose/"
    assert not XeroGrant.objects.exists(), "nothing is saved before the owner chooses"

    page = owner_client.get("/connections/xero/choose/")
    assert b"Alpha Plumbing (NZ)" in page.content and b"NZD" in page.content
    response = owner_client.post(
        "/connections/xero/choose/", {"xero_tenant_id": [NZ_ORG]}, follow=True
    )

    assert b"Connected to Xero: Alpha Plumbing (NZ)." in response.content
    connection = XeroConnection.objects.get()
    assert connection.tenant == tenant_a
    assert connection.connection_id == "7cb59f93-2964-421d-bb5e-a0f7a4572a44"
    assert (connection.country_code, connection.timezone, connection.currency) == (
        "NZ",
        "Pacific/Auckland",
        "NZD",
    )
    assert connection.grant.refresh_token == xero_json("token__ok")["refresh_token"]
    assert connection.grant.auth_event_id == AUTH_EVENT
    tenant_a.refresh_from_db()
    assert (tenant_a.timezone, tenant_a.default_country) == ("Pacific/Auckland", "NZ")


def test_the_code_exchange_sends_the_pkce_verifier_with_basic_auth(owner_client, xero):
    started = _start(owner_client)
    _consent(xero)
    _callback(owner_client, {"code": "auth-code-1", "state": started["state"]})

    exchange = xero.calls[0].request
    form = parse_qs(exchange.body)
    verifier = form["code_verifier"][0]
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    assert challenge.rstrip(b"=").decode() == started["code_challenge"]
    assert form["grant_type"] == ["authorization_code"] and form["code"] == ["auth-code-1"]
    expected = base64.b64encode(b"DUNWELLTESTCLIENTID:client-secret-for-tests").decode()
    assert exchange.headers["Authorization"] == f"Basic {expected}"


def test_several_organisations_from_one_consent_share_one_grant(owner_client, tenant_a, xero):
    started = _start(owner_client)
    _consent(xero, connections="connections__two_orgs")
    _callback(owner_client, {"code": "auth-code-1", "state": started["state"]})
    page = owner_client.get("/connections/xero/choose/")
    assert b"Alpha Plumbing (AU)" in page.content

    owner_client.post("/connections/xero/choose/", {"xero_tenant_id": [NZ_ORG, AU_ORG]})

    assert XeroGrant.objects.count() == 1
    timezones = dict(XeroConnection.objects.values_list("xero_tenant_id", "timezone"))
    assert timezones == {NZ_ORG: "Pacific/Auckland", AU_ORG: "Australia/Sydney"}


def test_a_cancelled_consent_says_so_and_saves_nothing(owner_client, xero):
    started = _start(owner_client)
    response = _callback(owner_client, {"error": "access_denied", "state": started["state"]})
    assert response.status_code == 400
    assert b"You cancelled the connection in Xero" in response.content
    assert not xero.calls and not XeroGrant.objects.exists()


def test_another_error_from_xero_is_not_called_a_cancellation(owner_client, xero):
    started = _start(owner_client)
    response = _callback(owner_client, {"error": "unauthorized_client", "state": started["state"]})
    assert b"Xero did not complete the connection" in response.content
    assert b"cancelled" not in response.content


def test_a_callback_with_the_wrong_state_is_refused(owner_client, xero):
    _start(owner_client)
    response = _callback(owner_client, {"code": "auth-code-1", "state": "forged"})
    assert response.status_code == 400
    assert b"does not belong to a connection started in this browser" in response.content
    assert not xero.calls


def test_a_replayed_callback_is_refused(owner_client, xero):
    started = _start(owner_client)
    _consent(xero)
    _callback(owner_client, {"code": "auth-code-1", "state": started["state"]})
    response = _callback(owner_client, {"code": "auth-code-1", "state": started["state"]})
    assert b"or it was already used" in response.content
    assert len([c for c in xero.calls if c.request.url == token_url()]) == 1


def test_a_failed_code_exchange_explains_and_saves_nothing(owner_client, xero):
    started = _start(owner_client)
    _consent(xero, token="token__invalid_client")
    response = _callback(owner_client, {"code": "auth-code-1", "state": started["state"]})
    assert b"Xero did not accept the sign-in code" in response.content
    assert not XeroGrant.objects.exists()


def test_a_consent_without_organisations_explains(owner_client, xero):
    started = _start(owner_client)
    _consent(xero, connections="connections__none")
    response = _callback(owner_client, {"code": "auth-code-1", "state": started["state"]})
    assert b"did not give access to any organisation" in response.content


def test_a_consent_without_offline_access_is_refused(owner_client, xero):
    started = _start(owner_client)
    _consent(xero)
    xero.replace(responses.POST, token_url(), json=xero_json("token__ok") | {"refresh_token": ""})
    response = _callback(owner_client, {"code": "auth-code-1", "state": started["state"]})
    assert b"no offline_access scope" in response.content
    assert not XeroGrant.objects.exists()


def test_xero_failing_while_reading_organisations_saves_nothing(owner_client, xero):
    started = _start(owner_client)
    xero.post(token_url(), json=xero_json("token__ok"))
    xero.get(f"{api_url('').removesuffix('/api.xro/2.0/')}/connections", status=503)
    response = _callback(owner_client, {"code": "auth-code-1", "state": started["state"]})
    assert b"could not read your organisations" in response.content
    assert not XeroGrant.objects.exists()


def test_an_organisation_of_another_tenant_is_refused(owner_client, tenant_a, tenant_b, xero):
    xero_connection_create(tenant=tenant_b, xero_tenant_id=NZ_ORG)
    started = _start(owner_client)
    _consent(xero)
    _callback(owner_client, {"code": "auth-code-1", "state": started["state"]})
    page = owner_client.get("/connections/xero/choose/")
    assert b"Already connected to another Dunwell account" in page.content

    response = owner_client.post("/connections/xero/choose/", {"xero_tenant_id": [NZ_ORG]})

    assert response.status_code == 400
    assert b"already connected to another Dunwell account" in response.content
    assert not XeroConnection.objects.filter(tenant=tenant_a).exists()
    assert XeroGrant.objects.filter(tenant=tenant_a).count() == 0


def test_choosing_nothing_connects_nothing(owner_client, xero):
    started = _start(owner_client)
    _consent(xero)
    _callback(owner_client, {"code": "auth-code-1", "state": started["state"]})
    response = owner_client.post("/connections/xero/choose/", {})
    assert b"No organisation was chosen" in response.content
    assert not XeroGrant.objects.exists()


def test_a_choice_made_too_late_starts_again(owner_client, xero, time_machine):
    time_machine.move_to("2026-11-21 19:00Z", tick=False)
    started = _start(owner_client)
    _consent(xero)
    _callback(owner_client, {"code": "auth-code-1", "state": started["state"]})
    time_machine.shift(60 * 26)
    response = owner_client.get("/connections/xero/choose/")
    assert b"Too much time passed" in response.content


def test_reconnecting_reuses_the_organisations_row(owner_client, tenant_a, xero):
    old = xero_connection_create(tenant=tenant_a, xero_tenant_id=NZ_ORG)
    XeroConnection.objects.filter(pk=old.pk).update(status="needs_reconnect")
    started = _start(owner_client)
    _consent(xero)
    _callback(owner_client, {"code": "auth-code-1", "state": started["state"]})
    owner_client.post("/connections/xero/choose/", {"xero_tenant_id": [NZ_ORG]})

    connection = XeroConnection.objects.get()
    assert connection.pk == old.pk and connection.status == "active"
    assert connection.grant.auth_event_id == AUTH_EVENT


def test_staff_cannot_start_a_connection(staff_client):
    assert staff_client.get("/connections/xero/connect/").status_code == 403


def test_tokens_are_ciphertext_in_the_database_and_absent_from_pages(owner_client, xero, caplog):
    caplog.set_level("DEBUG")
    tokens = xero_json("token__ok")
    started = _start(owner_client)
    _consent(xero)
    _callback(owner_client, {"code": "auth-code-1", "state": started["state"]})
    pages = [owner_client.get("/connections/xero/choose/").content]
    owner_client.post("/connections/xero/choose/", {"xero_tenant_id": [NZ_ORG]})
    pages.append(owner_client.get("/connections/").content)

    with db.cursor() as cursor:
        cursor.execute("SELECT access_token, refresh_token FROM connections_xerogrant")
        raw_access, raw_refresh = cursor.fetchone()
    with db.cursor() as cursor:
        cursor.execute("SELECT session_data FROM django_session")
        sessions = " ".join(row[0] for row in cursor.fetchall())
    for secret in (tokens["access_token"], tokens["refresh_token"]):
        assert secret not in raw_access + raw_refresh
        assert secret not in sessions
        assert all(secret.encode() not in page for page in pages)
        assert secret not in caplog.text
    assert raw_access.startswith("gAAAA") and raw_refresh.startswith("gAAAA")


@pytest.mark.parametrize(
    ("next_path", "lands_on"),
    [
        ("/welcome/xero/", "/welcome/xero/"),
        ("https://evil.example/steal", "/connections/"),
        ("//evil.example/steal", "/connections/"),
    ],
)
def test_a_connect_started_with_a_local_next_comes_back_there_and_never_to_another_site(
    owner_client, xero, next_path, lands_on
):
    response = owner_client.get("/connections/xero/connect/", {"next": next_path})
    started = {k: v[0] for k, v in parse_qs(urlsplit(response["Location"]).query).items()}
    _consent(xero)
    _callback(owner_client, {"code": "auth-code-1", "state": started["state"]})
    response = owner_client.post("/connections/xero/choose/", {"xero_tenant_id": [NZ_ORG]})
    assert response.status_code == 302 and response["Location"] == lands_on
