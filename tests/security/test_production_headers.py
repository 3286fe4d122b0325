"""Production settings put the security headers and cookie flags on real responses.

The values are read from config.settings as it loads with DEBUG=0 (in a subprocess, as in
production), then applied to this process so a response can be inspected.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.test import override_settings

from tests.conftest import PASSWORD

ROOT = Path(__file__).resolve().parents[2]
NAMES = [
    "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD",
    "SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY",
    "SESSION_COOKIE_SAMESITE", "CSRF_COOKIE_SECURE", "X_FRAME_OPTIONS", "SECURE_PROXY_SSL_HEADER",
    "SECURE_CONTENT_TYPE_NOSNIFF", "SECURE_REFERRER_POLICY",
]  # fmt: skip
PRINT = (
    "import django, json; django.setup(); from django.conf import settings as s; "
    f"print(json.dumps({{n: getattr(s, n) for n in {NAMES!r}}}))"
)


@pytest.fixture(scope="module")
def production():
    env = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "0",
        "SECRET_KEY": "prod-" + "k3y" * 20,
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "PUBLIC_BASE_URL": "https://dunwell.example.com",
    }
    result = subprocess.run(
        [sys.executable, "-c", PRINT], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=60, check=True,
    )  # fmt: skip
    values = json.loads(result.stdout.strip().splitlines()[-1])
    values["SECURE_PROXY_SSL_HEADER"] = tuple(values["SECURE_PROXY_SSL_HEADER"])
    return values


@pytest.fixture
def https(client, production):
    with override_settings(**production, ALLOWED_HOSTS=["dunwell.example.com"]):
        yield lambda method, path, **kw: getattr(client, method)(
            path, HTTP_HOST="dunwell.example.com", HTTP_X_FORWARDED_PROTO="https", **kw
        )


def test_production_sends_hsts_csp_and_framing_headers(https, db):
    response = https("get", "/accounts/login/")
    assert response.status_code == 200
    assert response["Strict-Transport-Security"] == ("max-age=31536000; includeSubDomains; preload")
    csp = response["Content-Security-Policy"]
    for directive in ("default-src 'self'", "script-src 'self'", "frame-ancestors 'none'",
                      "form-action 'self'"):  # fmt: skip
        assert directive in csp
    assert "unsafe-inline" not in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_production_cookies_are_secure_http_only_and_same_site(https, owner_a):
    page = https("get", "/accounts/login/")
    csrf = page.cookies["csrftoken"]
    assert csrf["secure"]
    response = https(
        "post",
        "/accounts/login/",
        data={"username": owner_a.username, "password": PASSWORD},
    )
    assert response.status_code == 302
    session = response.cookies["sessionid"]
    assert session["secure"] and session["httponly"]
    assert session["samesite"] == "Lax"


def test_production_redirects_plain_http_to_https(client, production, db):
    with override_settings(**production, ALLOWED_HOSTS=["dunwell.example.com"]):
        response = client.get("/accounts/login/", HTTP_HOST="dunwell.example.com")
    assert response.status_code == 301
    assert response["Location"] == "https://dunwell.example.com/accounts/login/"
