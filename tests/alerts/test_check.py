"""The scheduled check: each alert opens once with one email, is not repeated while it lasts,
clears when the condition has gone (with a short "resolved" email), and opens again as a new
incident if the condition comes back. One tenant's trouble never alerts another."""

from datetime import timedelta

import pytest
import responses
from django.conf import settings
from django.core import mail
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from alerts.conditions import findings
from alerts.models import Alert, AlertSettings
from connections.models import MessagingSettings, XeroConnection, XeroGrant
from connections.services import grants_connections_check, grants_keep_alive
from connections.xero import XeroClient, XeroError, XeroReconnectRequired
from dashboard.services import tenant_open
from messaging.models import Message
from messaging.services import messaging_settings_save
from tests.alerts.conftest import (
    FROM_NUMBER,
    WHATSAPP_FROM,
    emails_to,
    every_five_minutes,
    finished,
    twilio_settings,
)
from tests.xero_api import api_url, token_url, xero_connection_create, xero_json

OWNER_A, OWNER_B = "owner@alpha.test", "owner@bravo.test"


def open_alerts(tenant=None) -> list[tuple[str, str]]:
    alerts = Alert.objects.filter(resolved_at__isnull=True)
    if tenant is not None:
        alerts = alerts.filter(tenant=tenant)
    return sorted(alerts.values_list("kind", "subject"))


# --- failure share ---------------------------------------------------------------------------


def test_a_failure_rate_alert_opens_once_then_clears_after_the_hour_and_can_open_again(
    check, noon, tenant_a
):
    finished(tenant_a, "delivered", n=15)
    finished(tenant_a, "undelivered", error_code="30003", n=3)
    finished(tenant_a, "failed", error_code="21211", n=2)

    assert check().opened == 1

    [opened] = emails_to(OWNER_A)
    assert opened.subject == "[Dunwell] Alpha Plumbing: Many messages are failing"
    assert (
        "5 of the 20 messages Dunwell sent or tried to send in the last hour failed or were not "
        "delivered (25%)" in opened.body
    )
    assert "See the send log: http://127.0.0.1:8000/messaging/" in opened.body
    every_five_minutes(noon, check, minutes=55)  # still one alert, still one email
    assert len(mail.outbox) == 1
    assert open_alerts() == [("failure_rate", "")]

    noon.shift(timedelta(minutes=10))  # the failures have left the hour, but only just
    assert check().resolved == 0
    noon.shift(timedelta(minutes=25))  # 30 minutes and more without them: resolved
    assert check().resolved == 1
    assert open_alerts() == []
    resolved = emails_to(OWNER_A)[1]
    assert resolved.subject == "[Dunwell] Alpha Plumbing: resolved — Many messages are failing"
    assert "nothing more to do" in resolved.body

    finished(tenant_a, "failed", error_code="21211", n=5)
    check()
    assert Alert.objects.count() == 2  # a new incident, not the old one reopened
    assert [e.subject for e in emails_to(OWNER_A)][-1].endswith("Many messages are failing")
    assert len(mail.outbox) == 3


def test_a_failure_share_dipping_below_the_threshold_briefly_is_the_same_incident(
    check, noon, tenant_a
):
    finished(tenant_a, "failed", error_code="21211", n=5)
    check()
    every_five_minutes(noon, check, minutes=70)  # out of the hour for 15 minutes: settling
    finished(tenant_a, "failed", error_code="21211", n=5)
    check()
    assert Alert.objects.count() == 1 and open_alerts() == [("failure_rate", "")]
    assert len(mail.outbox) == 1


@pytest.mark.parametrize(
    ("failed", "delivered", "limits", "alerted"),
    [
        (4, 0, {}, False),  # all failed, but fewer than the minimum of 5
        (5, 30, {}, False),  # 14%: under 20%
        (5, 20, {}, True),  # exactly 20%
        (2, 15, {"failure_minimum": 2, "failure_percent": 10}, True),  # the tenant's own limits
        (5, 20, {"failure_percent": 30}, False),
    ],
)
def test_the_failure_thresholds_are_the_tenants(
    check, noon, tenant_a, failed, delivered, limits, alerted
):
    AlertSettings.objects.create(tenant=tenant_a, **limits)
    finished(tenant_a, "failed", error_code="21211", n=failed)
    finished(tenant_a, "delivered", n=delivered)
    check()
    assert bool(open_alerts()) is alerted
    assert len(emails_to(OWNER_A)) == int(alerted)


def test_old_failures_skipped_and_cancelled_messages_do_not_count(check, noon, tenant_a):
    finished(tenant_a, "failed", error_code="21211", n=5, minutes_ago=90)
    finished(tenant_a, "skipped", n=10)
    finished(tenant_a, "cancelled", n=10)
    check()
    assert open_alerts() == []


def test_failing_staff_test_sends_raise_no_alert(check, noon, tenant_a):
    finished(tenant_a, "delivered", n=15)
    finished(tenant_a, "failed", error_code="21211", n=5)
    Message.objects.filter(status="failed").update(is_test=True)

    check()

    assert open_alerts() == []


def test_one_tenants_failures_never_alert_another(check, noon, tenant_a, tenant_b, owner_client):
    finished(tenant_b, "failed", error_code="21211", n=6)
    finished(tenant_a, "delivered", n=6)
    check()
    assert open_alerts(tenant_b) == [("failure_rate", "")] and open_alerts(tenant_a) == []
    assert emails_to(OWNER_A) == [] and len(emails_to(OWNER_B)) == 1
    assert "Many messages are failing" not in owner_client.get("/dashboard/").text


def test_an_inactive_tenant_gets_no_alerts(check, noon, tenant_a):
    tenant_a.is_active = False
    tenant_a.save()
    finished(tenant_a, "failed", error_code="21211", n=6)
    check()
    assert open_alerts() == [] and mail.outbox == []


# --- Twilio sender and credentials ---------------------------------------------------------


def test_a_sender_twilio_refuses_is_alerted_per_sender_and_cleared_by_new_settings(
    check, noon, tenant_a
):
    twilio_settings(tenant_a)
    noon.shift(timedelta(minutes=30))
    finished(tenant_a, "undelivered", error_code="30007", n=2)
    finished(tenant_a, "delivered", n=40)
    check()
    assert open_alerts() == []  # two refusals: under the default of three

    finished(tenant_a, "undelivered", error_code="30007")
    finished(tenant_a, "failed", error_code="21606", channel="whatsapp", n=3)
    finished(tenant_a, "delivered", channel="whatsapp", n=40)
    check()
    assert open_alerts() == [("twilio_sender", FROM_NUMBER), ("twilio_sender", WHATSAPP_FROM)]
    subjects = sorted(email.subject for email in emails_to(OWNER_A))
    assert subjects == [
        f"[Dunwell] Alpha Plumbing: Twilio refuses messages from {FROM_NUMBER}",
        f"[Dunwell] Alpha Plumbing: Twilio refuses messages from {WHATSAPP_FROM}",
    ]
    sms = next(e for e in emails_to(OWNER_A) if e.subject.endswith(FROM_NUMBER))
    assert "30007 (3×): The carrier filtered the message (spam filtering)." in sms.body
    assert "Check the Twilio settings: http://127.0.0.1:8000/messaging/settings/" in sms.body
    check()
    assert len(mail.outbox) == 2

    noon.shift(timedelta(minutes=1))
    messaging_settings_save(tenant=tenant_a, values={"twilio_from_number": "+6498889999"})
    check()  # the refusals were of the settings just replaced: no need to wait out the hour
    assert open_alerts() == []
    assert len(mail.outbox) == 4


def test_refused_credentials_are_alerted_once_and_cleared_by_working_ones(check, noon, tenant_a):
    twilio_settings(tenant_a)
    noon.shift(timedelta(minutes=30))
    finished(tenant_a, "failed", error_code="20003")
    check()
    check()
    assert open_alerts() == [("twilio_auth", "")]
    [email] = emails_to(OWNER_A)
    assert email.subject == "[Dunwell] Alpha Plumbing: Twilio refuses Dunwell's credentials"
    assert "Enter the Twilio credentials: http://127.0.0.1:8000/messaging/settings/" in email.body

    noon.shift(timedelta(minutes=1))
    messaging_settings_save(tenant=tenant_a, values={"twilio_auth_token": "a-working-token"})
    check()
    assert open_alerts() == []

    noon.shift(timedelta(minutes=10))
    finished(tenant_a, "failed", error_code="20003", minutes_ago=1)  # refused again
    check()
    assert open_alerts() == [("twilio_auth", "")]
    assert Alert.objects.count() == 2 and len(emails_to(OWNER_A)) == 3


# --- Xero: reconnect, silent webhooks, call budget -----------------------------------------


@pytest.fixture
def organisation(tenant_a, noon):
    return xero_connection_create(tenant=tenant_a, expires_in=timedelta(days=3650))


def _forbidden(xero, connection):
    xero.get(
        api_url("Organisation"), status=403, json=xero_json("error__authentication_unsuccessful")
    )
    with pytest.raises(XeroReconnectRequired):
        XeroClient(connection).get_organisation()


def _revoked(xero, connection):
    XeroGrant.objects.update(last_refreshed_at=timezone.now() - timedelta(days=30))
    xero.post(token_url(), status=400, json=xero_json("token__invalid_grant"))
    grants_keep_alive()


def _gone_from_connections(xero, connection):
    xero.get(f"{settings.XERO_API_URL}/connections", json=xero_json("connections__none"))
    grants_connections_check()


@pytest.mark.parametrize("cause", [_forbidden, _revoked, _gone_from_connections])
def test_a_connection_xero_refuses_asks_for_reconnecting_until_it_is(
    check, noon, providers, organisation, cause
):
    cause(providers, organisation)
    check()
    check()
    assert open_alerts() == [("reconnect", organisation.xero_tenant_id)]
    [email] = emails_to(OWNER_A)
    assert email.subject == "[Dunwell] Alpha Plumbing: Reconnect Xero for Alpha Plumbing (NZ)"
    assert "Reconnect Xero: http://127.0.0.1:8000/connections/" in email.body

    # An owner reconnects (the Connect-to-Xero flow itself is tested in tests/connections).
    XeroGrant.objects.update(status=XeroGrant.Status.ACTIVE)
    XeroConnection.objects.update(status=XeroConnection.Status.ACTIVE)
    check()
    assert open_alerts() == []
    assert emails_to(OWNER_A)[1].subject.startswith("[Dunwell] Alpha Plumbing: resolved")

    noon.shift(timedelta(days=1))
    cause(providers, organisation)  # the same trouble again, later: a new incident
    check()
    assert Alert.objects.filter(kind="reconnect").count() == 2
    assert len(emails_to(OWNER_A)) == 3


def _day_limit_left(xero, connection, remaining: int):
    xero.upsert(
        responses.GET,
        api_url("Organisation"),
        json=xero_json("organisation__nz"),
        headers={"X-DayLimit-Remaining": str(remaining), "X-MinLimit-Remaining": "59"},
    )
    XeroClient(connection).get_organisation()


def test_a_nearly_spent_day_budget_is_alerted_and_cleared_when_calls_free_up(
    check, noon, providers, organisation
):
    _day_limit_left(providers, organisation, 1100)  # 78% used: under 80%
    check()
    assert open_alerts() == []
    _day_limit_left(providers, organisation, 900)
    check()
    check()
    assert open_alerts() == [("api_budget", organisation.xero_tenant_id)]
    [email] = emails_to(OWNER_A)
    assert "Xero API calls for Alpha Plumbing (NZ) nearly used up" in email.subject
    assert "has 900 of its 5000 daily Xero API calls left (82% used" in email.body

    noon.shift(timedelta(hours=2))
    _day_limit_left(providers, organisation, 3000)
    check()  # below the threshold: settling
    noon.shift(timedelta(minutes=30))
    check()
    assert open_alerts() == []


def test_a_budget_figure_from_yesterday_says_nothing_about_today(
    check, noon, providers, organisation
):
    AlertSettings.objects.create(tenant=organisation.tenant, api_budget_percent=50)
    _day_limit_left(providers, organisation, 100)
    noon.shift(timedelta(hours=25))
    check()
    assert open_alerts() == []


def test_a_day_limit_429_counts_as_spent(check, noon, providers, organisation):
    providers.get(
        api_url("Organisation"),
        status=429,
        json=xero_json("error__rate_limited"),
        headers={"Retry-After": "3600", "X-Rate-Limit-Problem": "day"},
    )
    with pytest.raises(XeroError, match="rate limited"):
        XeroClient(organisation).get_organisation()
    check()
    assert open_alerts() == [("api_budget", organisation.xero_tenant_id)]


# --- texts, failures to email, the constraint ----------------------------------------------


def test_an_alert_is_texted_once_to_the_alert_phone_outside_quiet_hours(
    check,
    noon,
    providers,
    organisation,
):
    twilio_settings(organisation.tenant)
    AlertSettings.objects.create(tenant=organisation.tenant, sms_phone="+64211234567")
    sent = providers.post(
        f"{settings.TWILIO_API_URL}/2010-04-01/Accounts/AC00000000000000000000000000000001/"
        "Messages.json",
        status=201,
        json={"sid": "SM" + "1" * 32, "status": "queued"},
    )
    noon.move_to("2026-07-07T10:30:00+00:00")  # 22:30 in Auckland: quiet hours
    _forbidden(providers, organisation)
    check()
    assert sent.call_count == 0 and len(emails_to(OWNER_A)) == 1  # the email does not wait

    noon.move_to("2026-07-07T20:05:00+00:00")  # 08:05
    check()
    check()
    assert sent.call_count == 1
    body = sent.calls[0].request.body
    assert "To=%2B64211234567" in body
    assert "Reconnect+Xero+for+Alpha+Plumbing+%28NZ%29" in body
    assert len(mail.outbox) == 1


def test_an_email_the_mail_server_refused_is_sent_at_the_next_check(check, noon, tenant_a, mailer):
    finished(tenant_a, "failed", error_code="21211", n=5)
    mailer.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": 9, "timeout": 2},
        }
    }
    check()
    assert Alert.objects.get().notified_at is None
    mailer.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    check()
    check()
    assert len(emails_to(OWNER_A)) == 1


def test_without_a_mail_server_alerts_are_still_raised_and_listed(check, noon, tenant_a, mailer):
    del mailer.MAILERS
    finished(tenant_a, "failed", error_code="21211", n=5)
    check()
    assert open_alerts() == [("failure_rate", "")] and mail.outbox == []


def test_only_one_alert_per_subject_can_be_open(tenant_a):
    fields = {
        "tenant": tenant_a,
        "kind": "failure_rate",
        "subject": "",
        "title": "t",
        "detail": "d",
    }
    first = Alert.objects.create(**fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        Alert.objects.create(**fields)
    Alert.objects.filter(pk=first.pk).update(resolved_at=timezone.now())
    Alert.objects.create(**fields)  # a new incident once the old one is resolved


def _troubled_tenant(n: int):
    tenant, _ = tenant_open(name=f"Tenant {n}", owner_email=f"owner{n}@example.test")
    twilio_settings(tenant)
    MessagingSettings.objects.filter(tenant=tenant).update(
        updated_at=timezone.now() - timedelta(hours=1)
    )
    connection = xero_connection_create(tenant=tenant, name=f"Organisation {n}")
    XeroConnection.objects.filter(pk=connection.pk).update(
        day_limit_remaining=10, last_success_at=timezone.now()
    )
    other = xero_connection_create(tenant=tenant, name=f"Gone {n}", xero_tenant_id=f"gone-{n}")
    XeroConnection.objects.filter(pk=other.pk).update(status="needs_reconnect")
    finished(tenant, "undelivered", error_code="30007", n=3, minutes_ago=1)
    finished(tenant, "failed", error_code="20003", n=3, minutes_ago=1)
    return tenant


def test_the_check_reads_every_tenant_in_the_same_few_queries(db, noon):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            found = findings()
        return len(captured), {finding.kind for finding in found}

    _troubled_tenant(1)
    one, kinds = queries()
    assert kinds == {"reconnect", "failure_rate", "twilio_sender", "twilio_auth", "api_budget"}
    for n in range(2, 6):
        _troubled_tenant(n)
    assert queries()[0] == one <= 8


def test_names_too_long_or_on_two_lines_still_make_one_alert_and_one_email(check, noon, tenant_a):
    organisation = xero_connection_create(tenant=tenant_a, name="Very\nLong " + "N" * 190)
    XeroConnection.objects.filter(pk=organisation.pk).update(status="needs_reconnect")
    check()
    check()
    [alert] = Alert.objects.all()
    assert len(alert.title) == 200
    [email] = emails_to(OWNER_A)
    assert "\n" not in email.subject and email.subject.startswith("[Dunwell] Alpha Plumbing: Re")
