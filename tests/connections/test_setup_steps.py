import pytest
from django.utils.timezone import now

from connections.members import invitation_create
from connections.models import MessagingSettings, Tenant, XeroConnection
from connections.selectors_setup import tenant_setup_steps
from tests.xero_api import xero_connection_create


def _done(tenant):
    return {step.key: step.done for step in tenant_setup_steps(tenant=tenant)}


def test_a_new_tenant_has_every_step_left_to_do(owner_client, tenant_a):
    assert _done(tenant_a) == {
        "xero": False,
        "twilio": False,
        "templates": False,
        "test": False,
        "settings": False,
        "members": False,
    }
    page = owner_client.get("/").text
    assert "What’s left to do" in page
    assert "0 of 6 done." in page
    assert '<a href="/welcome/xero/">Connect to Xero</a>' in page
    assert '<a href="/welcome/twilio/">Set up Twilio</a>' in page
    assert '<a href="/welcome/review/">Review messages</a>' in page
    assert '<a href="/welcome/test/">Send a test message</a>' in page
    assert '<a class="button" href="/welcome/">Continue set-up</a>' in page
    assert '<a href="/settings/">Review settings</a>' in page
    assert '<a href="/members/">Invite a colleague</a>' in page


def test_an_active_xero_connection_ticks_off_the_xero_step(owner_client, tenant_a, tenant_b):
    xero_connection_create(tenant=tenant_b)
    assert _done(tenant_a)["xero"] is False
    connection = xero_connection_create(tenant=tenant_a)
    assert _done(tenant_a)["xero"] is True
    XeroConnection.objects.filter(pk=connection.pk).update(
        status=XeroConnection.Status.NEEDS_RECONNECT
    )
    assert _done(tenant_a)["xero"] is False


@pytest.mark.parametrize(
    ("fields", "done"),
    [
        ({"twilio_account_sid": "AC1"}, False),
        ({"twilio_account_sid": "AC1", "twilio_auth_token": "secret"}, False),
        ({"twilio_account_sid": "AC1", "twilio_from_number": "+6421000000"}, False),
        (
            {"twilio_account_sid": "AC1", "twilio_auth_token": "s", "twilio_from_number": "+64"},
            True,
        ),
        (
            {
                "twilio_account_sid": "AC1",
                "twilio_api_key_secret": "s",
                "twilio_messaging_service_sid": "MG1",
            },
            True,
        ),
    ],
)
def test_twilio_counts_as_set_up_with_an_account_a_secret_and_a_sender(tenant_a, fields, done):
    MessagingSettings.objects.create(tenant=tenant_a, **fields)
    assert _done(tenant_a)["twilio"] is done


def test_inviting_someone_ticks_off_the_members_step(owner_client, owner_a, tenant_a):
    invitation_create(tenant=tenant_a, email="sam@alpha.test", invited_by=owner_a)
    assert _done(tenant_a)["members"] is True
    assert "1 of 6 done." in owner_client.get("/").text


def test_staff_see_no_owner_only_step_only_that_their_owner_is_setting_up(staff_client):
    page = staff_client.get("/").text
    assert "An owner of your team is still setting Dunwell up (5 steps left)." in page
    assert "Connect your Xero organisation" not in page
    assert "Send yourself a test message" not in page
    assert '<a href="/settings/">' not in page
    assert "/welcome/" not in page  # the wizard is the owners'


def test_when_every_step_is_done_home_says_all_set(owner_client, staff_a, tenant_a):
    Tenant.objects.filter(pk=tenant_a.pk).update(
        settings_reviewed_at=now(), templates_reviewed_at=now(), test_message_delivered_at=now()
    )
    xero_connection_create(tenant=tenant_a)
    MessagingSettings.objects.create(
        tenant=tenant_a,
        twilio_account_sid="AC1",
        twilio_auth_token="secret",
        twilio_from_number="+6421000000",
    )
    page = owner_client.get("/").text
    assert "All set" in page
    assert "What’s left to do" not in page
