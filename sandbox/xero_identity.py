"""Xero's OAuth 2.0 identity service, offline (FACTS.md "Xero: OAuth 2.0").

Authorization codes live 5 minutes and are single-use; PKCE S256 is checked when a challenge was
sent; access tokens live 1800 s; refresh tokens rotate on every refresh, the replaced one still
works for a 30-minute grace and then fails with `invalid_grant`; unused refresh tokens die after
60 days; no refresh token without `offline_access`.
"""

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from sandbox.models import (
    AccessToken,
    AuthorizationCode,
    Connection,
    Grant,
    Organisation,
    RefreshToken,
)

ACCESS_TOKEN_SECONDS = 1800
CODE_LIFETIME = timedelta(minutes=5)
REFRESH_GRACE = timedelta(minutes=30)
REFRESH_UNUSED_LIFETIME = timedelta(days=60)


class OAuthError(Exception):
    """An OAuth error answer: `{"error": code}` with this HTTP status."""

    def __init__(self, code: str, status: int = 400):
        super().__init__(code)
        self.code = code
        self.status = status


@dataclass(frozen=True)
class AuthorizeRequest:
    client_id: str
    redirect_uri: str
    scope: str
    state: str
    code_challenge: str
    code_challenge_method: str

    @classmethod
    def from_query(cls, query) -> "AuthorizeRequest":
        return cls(
            client_id=query.get("client_id", ""),
            redirect_uri=query.get("redirect_uri", ""),
            scope=query.get("scope", ""),
            state=query.get("state", ""),
            code_challenge=query.get("code_challenge", ""),
            code_challenge_method=query.get("code_challenge_method", ""),
        )

    def problem(self, response_type: str) -> str:
        """Why this request cannot be shown a consent screen at all ("" when it can)."""
        if self.client_id != settings.XERO_CLIENT_ID or not self.client_id:
            return "unauthorized_client: unknown client_id"
        parts = urlsplit(self.redirect_uri)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            return "invalid_request: redirect_uri must be an absolute http(s) URL"
        if response_type != "code":
            return "unsupported_response_type: only response_type=code"
        if self.code_challenge and self.code_challenge_method != "S256":
            return "invalid_request: code_challenge_method must be S256"
        return ""

    def redirect(self, **params) -> str:
        separator = "&" if "?" in self.redirect_uri else "?"
        if self.state:
            params["state"] = self.state
        return f"{self.redirect_uri}{separator}{urlencode(params)}"


def authorization_grant(*, request: AuthorizeRequest, organisation_ids: list[str]) -> str:
    """The user allowed access to these organisations: connect them, return the redirect URL."""
    organisations = list(Organisation.objects.filter(tenant_id__in=organisation_ids))
    if not organisations:
        return request.redirect(error="access_denied")
    now = timezone.now()
    with transaction.atomic():
        grant = Grant.objects.create(client_id=request.client_id, scope=request.scope)
        for organisation in organisations:
            Connection.objects.update_or_create(
                organisation=organisation,
                defaults={"auth_event_id": grant.auth_event_id, "updated_at": now},
                create_defaults={"auth_event_id": grant.auth_event_id},
            )
        code = AuthorizationCode.objects.create(
            code=secrets.token_hex(32),
            grant=grant,
            redirect_uri=request.redirect_uri,
            code_challenge=request.code_challenge,
        )
    return request.redirect(code=code.code, scope=request.scope, session_state=secrets.token_hex(8))


def client_authenticate(*, authorization: str, form) -> str:
    """The client_id, from HTTP Basic or the form; a public PKCE client sends no secret."""
    client_id, secret = form.get("client_id", ""), form.get("client_secret")
    if authorization.startswith("Basic "):
        try:
            decoded = base64.b64decode(authorization[6:]).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise OAuthError("invalid_client") from None
        client_id, _, secret = decoded.partition(":")
    if client_id != settings.XERO_CLIENT_ID or not client_id:
        raise OAuthError("invalid_client")
    if secret is None and form.get("code_verifier"):
        return client_id
    if not hmac.compare_digest((secret or "").encode(), settings.XERO_CLIENT_SECRET.encode()):
        raise OAuthError("invalid_client")
    return client_id


def _pkce_ok(verifier: str, challenge: str) -> bool:
    digest = hashlib.sha256(verifier.encode()).digest()
    expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    return hmac.compare_digest(expected, challenge)


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _access_token(grant: Grant, now) -> str:
    """A JWT like Xero's: clients read `authentication_event_id` from it for /connections."""
    expires = now + timedelta(seconds=ACCESS_TOKEN_SECONDS)
    claims = {
        "nbf": int(now.timestamp()),
        "exp": int(expires.timestamp()),
        "iss": f"{settings.PUBLIC_BASE_URL}/sandbox/xero/identity",
        "aud": f"{settings.PUBLIC_BASE_URL}/sandbox/xero/identity/resources",
        "client_id": grant.client_id,
        "sub": "sandbox-user",
        "auth_time": int(grant.created_at.timestamp()),
        "xero_userid": str(uuid.uuid5(uuid.NAMESPACE_DNS, "sandbox-user")),
        "global_session_id": uuid.uuid4().hex,
        "jti": uuid.uuid4().hex,
        "authentication_event_id": str(grant.auth_event_id),
        "scope": grant.scope.split(),
    }
    unsigned = f"{_b64({'alg': 'HS256', 'typ': 'JWT'})}.{_b64(claims)}"
    signature = hmac.new(settings.SECRET_KEY.encode(), unsigned.encode(), hashlib.sha256).digest()
    token = f"{unsigned}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"
    AccessToken.objects.create(
        token=token, token_hash=token_hash(token), grant=grant, expires_at=expires
    )
    return token


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _token_response(grant: Grant) -> dict:
    now = timezone.now()
    response = {
        "access_token": _access_token(grant, now),
        "expires_in": ACCESS_TOKEN_SECONDS,
        "token_type": "Bearer",
        "scope": grant.scope,
    }
    if "offline_access" in grant.scope.split():
        refresh = RefreshToken.objects.create(token=secrets.token_hex(32), grant=grant)
        response["refresh_token"] = refresh.token
    return response


@transaction.atomic
def token_exchange_code(*, client_id: str, form) -> dict:
    now = timezone.now()
    code = (
        AuthorizationCode.objects.select_for_update()
        .select_related("grant")
        .filter(code=form.get("code", ""), grant__client_id=client_id)
        .first()
    )
    if code is None or code.used_at is not None or now - code.created_at > CODE_LIFETIME:
        raise OAuthError("invalid_grant")
    if form.get("redirect_uri", "") != code.redirect_uri:
        raise OAuthError("invalid_grant")
    if code.code_challenge and not _pkce_ok(form.get("code_verifier", ""), code.code_challenge):
        raise OAuthError("invalid_grant")
    code.used_at = now
    code.save(update_fields=["used_at"])
    return _token_response(code.grant)


@transaction.atomic
def token_refresh(*, client_id: str, form) -> dict:
    now = timezone.now()
    refresh = (
        RefreshToken.objects.select_for_update()
        .select_related("grant")
        .filter(token=form.get("refresh_token", ""), grant__client_id=client_id)
        .first()
    )
    if refresh is None or refresh.grant.revoked_at is not None:
        raise OAuthError("invalid_grant")
    if refresh.replaced_at is None and now - refresh.created_at > REFRESH_UNUSED_LIFETIME:
        raise OAuthError("invalid_grant")
    if refresh.replaced_at is not None and now - refresh.replaced_at > REFRESH_GRACE:
        raise OAuthError("invalid_grant")
    if refresh.replaced_at is None:
        refresh.replaced_at = now
        refresh.save(update_fields=["replaced_at"])
    return _token_response(refresh.grant)


@transaction.atomic
def token_revoke(*, client_id: str, token: str) -> None:
    """Revoking a refresh token ends its grant and removes the grant's connections."""
    refresh = RefreshToken.objects.filter(token=token, grant__client_id=client_id).first()
    if refresh is None:
        return
    Grant.objects.filter(pk=refresh.grant_id).update(revoked_at=timezone.now())
    Connection.objects.filter(auth_event_id=refresh.grant.auth_event_id).delete()


def grant_for_bearer(authorization: str) -> tuple[Grant | None, str]:
    """The grant behind a Bearer token, or None and Xero's 401 Detail."""
    if not authorization.startswith("Bearer "):
        return None, "AuthenticationUnsuccessful"
    token = (
        AccessToken.objects.select_related("grant")
        .filter(token_hash=token_hash(authorization[7:].strip()))
        .first()
    )
    if token is None or token.grant.revoked_at is not None:
        return None, "AuthenticationUnsuccessful"
    if token.expires_at <= timezone.now():
        stamp = token.expires_at.strftime("%m/%d/%Y %H:%M:%S")
        return None, f"TokenExpired: token expired at {stamp}"
    return token.grant, ""
