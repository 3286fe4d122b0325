"""The sandbox is mounted only when asked for, and never silently in production."""

import os
import subprocess
import sys
import time
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
import responses
from django.core.management import call_command

from connections.models import MessagingSettings, Tenant
from sandbox.checks import check_sandbox_not_in_production
from sandbox.console import invoice_approve
from sandbox.models import Invoice, Organisation, OutboundHook

ROOT = Path(__file__).resolve().parents[2]


def _settings(env: dict) -> subprocess.CompletedProcess:
    """Load the settings in a fresh interpreter (no pytest) with exactly this environment."""
    base = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "config.settings"}
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings as s;"
            "print('sandbox' in s.INSTALLED_APPS); print(s.XERO_LOGIN_URL); print(s.XERO_API_URL);"
            "print(s.TWILIO_API_URL); print(s.SENDGRID_API_URL); print(bool(s.XERO_WEBHOOK_KEY))",
        ],
        cwd=ROOT,
        env=base | env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_sandbox_is_off_by_default():
    result = _settings({"DEBUG": "1", "PUBLIC_BASE_URL": "http://127.0.0.1:8000"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[:2] == ["False", "https://login.xero.com"]


def test_with_the_sandbox_on_the_unset_urls_point_at_it():
    result = _settings(
        {
            "DEBUG": "1",
            "DUNWELL_SANDBOX": "1",
            "PUBLIC_BASE_URL": "http://127.0.0.1:8000",
            "TWILIO_API_URL": "http://twilio.elsewhere.test",
        }
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "True",
        "http://127.0.0.1:8000/sandbox/xero/login",
        "http://127.0.0.1:8000/sandbox/xero/api",
        "http://twilio.elsewhere.test",
        "http://127.0.0.1:8000/sandbox/sendgrid",
        "True",
    ]


def test_production_refuses_to_mount_the_sandbox():
    secrets = {"SECRET_KEY": "a-real-looking-secret-" * 3, "FIELD_ENCRYPTION_KEYS": "x"}
    result = _settings({"DEBUG": "0", "DUNWELL_SANDBOX": "1", **secrets})
    assert result.returncode != 0
    assert "DUNWELL_SANDBOX=1 with DEBUG=0" in result.stderr
    forced = _settings(
        {"DEBUG": "0", "DUNWELL_SANDBOX": "1", "DUNWELL_SANDBOX_FORCE": "1", **secrets}
    )
    assert forced.returncode == 0, forced.stderr


def test_the_deploy_check_flags_a_mounted_sandbox(settings):
    settings.DUNWELL_SANDBOX, settings.DUNWELL_SANDBOX_FORCE = True, False
    assert [e.id for e in check_sandbox_not_in_production(None)] == ["dunwell.E801"]
    settings.DUNWELL_SANDBOX_FORCE = True
    assert [e.id for e in check_sandbox_not_in_production(None)] == ["dunwell.W801"]
    settings.DUNWELL_SANDBOX = False
    assert check_sandbox_not_in_production(None) == []


def test_seed_demo_wires_the_demo_tenant_to_the_sandbox_and_prints_the_urls(db):
    out = StringIO()
    call_command("seed_demo", stdout=out)
    call_command("seed_demo", stdout=StringIO())
    assert Organisation.objects.count() == 2
    assert Invoice.objects.count() == 8
    tenant = Tenant.objects.get(slug="demo-bakery")
    messaging = MessagingSettings.objects.get(tenant=tenant)
    assert messaging.twilio_account_sid.startswith("AC")
    assert messaging.twilio_auth_token
    assert messaging.sendgrid_api_key.startswith("SG.")
    segments = tenant.message_templates.exclude(tracking_option_id="", country="")
    assert sorted(t.segment.label for t in segments) == [
        "Australia", "Region: North", "United Kingdom"
    ]  # fmt: skip
    for template in segments:
        template.full_clean()
    assert "http://dunwell.test/sandbox/" in out.getvalue()
    assert "http://dunwell.test/sandbox/twilio/phones/" in out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_webhooks_leave_from_a_background_thread(settings, organisations):
    settings.SANDBOX_DELIVER_IN_BACKGROUND = True
    draft = Invoice.objects.get(organisation=organisations[0], invoice_number="INV-0004")
    with responses.RequestsMock() as mock:
        mock.post("http://dunwell.test/webhooks/xero/", status=200)
        invoice_approve(invoice=draft)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if OutboundHook.objects.filter(status="sent").exists():
                break
            time.sleep(0.05)
    assert OutboundHook.objects.get().status == "sent"
    assert Invoice.objects.get(pk=draft.pk).total == Decimal("320.00")
