"""Where alerts are seen: the dashboard (with what to do), the owners' alert settings, the admin
for operators, and /healthz in aggregate."""

import pytest
from django.contrib.auth import get_user_model

from alerts.models import Alert, AlertSettings
from tests.a11y import assert_accessible
from tests.alerts.conftest import finished
from tests.xero_api import xero_connection_create


def _alert(tenant, kind="failure_rate", subject="", title="Many messages are failing", **fields):
    return Alert.objects.create(
        tenant=tenant, kind=kind, subject=subject, title=title,
        detail=fields.pop("detail", f"What happened to {tenant.name}, and what to do."), **fields,
    )  # fmt: skip


@pytest.fixture
def raised(check, noon, tenant_a, tenant_b):
    """Tenant A: Xero needs reconnecting and messages are failing; tenant B: Twilio refuses."""
    connection = xero_connection_create(tenant=tenant_a)
    connection.status = "needs_reconnect"
    connection.save()
    finished(tenant_a, "failed", error_code="21211", n=5)
    _alert(tenant_b, kind="twilio_auth", title="Twilio refuses Bravo Quokka credentials")
    check()


def test_the_dashboard_lists_open_alerts_with_what_to_do(owner_client, raised):
    html = owner_client.get("/dashboard/").text
    section = html.split('data-testid="open-alerts"', 1)[1].split("</section>", 1)[0]
    assert "Needs attention (2)" in section
    assert "Reconnect Xero for Alpha Plumbing (NZ)" in section
    assert "Many messages are failing" in section
    assert "5 of the 5 messages Dunwell sent or tried to send in the last hour failed" in section
    assert '<a href="/connections/">Reconnect Xero</a>' in section
    assert '<a href="/messaging/">See the send log</a>' in section
    assert "Bravo Quokka" not in html
    assert_accessible(html)


def test_staff_see_the_alerts_and_who_can_put_them_right(staff_client, raised):
    html = staff_client.get("/dashboard/").text
    assert "Reconnect Xero for Alpha Plumbing (NZ)" in html
    assert '<a href="/connections/">' not in html  # an owner-only page
    assert "An owner of your team can put this right." in html
    assert '<a href="/messaging/">See the send log</a>' in html


def test_resolved_alerts_leave_the_dashboard(owner_client, tenant_a):
    _alert(tenant_a, resolved_at="2026-07-07T00:00:00Z")
    assert 'data-testid="open-alerts"' not in owner_client.get("/dashboard/").text


def test_an_owner_changes_the_thresholds_and_the_alert_phone(owner_client, tenant_a):
    page = owner_client.get("/settings/alerts/")
    assert page.status_code == 200
    assert 'name="failure_percent" value="20"' in page.text  # the defaults, before any save
    assert_accessible(page.text)

    response = owner_client.post(
        "/settings/alerts/",
        {
            "webhook_silence_hours": "12",
            "failure_percent": "25",
            "failure_minimum": "3",
            "sender_error_count": "5",
            "api_budget_percent": "90",
            "sms_phone": "021 123 4567",
            "weekly_summary": "",
        },
        follow=True,
    )

    assert "Alert settings saved." in response.text
    saved = AlertSettings.objects.get(tenant=tenant_a)
    assert (saved.webhook_silence_hours, saved.failure_percent, saved.failure_minimum) == (
        12,
        25,
        3,
    )
    assert (saved.sender_error_count, saved.api_budget_percent) == (5, 90)
    assert saved.sms_phone == "+64211234567"  # read with the tenant's country, stored E.164
    assert saved.weekly_summary is False


def test_mistakes_in_the_alert_settings_are_explained(owner_client, tenant_a):
    response = owner_client.post(
        "/settings/alerts/",
        {"webhook_silence_hours": "0", "failure_percent": "150", "failure_minimum": "1",
         "sender_error_count": "3", "api_budget_percent": "80", "sms_phone": "call me"},
    )  # fmt: skip
    assert response.status_code == 200
    assert "Some settings need fixing" in response.text
    assert "“call me” is not a mobile number we can text." in response.text
    assert "Ensure this value is less than or equal to 100." in response.text
    assert "Ensure this value is greater than or equal to 1." in response.text
    assert not AlertSettings.objects.exists()
    assert_accessible(response.text)


def test_staff_cannot_change_the_alert_settings(staff_client):
    assert staff_client.get("/settings/alerts/").status_code == 403
    assert staff_client.post("/settings/alerts/", {"failure_percent": "99"}).status_code == 403
    assert not AlertSettings.objects.exists()


@pytest.fixture
def operator_client(client, db):
    operator = get_user_model().objects.create_superuser("ops@dunwell.test", "ops@dunwell.test")
    client.force_login(operator)
    return client


def test_operators_see_every_tenants_open_alerts_and_can_filter_them(
    operator_client, tenant_a, tenant_b
):
    _alert(tenant_a, title="Alpha failing")
    _alert(tenant_b, kind="twilio_auth", title="Bravo credentials refused")
    _alert(tenant_a, kind="api_budget", subject="org", title="Alpha old budget",
           resolved_at="2026-07-07T00:00:00Z")  # fmt: skip
    changelist = "/admin/alerts/alert/"

    default = operator_client.get(changelist).text
    assert "Alpha failing" in default and "Bravo credentials refused" in default
    assert "Alpha old budget" not in default  # open ones, unless asked

    resolved = operator_client.get(changelist + "?state=resolved").text
    assert "Alpha old budget" in resolved and "Alpha failing" not in resolved
    everything = operator_client.get(changelist + "?state=all").text
    assert all(title in everything for title in ("Alpha failing", "Alpha old budget"))
    by_kind = operator_client.get(changelist + "?kind__exact=twilio_auth").text
    assert "Bravo credentials refused" in by_kind and "Alpha failing" not in by_kind
    assert operator_client.get(changelist + "add/").status_code == 403


def test_healthz_counts_open_alerts_by_kind_and_names_nobody(client, tenant_a, tenant_b):
    _alert(tenant_a, title="Alpha failing")
    _alert(tenant_b, title="Bravo failing")
    _alert(tenant_b, kind="reconnect", subject="b-org", title="Reconnect Bravo Quokka")
    _alert(tenant_a, kind="api_budget", subject="a-org", title="old",
           resolved_at="2026-07-07T00:00:00Z")  # fmt: skip

    response = client.get("/healthz")

    assert response.status_code == 200  # alerts are for people; the service itself is up
    body = response.json()
    assert body["open_alerts"] == {
        "reconnect": 1, "webhooks_silent": 0, "failure_rate": 2, "twilio_sender": 0,
        "twilio_auth": 0, "api_budget": 0,
    }  # fmt: skip
    assert body["status"] == "ok" and body["database"] == "ok"
    for name in ("Alpha", "Bravo", "b-org", tenant_a.slug):
        assert name not in response.text
