"""One rule for times on every page: the zone of the tenant the request acts for."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from connections.models import Tenant
from messaging.models import InboundMessage
from sandbox.models import SmsMessage, TwilioAccount
from tests.xero_api import xero_connection_create

# 01:05 UTC on 7 December is 14:05 in Auckland (NZDT, +13:00).
MOMENT = datetime(2026, 12, 7, 1, 5, 9, tzinfo=ZoneInfo("UTC"))


@pytest.fixture
def in_auckland(tenant_a):
    Tenant.objects.filter(pk=tenant_a.pk).update(timezone="Pacific/Auckland")
    tenant_a.refresh_from_db()
    return tenant_a


def test_the_connections_page_shows_the_last_call_in_the_tenants_zone(owner_client, in_auckland):
    connection = xero_connection_create(tenant=in_auckland)
    connection.last_success_at = MOMENT
    connection.save(update_fields=["last_success_at"])

    page = owner_client.get("/connections/").text

    assert "7 Dec 2026 14:05" in page
    assert "1:05" not in page


def test_the_inbox_shows_when_a_reply_arrived_in_the_tenants_zone(staff_client, in_auckland):
    InboundMessage.objects.create(
        tenant=in_auckland, message_sid="SM" + "1" * 32, channel="sms", from_phone="+64211234567",
        to="+6498880000", body="PAID INV-0142", intent="paid", received_at=MOMENT,
    )  # fmt: skip

    page = staff_client.get("/messaging/inbox/?show=all").text

    assert "7 Dec 2026 14:05" in page
    assert "01:05" not in page


def test_the_sandbox_phone_shows_texts_in_the_zone_of_the_tenant_looking(owner_client, in_auckland):
    account = TwilioAccount.objects.create(
        account_sid="AC" + "a" * 32, auth_token="b" * 32, from_number="+15005550006"
    )
    SmsMessage.objects.create(
        account=account, sid="SM" + "2" * 32, direction="outbound-api", to="+64211234567",
        from_number="+15005550006", body="Invoice INV-0142 is due.", status="delivered",
        date_created=MOMENT,
    )  # fmt: skip

    page = owner_client.get("/sandbox/twilio/phones/+64211234567/").text

    assert "14:05:09" in page
    assert "01:05:09" not in page
