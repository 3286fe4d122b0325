"""The sandbox as Dunwell's client code meets it: over HTTP, with tokens got the OAuth way."""

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from sandbox.hooks import hooks_deliver_due
from sandbox.models import TwilioAccount
from sandbox.seed import sandbox_seed

CLIENT_ID = "TESTCLIENTID0000000000000000000"
CLIENT_SECRET = "test-client-secret"
WEBHOOK_KEY = "test-webhook-key"
BASE = "http://dunwell.test"
REDIRECT_URI = f"{BASE}/connections/xero/callback/"
SCOPES = "offline_access accounting.invoices.read accounting.payments.read"
AUTHORIZE = "/sandbox/xero/login/identity/connect/authorize"
TOKEN = "/sandbox/xero/identity/connect/token"
API = "/sandbox/xero/api"
ACCOUNTING = f"{API}/api.xro/2.0"


@pytest.fixture(autouse=True)
def sandbox_settings(settings):
    settings.XERO_CLIENT_ID = CLIENT_ID
    settings.XERO_CLIENT_SECRET = CLIENT_SECRET
    settings.XERO_WEBHOOK_KEY = WEBHOOK_KEY
    settings.PUBLIC_BASE_URL = BASE
    settings.XERO_API_URL = f"{BASE}/sandbox/xero/api"
    settings.SANDBOX_DELIVER_IN_BACKGROUND = False
    settings.SANDBOX_TWILIO_STEP_SECONDS = 1
    return settings


@pytest.fixture
def organisations(db):
    return sandbox_seed()


@pytest.fixture
def twilio_account(db):
    return TwilioAccount.objects.create(
        account_sid="AC" + "a" * 32,
        auth_token="b" * 32,
        from_number="+15005550006",
    )


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def authorize(client, *, organisations, challenge="", state="state-1", scope=SCOPES, allow=True):
    form = {
        "response_type": "code",
        "client_id": CLIENT_ID,
        "redirect_uri": REDIRECT_URI,
        "scope": scope,
        "state": state,
        "code_challenge": challenge,
        "code_challenge_method": "S256" if challenge else "",
        "organisation": [str(organisation.tenant_id) for organisation in organisations],
        "allow" if allow else "cancel": "1",
    }
    response = client.post(AUTHORIZE, form)
    assert response.status_code == 302
    return {
        key: values[0] for key, values in parse_qs(urlsplit(response["Location"]).query).items()
    }


def token_post(client, fields: dict, *, auth=(CLIENT_ID, CLIENT_SECRET)):
    headers = {"Authorization": basic(*auth)} if auth else {}
    return client.post(
        TOKEN,
        urlencode(fields),
        content_type="application/x-www-form-urlencoded",
        headers=headers,
    )


def connect(client, organisations, *, scope=SCOPES) -> dict:
    """The whole "Connect to Xero" dance with PKCE; returns the token response."""
    verifier, challenge = pkce_pair()
    redirect = authorize(client, organisations=organisations, challenge=challenge, scope=scope)
    response = token_post(
        client,
        {
            "grant_type": "authorization_code",
            "code": redirect["code"],
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
        },
    )
    assert response.status_code == 200, response.content
    return response.json()


@pytest.fixture
def tokens(client, organisations):
    return connect(client, organisations)


@pytest.fixture
def xero_get(client, tokens, organisations):
    def get(path, *, organisation=None, token=None, accept="application/json", **headers):
        organisation = organisation or organisations[0]
        return client.get(
            f"{ACCOUNTING}/{path}",
            headers={
                "Authorization": f"Bearer {token or tokens['access_token']}",
                "Xero-tenant-id": str(organisation.tenant_id),
                "Accept": accept,
                **headers,
            },
        )

    return get


def deliver(now=None) -> int:
    return hooks_deliver_due(now=now)
