"""Xero's OAuth 2.0 identity endpoints: authorize URL with state + PKCE, code exchange, refresh.

The provider's endpoints are attributes built from settings, so the sandbox or a stand-in server
replaces Xero through XERO_LOGIN_URL / XERO_IDENTITY_URL (docs/architecture.md "Configuration").
Tokens never reach a log line: errors carry Xero's error code and correlation id only.
"""

import base64
import hashlib
import json
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode

import requests
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

logger = logging.getLogger(__name__)

TIMEOUT = (5, 30)


class OAuthError(Exception):
    """The identity server refused: `error` is its code (invalid_grant, invalid_client, …)."""

    def __init__(self, error: str, description: str = "", *, status: int | None = None):
        super().__init__(f"{error}: {description}" if description else error)
        self.error = error
        self.description = description
        self.status = status


@dataclass(frozen=True)
class TokenSet:
    access_token: str
    refresh_token: str
    expires_at: datetime
    scopes: str
    auth_event_id: str

    def __repr__(self):  # never let a token reach a traceback or a log line
        return f"TokenSet(expires_at={self.expires_at.isoformat()}, scopes={self.scopes!r})"


@dataclass(frozen=True)
class AuthorizationRequest:
    url: str
    state: str
    code_verifier: str


def redirect_uri() -> str:
    return settings.PUBLIC_BASE_URL + reverse("xero-callback")


def authorization_request() -> AuthorizationRequest:
    """A fresh single-use `state` and PKCE (S256) verifier, and the URL that carries them."""
    state = secrets.token_urlsafe(32)
    code_verifier = secrets.token_urlsafe(64)
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(code_verifier.encode()).digest())
        .rstrip(b"=")
        .decode()
    )
    query = urlencode(
        {
            "response_type": "code",
            "client_id": settings.XERO_CLIENT_ID,
            "redirect_uri": redirect_uri(),
            "scope": settings.XERO_SCOPES,
            "state": state,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    url = f"{settings.XERO_LOGIN_URL}/identity/connect/authorize?{query}"
    return AuthorizationRequest(url=url, state=state, code_verifier=code_verifier)


def token_exchange(*, code: str, code_verifier: str) -> TokenSet:
    return _token_request(
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri(),
            "code_verifier": code_verifier,
        }
    )


def token_refresh(*, refresh_token: str) -> TokenSet:
    return _token_request({"grant_type": "refresh_token", "refresh_token": refresh_token})


def _token_request(form: dict) -> TokenSet:
    try:
        response = requests.post(
            f"{settings.XERO_IDENTITY_URL}/connect/token",
            data=form,
            auth=(settings.XERO_CLIENT_ID, settings.XERO_CLIENT_SECRET),
            headers={"Accept": "application/json"},
            timeout=TIMEOUT,
        )
    except requests.RequestException as error:
        raise OAuthError("unreachable", type(error).__name__) from None
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code != 200 or "access_token" not in body:
        error = body.get("error") or f"http_{response.status_code}"
        logger.warning(
            "xero token request failed grant_type=%s status=%s error=%s correlation_id=%s",
            form["grant_type"],
            response.status_code,
            error,
            response.headers.get("Xero-Correlation-Id", ""),
        )
        raise OAuthError(error, body.get("error_description", ""), status=response.status_code)
    return TokenSet(
        access_token=body["access_token"],
        refresh_token=body.get("refresh_token", ""),
        expires_at=timezone.now() + timedelta(seconds=int(body.get("expires_in", 1800))),
        scopes=body.get("scope", settings.XERO_SCOPES),
        auth_event_id=_auth_event_id(body["access_token"]),
    )


def _auth_event_id(access_token: str) -> str:
    """Xero's access token is a JWT whose `authentication_event_id` claim names this consent.

    Read without verifying: it only narrows GET /connections to the organisations just chosen
    (FACTS.md). A token that is not a JWT (a stand-in server) simply gives no filter.
    """
    try:
        payload = access_token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return ""
    return str(claims.get("authentication_event_id", "")) if isinstance(claims, dict) else ""
