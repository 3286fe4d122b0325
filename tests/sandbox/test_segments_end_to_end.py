"""Segments end to end over real HTTP: the sandbox Xero (tracking categories, contacts in New
Zealand, Australia and the United Kingdom) and the sandbox Twilio serve Dunwell from Django's
live server. Templates for Region: North, Australia and the United Kingdom are written in the
editor; invoices approved in the sandbox console reach each contact with the right one."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.conf import settings as django_settings
from django.utils import timezone

from billing_events.services import connection_initial_import, connection_poll
from billing_events.tasks import events_process_task
from connections.models import MessagingSettings, XeroConnection, XeroGrant
from messaging.models import Message
from messaging.services import message_dispatch
from sandbox import console
from sandbox.hooks import hooks_deliver_due
from sandbox.models import Contact, SmsMessage, TrackingOption, TwilioAccount
from snapshots.models import XeroTrackingOption
from tests.sandbox.conftest import connect

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def live_sandbox(sandbox_settings, live_server):
    """Dunwell's Xero and Twilio URLs pointed at the sandbox on the live server."""
    base = live_server.url
    sandbox_settings.PUBLIC_BASE_URL = base
    sandbox_settings.XERO_IDENTITY_URL = f"{base}/sandbox/xero/identity"
    sandbox_settings.XERO_API_URL = f"{base}/sandbox/xero/api"
    sandbox_settings.TWILIO_API_URL = f"{base}/sandbox/twilio"
    return base


@pytest.fixture
def kauri(client, live_sandbox, organisations, tenant_a):
    """Kauri Bakery (NZ) connected to tenant A with the sandbox's own tokens, imported, polled
    once (which fetches its tracking categories and contact groups).

    Connected two seconds after the seed: If-Modified-Since has whole seconds, so a poll from
    the second of the seed would list the seeded paid invoice again and announce its payment,
    which was made today (the import treats only earlier days as the past)."""
    with time_machine.travel(timezone.now() + timedelta(seconds=2), tick=True):
        yield _kauri_connect(client, organisations, tenant_a)


def _kauri_connect(client, organisations, tenant_a):
    tokens = connect(client, organisations)
    organisation = organisations[0]
    grant = XeroGrant.objects.create(
        tenant=tenant_a,
        access_token=tokens["access_token"],
        refresh_token=tokens["refresh_token"],
        expires_at=timezone.now() + timedelta(seconds=tokens["expires_in"]),
        scopes=django_settings.XERO_SCOPES,
    )
    connection = XeroConnection.objects.create(
        tenant=tenant_a, grant=grant, xero_tenant_id=str(organisation.tenant_id),
        connection_id=str(organisation.connection.connection_id), name=organisation.name,
        country_code="NZ", timezone="Pacific/Auckland", currency="NZD",
    )  # fmt: skip
    connection_initial_import(connection=connection)
    connection_poll(connection=connection)
    return connection


@pytest.fixture
def twilio_for_tenant_a(tenant_a, twilio_account: TwilioAccount):
    # No quiet hours: New Zealand, Australia and the UK are never all awake at once.
    tenant_a.quiet_hours_start = tenant_a.quiet_hours_end = "00:00"
    tenant_a.save()
    return MessagingSettings.objects.create(
        tenant=tenant_a,
        twilio_account_sid=twilio_account.account_sid,
        twilio_auth_token=twilio_account.auth_token,
        twilio_from_number=twilio_account.from_number,
    )


def _write_template(owner_client, applies_to: str, body: str) -> None:
    response = owner_client.post(
        "/messaging/templates/new/",
        {"kind": "invoice_issued", "channel": "sms", "applies_to": applies_to, "body": body,
         "is_active": "on"},
    )  # fmt: skip
    assert response.status_code == 302, response.text


def _approve(contact_name: str, tracking: TrackingOption | None = None) -> str:
    contact = Contact.objects.get(name=contact_name)
    invoice = console.invoice_create(
        contact=contact, total=Decimal("120.00"), approve=True, tracking_option=tracking
    )
    return invoice.invoice_number


def _texts_to(number: str) -> list[str]:
    return list(SmsMessage.objects.filter(to=number).values_list("body", flat=True))


def test_each_contact_gets_the_template_of_its_tracking_option_or_country(
    kauri, twilio_for_tenant_a, owner_client
):
    synced = dict(XeroTrackingOption.objects.values_list("option_name", "status"))
    assert synced == {"North": "ACTIVE", "South": "ACTIVE", "Central": "ARCHIVED"}
    north = TrackingOption.objects.get(name="North", category__organisation__name__startswith="K")
    _write_template(owner_client, f"tracking:{north.option_id}", "North run: {{ invoice_number }}")
    _write_template(owner_client, "country:AU", "G'day {{ first_name }}: {{ invoice_number }}")
    _write_template(owner_client, "country:GB", "Hello from Kauri: {{ invoice_number }}")

    numbers = {
        "aroha": _approve("Aroha Ngata", tracking=north),  # NZ address, North line items
        "koala": _approve("Koala Cafe Pty"),  # street address in Sydney
        "thistle": _approve("Thistle and Rose Ltd"),  # street address in the UK
        "chloe": _approve("Chloe Wong"),  # no address: New Zealand by her phone
    }
    hooks_deliver_due()  # the sandbox's signed webhooks, to the live server
    events_process_task(kauri.xero_tenant_id)
    for message in Message.objects.filter(status=Message.Status.PENDING):
        message_dispatch(message=message)

    assert _texts_to("+64215550101") == [f"North run: {numbers['aroha']}"]
    assert _texts_to("+61412555201") == [f"G'day Koala: {numbers['koala']}"]
    assert _texts_to("+447400123456") == [f"Hello from Kauri: {numbers['thistle']}"]
    [chloe] = _texts_to("+64225550103")
    assert numbers["chloe"] in chloe and not chloe.startswith(("North", "G'day", "Hello"))

    why = owner_client.get(
        "/messaging/templates/why/", {"invoice": numbers["koala"], "kind": "invoice_issued"}
    ).text
    assert "Koala Cafe Pty is in Australia (from the address)" in why
