"""Helpers for the REST API tests: tokens for tenant A's people, and a few rows to read."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.core.cache import caches
from rest_framework.test import APIClient

from api_tokens.services import api_token_create
from messaging.models import Message, MessageTemplate


@pytest.fixture(autouse=True)
def fresh_throttle():
    """Throttle counts live in a cache that outlives a test; each test starts with none."""
    caches["api_throttle"].clear()
    yield
    caches["api_throttle"].clear()


def client_with_token(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


@pytest.fixture
def daytime():
    """Midday for tenant A (UTC), whose zone a NZ mobile falls back to (its number names no single
    zone): outside quiet hours, so a resend goes out at once (pending), not later (scheduled)."""
    with time_machine.travel(datetime(2026, 7, 7, 12, 0, tzinfo=UTC), tick=False) as traveller:
        yield traveller


@pytest.fixture
def staff_token(tenant_a, staff_a):
    return api_token_create(tenant=tenant_a, user=staff_a, name="Dashboard")


@pytest.fixture
def api(staff_token):
    """A client calling as staff of tenant A with an API token."""
    return client_with_token(staff_token[1])


@pytest.fixture
def owner_api(tenant_a, owner_a):
    return client_with_token(api_token_create(tenant=tenant_a, user=owner_a, name="Owner")[1])


def message_create(tenant, **fields) -> Message:
    values = {
        "kind": "invoice_issued",
        "channel": "sms",
        "dedup_key": f"invoice:{Message.objects.count() + 1}:issued",
        "status": "delivered",
        "recipient": "+64211234567",
        "contact_id": "c0a1e4b2-0000-4000-8000-000000000001",
        "contact_name": "Aroha Ngata",
        "body": "Hi Aroha, invoice INV-0142 for $485.00 is due 7 July 2026.",
    }
    return Message.objects.create(tenant=tenant, **{**values, **fields})


@pytest.fixture
def failed_message(tenant_a):
    message = message_create(
        tenant_a,
        kind="reminder",
        dedup_key="invoice:9:reminder:7d",
        status="failed",
        error_code="30007",
        body="Pay please",
    )
    message.status_changes.create(from_status="", to_status="pending", note="Created")
    message.status_changes.create(from_status="pending", to_status="failed", error_code="30007")
    return message


@pytest.fixture
def sms_template(tenant_a):
    return MessageTemplate.objects.get(tenant=tenant_a, kind="invoice_issued", channel="sms")
