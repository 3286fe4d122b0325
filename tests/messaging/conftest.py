"""Helpers for the messaging tests: a tenant with Twilio set up, Twilio mocked at HTTP only."""

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import responses
import time_machine
from django.conf import settings
from django_q import tasks as q_tasks
from twilio.request_validator import RequestValidator

from connections.models import MessagingSettings
from snapshots.contacts import ContactCard

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "twilio"
ACCOUNT_SID = "AC00000000000000000000000000000001"
AUTH_TOKEN = "twilio-auth-token-alpha"
MESSAGES_URL = f"{settings.TWILIO_API_URL}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
SENDGRID_URL = f"{settings.SENDGRID_API_URL}/v3/mail/send"
# 13:00 in Auckland: outside quiet hours for a NZ mobile.
NOON_IN_NZ = datetime(2026, 7, 7, 1, 0, tzinfo=UTC)


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def twilio_reply(rsps, name: str, status: int, method=responses.POST, url=MESSAGES_URL):
    rsps.add(method, url, json=fixture(name), status=status)


def sendgrid_accepts(rsps):
    """SendGrid queues every email (202, FACTS.md "Email through Twilio")."""
    rsps.add(responses.POST, SENDGRID_URL, status=202, headers={"X-Message-Id": "sg-queued-1"})


def sent_emails(rsps) -> list[dict]:
    return [json.loads(c.request.body) for c in rsps.calls if c.request.url == SENDGRID_URL]


def post_twilio(client, url: str, name: str, *, auth_token: str = AUTH_TOKEN):
    """POST a status callback fixture, signed as Twilio signs it (FACTS.md "Webhook signature")."""
    params = fixture(name)
    signature = RequestValidator(auth_token).compute_signature(
        settings.PUBLIC_BASE_URL + url, params
    )
    return client.post(url, params, HTTP_X_TWILIO_SIGNATURE=signature)


@pytest.fixture(autouse=True)
def q_sync(monkeypatch):
    """Run django-q2 kicks in-process, so on_commit → task → service is exercised end to end."""
    monkeypatch.setattr(q_tasks.Conf, "SYNC", True)


@pytest.fixture
def noon():
    with time_machine.travel(NOON_IN_NZ, tick=False) as traveller:
        yield traveller


@pytest.fixture
def twilio_a(tenant_a):
    tenant_a.timezone = "Pacific/Auckland"
    tenant_a.save()
    return MessagingSettings.objects.create(
        tenant=tenant_a,
        twilio_account_sid=ACCOUNT_SID,
        twilio_auth_token=AUTH_TOKEN,
        twilio_from_number="+6498880000",
        sendgrid_api_key="SG.secret-key",
        sendgrid_from_email="accounts@alpha.test",
    )


@pytest.fixture
def aroha():
    return ContactCard(
        contact_id="c0a1e4b2-0000-4000-8000-000000000001",
        name="Aroha Ngata",
        first_name="Aroha",
        email="aroha@example.test",
        phones=(
            {"PhoneType": "DEFAULT", "PhoneNumber": ""},
            {"PhoneType": "MOBILE", "PhoneNumber": "123 4567", "PhoneAreaCode": "021",
             "PhoneCountryCode": "64"},
        ),
    )  # fmt: skip


@pytest.fixture
def invoice_context():
    return {
        "invoice_number": "INV-0142",
        "amount_due": Decimal("1234.50"),
        "total": Decimal("1234.50"),
        "currency": "NZD",
        "due_date": date(2026, 7, 7),
        "online_invoice_url": "https://in.xero.com/abc",
        "organisation_name": "Alpha Plumbing",
    }
