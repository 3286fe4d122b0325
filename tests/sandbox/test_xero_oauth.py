"""Connect to the sandbox Xero the way Dunwell connects to Xero (FACTS.md "Xero: OAuth 2.0")."""

import base64
import json
from datetime import timedelta

import time_machine
from django.utils import timezone

from tests.sandbox.conftest import (
    API,
    AUTHORIZE,
    CLIENT_ID,
    REDIRECT_URI,
    authorize,
    connect,
    pkce_pair,
    token_post,
)


def _claims(access_token: str) -> dict:
    payload = access_token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def test_the_consent_screen_lists_both_demo_organisations(client, organisations):
    response = client.get(
        AUTHORIZE,
        {
            "response_type": "code",
            "client_id": CLIENT_ID,
            "redirect_uri": REDIRECT_URI,
            "scope": "offline_access",
            "state": "xyz",
            "code_challenge": "abc",
            "code_challenge_method": "S256",
        },
    )
    assert response.status_code == 200
    for organisation in organisations:
        assert organisation.name.encode() in response.content
    assert b'name="organisation"' in response.content


def test_an_unknown_client_is_shown_an_error_and_never_redirected(client, organisations):
    response = client.get(
        AUTHORIZE,
        {"response_type": "code", "client_id": "nope", "redirect_uri": REDIRECT_URI},
    )
    assert response.status_code == 400
    assert b"unknown client_id" in response.content


def test_cancel_returns_access_denied_with_the_state(client, organisations):
    redirect = authorize(client, organisations=organisations, state="s-42", allow=False)
    assert redirect == {"error": "access_denied", "state": "s-42"}


def test_the_full_dance_with_pkce_gives_tokens_like_xeros(client, organisations):
    answer = connect(client, organisations)
    assert answer["expires_in"] == 1800
    assert answer["token_type"] == "Bearer"
    assert answer["refresh_token"]
    assert "id_token" not in answer
    claims = _claims(answer["access_token"])
    assert claims["exp"] - claims["nbf"] == 1800
    response = client.get(
        f"{API}/connections",
        {"authEventId": claims["authentication_event_id"]},
        headers={"Authorization": f"Bearer {answer['access_token']}"},
    )
    connections = response.json()
    assert {c["tenantId"] for c in connections} == {str(o.tenant_id) for o in organisations}
    assert set(connections[0]) == {
        "id",
        "authEventId",
        "tenantId",
        "tenantType",
        "tenantName",
        "createdDateUtc",
        "updatedDateUtc",
    }
    assert connections[0]["tenantType"] == "ORGANISATION"


def test_the_redirect_carries_code_state_and_scope(client, organisations):
    redirect = authorize(client, organisations=organisations[:1], challenge="c" * 43, state="st")
    assert redirect["state"] == "st"
    assert redirect["code"]
    assert redirect["scope"].startswith("offline_access")


def test_a_wrong_code_verifier_is_invalid_grant(client, organisations):
    _, challenge = pkce_pair()
    code = authorize(client, organisations=organisations, challenge=challenge)["code"]
    response = token_post(
        client,
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": "not-the-verifier",
        },
    )
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_grant"}


def test_a_code_works_once(client, organisations):
    verifier, challenge = pkce_pair()
    code = authorize(client, organisations=organisations, challenge=challenge)["code"]
    fields = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "code_verifier": verifier,
    }
    assert token_post(client, fields).status_code == 200
    assert token_post(client, fields).json() == {"error": "invalid_grant"}


def test_a_wrong_client_secret_is_invalid_client(client, organisations):
    verifier, challenge = pkce_pair()
    code = authorize(client, organisations=organisations, challenge=challenge)["code"]
    response = token_post(
        client,
        {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI},
        auth=(CLIENT_ID, "wrong"),
    )
    assert response.json() == {"error": "invalid_client"}


def test_without_offline_access_there_is_no_refresh_token(client, organisations):
    answer = connect(client, organisations, scope="accounting.invoices.read")
    assert "refresh_token" not in answer


def _refresh(client, refresh_token):
    return token_post(client, {"grant_type": "refresh_token", "refresh_token": refresh_token})


def test_every_refresh_rotates_the_refresh_token(client, tokens):
    first = _refresh(client, tokens["refresh_token"]).json()
    second = _refresh(client, first["refresh_token"]).json()
    assert len({tokens["refresh_token"], first["refresh_token"], second["refresh_token"]}) == 3
    assert first["access_token"] != tokens["access_token"]


def test_a_replaced_refresh_token_still_works_for_the_30_minute_grace(client, tokens):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        assert _refresh(client, tokens["refresh_token"]).status_code == 200
        traveller.shift(timedelta(minutes=29))
        retried = _refresh(client, tokens["refresh_token"])
        assert retried.status_code == 200
        assert retried.json()["refresh_token"] != tokens["refresh_token"]


def test_a_replaced_refresh_token_is_invalid_grant_after_the_grace(client, tokens):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        new = _refresh(client, tokens["refresh_token"]).json()
        traveller.shift(timedelta(minutes=31))
        reused = _refresh(client, tokens["refresh_token"])
        assert reused.status_code == 400
        assert reused.json() == {"error": "invalid_grant"}
        assert _refresh(client, new["refresh_token"]).status_code == 200


def test_an_unused_refresh_token_dies_after_60_days(client, tokens):
    with time_machine.travel(timezone.now() + timedelta(days=61)):
        assert _refresh(client, tokens["refresh_token"]).json() == {"error": "invalid_grant"}


def test_an_expired_access_token_is_401_token_expired(client, tokens, xero_get):
    with time_machine.travel(timezone.now() + timedelta(seconds=1801)):
        response = xero_get("Invoices")
    assert response.status_code == 401
    assert response.json()["Detail"].startswith("TokenExpired")


def test_deleting_a_connection_is_204_and_then_the_organisation_is_forbidden(
    client, tokens, xero_get, organisations
):
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    connection = client.get(f"{API}/connections", headers=bearer).json()[0]
    response = client.delete(f"{API}/connections/{connection['id']}", headers=bearer)
    assert response.status_code == 204
    gone = next(o for o in organisations if str(o.tenant_id) == connection["tenantId"])
    response = xero_get("Invoices", organisation=gone)
    assert response.status_code == 403
    assert response.json()["Detail"] == "AuthenticationUnsuccessful"


def test_connections_need_a_bearer_token(client, organisations):
    assert client.get(f"{API}/connections").status_code == 401
