"""connections/ (what is connected, never a secret) and contacts/needing-attention/."""

from connections.models import MessagingSettings, XeroGrant
from messaging.models import OptOut
from tests.api.conftest import message_create
from tests.xero_api import xero_connection_create


def test_connections_lists_the_tenants_organisations_and_channel_readiness(api, tenant_a, tenant_b):
    ours = xero_connection_create(tenant=tenant_a, name="Alpha Plumbing (NZ)")
    broken = xero_connection_create(tenant=tenant_a, name="Alpha Plumbing (AU)")
    XeroGrant.objects.filter(pk=broken.grant_id).update(status="needs_reconnect")
    xero_connection_create(tenant=tenant_b, name="Bravo Bakery")
    MessagingSettings.objects.create(
        tenant=tenant_a, twilio_account_sid="AC1", twilio_auth_token="secret",
        twilio_from_number="+6498880000", sendgrid_api_key="SG.key",
    )  # fmt: skip
    body = api.get("/api/v1/connections/").json()
    assert [(o["name"], o["needs_reconnect"]) for o in body["xero_organisations"]] == [
        ("Alpha Plumbing (AU)", True),
        ("Alpha Plumbing (NZ)", False),
    ]
    assert body["xero_organisations"][1]["xero_tenant_id"] == ours.xero_tenant_id
    # SendGrid has a key but no From address, WhatsApp no sender: not ready.
    assert body["messaging_configured"] == {"sms": True, "whatsapp": False, "email": False}


def test_a_tenant_without_messaging_settings_has_nothing_configured(api):
    body = api.get("/api/v1/connections/").json()
    assert body == {
        "xero_organisations": [],
        "messaging_configured": {"sms": False, "whatsapp": False, "email": False},
    }


def test_contacts_needing_attention_lists_missing_phones_and_opt_outs(api, tenant_a, tenant_b):
    no_phone = message_create(
        tenant_a, contact_id="c-9", contact_name="Hemi Walker", status="skipped",
        error_code="no_phone", status_reason="No mobile or default phone in Xero.", recipient="",
    )  # fmt: skip
    message_create(tenant_a, contact_id="c-3", contact_name="Mere Smith", recipient="+64215550003")
    OptOut.objects.create(tenant=tenant_a, phone="+64215550003", source="STOP")
    OptOut.objects.create(tenant=tenant_b, phone="+64215550004", source="STOP")
    body = api.get("/api/v1/contacts/needing-attention/").json()
    assert [(c["contact_name"], c["problem"], c["message_id"]) for c in body["needing_phone"]] == [
        ("Hemi Walker", "no_phone", no_phone.pk)
    ]
    assert [(o["phone"], o["contact_name"], o["source"]) for o in body["opted_out"]] == [
        ("+64215550003", "Mere Smith", "STOP")
    ]
