"""Xero API fixtures and a ready-made connection, for any test that needs Xero (mocked).

`xero_json("token__ok")` reads tests/fixtures/xero/api/token__ok.json; `xero_connection_create`
gives a tenant an active organisation whose grant holds a token valid for `expires_in`.
"""

import json
import uuid
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from connections.models import XeroConnection, XeroGrant

FIXTURES = Path(__file__).parent / "fixtures" / "xero" / "api"
ACCESS_TOKEN = "access-token-0f1e2d3c4b5a69788796a5b4c3d2e1f0"
REFRESH_TOKEN = "refresh-token-9a8b7c6d5e4f30211203f4e5d6c7b8a9"


def xero_json(name: str):
    return json.loads((FIXTURES / f"{name}.json").read_text())


def api_url(path: str) -> str:
    return f"{settings.XERO_API_URL}/api.xro/2.0/{path}"


def token_url() -> str:
    return f"{settings.XERO_IDENTITY_URL}/connect/token"


def xero_connection_create(
    *,
    tenant,
    name: str = "Alpha Plumbing (NZ)",
    xero_tenant_id: str | None = None,
    expires_in: timedelta = timedelta(minutes=30),
    grant: XeroGrant | None = None,
) -> XeroConnection:
    if grant is None:
        grant = XeroGrant.objects.create(
            tenant=tenant,
            access_token=ACCESS_TOKEN,
            refresh_token=REFRESH_TOKEN,
            expires_at=timezone.now() + expires_in,
            scopes=settings.XERO_SCOPES,
        )
    return XeroConnection.objects.create(
        tenant=tenant,
        grant=grant,
        xero_tenant_id=xero_tenant_id or str(uuid.uuid4()),
        connection_id=str(uuid.uuid4()),
        name=name,
        country_code="NZ",
        timezone="Pacific/Auckland",
        currency="NZD",
    )
