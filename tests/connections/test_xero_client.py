"""XeroClient: tokens, errors, limits and paging, seen from the HTTP boundary."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import requests
import responses
from django.utils import timezone
from responses import matchers

from connections.models import XeroConnection, XeroGrant
from connections.xero import XeroClient, XeroError, XeroReconnectRequired
from connections.xero_format import parse_money, parse_xero_date
from tests.http_server import http_server
from tests.xero_api import (
    ACCESS_TOKEN,
    REFRESH_TOKEN,
    api_url,
    token_url,
    xero_connection_create,
    xero_json,
)

REFRESHED = xero_json("token__refreshed")


@pytest.fixture
def xero():
    with responses.RequestsMock() as mock:
        yield mock


class Clock(list):
    """An injected sleep that records each wait and lets that much (frozen) time pass."""

    def __init__(self, time_machine):
        super().__init__()
        time_machine.move_to(timezone.now(), tick=False)
        self.time_machine = time_machine

    def __call__(self, seconds):
        self.append(seconds)
        self.time_machine.shift(seconds)


@pytest.fixture
def sleeps(time_machine):
    return Clock(time_machine)


@pytest.fixture
def connection(tenant_a):
    return xero_connection_create(tenant=tenant_a)


def _client(connection, sleeps):
    return XeroClient(connection, sleep=sleeps)


def test_each_call_carries_the_token_the_organisation_and_json(xero, connection, sleeps):
    xero.get(
        api_url("Organisation"),
        json=xero_json("organisation__nz"),
        match=[
            matchers.header_matcher(
                {
                    "Authorization": f"Bearer {ACCESS_TOKEN}",
                    "Xero-tenant-id": connection.xero_tenant_id,
                    "Accept": "application/json",
                }
            )
        ],
        headers={"X-MinLimit-Remaining": "58", "X-DayLimit-Remaining": "4990"},
    )
    organisation = _client(connection, sleeps).get_organisation()
    assert organisation["Timezone"] == "NEWZEALANDSTANDARDTIME"
    connection.refresh_from_db()
    assert (connection.min_limit_remaining, connection.day_limit_remaining) == (58, 4990)
    assert connection.last_success_at is not None


def test_fetches_one_after_another_share_one_connection_to_xero(connection, sleeps, settings):
    def xero_api(method, path):
        return 200, xero_json("invoices__one")

    with http_server(xero_api) as server:
        settings.XERO_API_URL = server.url
        for _ in range(3):  # as three batches do, each with a client of its own
            assert len(_client(connection, sleeps).get_invoices(ids=["a-1"])) == 1
    assert len(server.requests) == 3
    assert server.connections == 1


def test_a_token_about_to_expire_is_refreshed_before_the_call(xero, tenant_a, sleeps):
    connection = xero_connection_create(tenant=tenant_a, expires_in=timedelta(minutes=4))
    token = xero.post(
        token_url(),
        json=REFRESHED,
        match=[
            matchers.urlencoded_params_matcher(
                {"grant_type": "refresh_token", "refresh_token": REFRESH_TOKEN}
            )
        ],
    )
    xero.get(
        api_url("Organisation"),
        json=xero_json("organisation__nz"),
        match=[matchers.header_matcher({"Authorization": f"Bearer {REFRESHED['access_token']}"})],
    )
    _client(connection, sleeps).get_organisation()
    assert token.call_count == 1
    grant = XeroGrant.objects.get()
    assert grant.refresh_token == REFRESHED["refresh_token"]
    assert grant.expires_at > timezone.now() + timedelta(minutes=29)


def test_an_expired_token_is_refreshed_once_and_the_call_retried(xero, connection, sleeps):
    rejected = xero.get(
        api_url("Organisation"),
        status=401,
        json=xero_json("error__token_expired"),
        match=[matchers.header_matcher({"Authorization": f"Bearer {ACCESS_TOKEN}"})],
    )
    organisation = xero.get(
        api_url("Organisation"),
        json=xero_json("organisation__nz"),
        match=[matchers.header_matcher({"Authorization": f"Bearer {REFRESHED['access_token']}"})],
    )
    token = xero.post(token_url(), json=REFRESHED)
    assert _client(connection, sleeps).get_organisation()["CountryCode"] == "NZ"
    assert (rejected.call_count, token.call_count, organisation.call_count) == (1, 1, 1)


def test_a_revoked_grant_asks_the_owner_to_reconnect(xero, connection, sleeps, client, owner_a):
    xero.get(api_url("Organisation"), status=401, json=xero_json("error__token_expired"))
    xero.post(token_url(), status=400, json=xero_json("token__invalid_grant"))
    with pytest.raises(XeroReconnectRequired):
        _client(connection, sleeps).get_organisation()
    assert XeroGrant.objects.get().status == XeroGrant.Status.NEEDS_RECONNECT

    client.force_login(owner_a)
    home = client.get("/")
    assert b"Xero stopped accepting Dunwell for Alpha Plumbing (NZ)" in home.content
    page = client.get("/connections/")
    assert b"Needs reconnecting" in page.content and b">Reconnect</a>" in page.content
    # Nothing more is sent to Xero with a dead grant.
    with pytest.raises(XeroReconnectRequired):
        _client(XeroConnection.objects.get(), sleeps).get_organisation()


def test_staff_do_not_see_the_reconnect_banner(connection, staff_client):
    XeroGrant.objects.update(status=XeroGrant.Status.NEEDS_RECONNECT)
    assert b"Xero stopped accepting" not in staff_client.get("/").content


def test_an_organisation_that_removed_the_app_needs_reconnecting(xero, connection, sleeps):
    xero.get(
        api_url("Organisation"), status=403, json=xero_json("error__authentication_unsuccessful")
    )
    with pytest.raises(XeroReconnectRequired) as raised:
        _client(connection, sleeps).get_organisation()
    assert raised.value.status == 403 and raised.value.permanent
    connection.refresh_from_db()
    assert connection.status == XeroConnection.Status.NEEDS_RECONNECT


def test_a_429_waits_for_retry_after_and_succeeds(xero, connection, sleeps):
    xero.get(
        api_url("Organisation"),
        status=429,
        json=xero_json("error__rate_limited"),
        headers={"Retry-After": "7", "X-Rate-Limit-Problem": "minute"},
    )
    xero.get(api_url("Organisation"), json=xero_json("organisation__nz"))
    assert _client(connection, sleeps).get_organisation()["Name"] == "Alpha Plumbing (NZ)"
    assert sleeps == [7.0]


def test_after_a_429_other_workers_for_the_organisation_hold_off_too(xero, connection, sleeps):
    xero.get(
        api_url("Organisation"),
        status=429,
        headers={"Retry-After": "3600", "X-Rate-Limit-Problem": "day"},
    )
    with pytest.raises(XeroError):
        _client(connection, sleeps).get_organisation()
    with pytest.raises(XeroError) as raised:
        _client(connection, sleeps).get_contact_groups()
    assert raised.value.status == 429 and raised.value.retry_after > 3500
    assert len(xero.calls) == 1, "the second worker did not call Xero"


def test_a_spent_daily_limit_fails_fast_with_when_to_try_again(xero, connection, sleeps):
    xero.get(
        api_url("Organisation"),
        status=429,
        headers={"Retry-After": "3600", "X-Rate-Limit-Problem": "day"},
    )
    with pytest.raises(XeroError) as raised:
        _client(connection, sleeps).get_organisation()
    assert raised.value.status == 429 and not raised.value.permanent
    assert raised.value.retry_after == 3600 and sleeps == []


def test_server_errors_are_retried_with_backoff_then_reported(xero, connection, sleeps, caplog):
    failing = xero.get(
        api_url("Organisation"), status=503, headers={"Xero-Correlation-Id": "corr-503-abc"}
    )
    with pytest.raises(XeroError) as raised:
        _client(connection, sleeps).get_organisation()
    assert failing.call_count == 4 and len(sleeps) == 3
    assert all(0 <= delay <= cap for delay, cap in zip(sleeps, (1, 2, 4), strict=True))
    assert raised.value.status == 503 and not raised.value.permanent
    assert raised.value.correlation_id == "corr-503-abc"
    assert "correlation_id=corr-503-abc" in caplog.text


def test_a_timeout_is_retried(xero, connection, sleeps):
    xero.get(api_url("Organisation"), body=requests.ReadTimeout("slow"))
    xero.get(api_url("Organisation"), json=xero_json("organisation__nz"))
    assert _client(connection, sleeps).get_organisation()["CountryCode"] == "NZ"
    assert len(sleeps) == 1


def test_a_bad_request_is_a_permanent_error(xero, connection, sleeps):
    xero.get(
        api_url("Invoices"),
        status=400,
        json={"ErrorNumber": 10, "Type": "ValidationException", "Message": "Bad where"},
    )
    with pytest.raises(XeroError) as raised:
        _client(connection, sleeps).get_invoices(where="nonsense")
    assert raised.value.permanent and raised.value.detail == "Bad where"


def test_tokens_never_reach_the_logs(xero, connection, sleeps, caplog):
    caplog.set_level("DEBUG")
    xero.get(api_url("Organisation"), status=401, json=xero_json("error__token_expired"))
    xero.post(token_url(), status=400, json=xero_json("token__invalid_grant"))
    with pytest.raises(XeroReconnectRequired):
        _client(connection, sleeps).get_organisation()
    assert "TokenExpired" in caplog.text
    for secret in (ACCESS_TOKEN, REFRESH_TOKEN):
        assert secret not in caplog.text


def test_invoices_follow_the_pages(xero, connection, sleeps):
    for page in (1, 2):
        xero.get(
            api_url("Invoices"),
            json=xero_json(f"invoices__page_{page}_of_2"),
            match=[matchers.query_param_matcher({"page": str(page), "Statuses": "AUTHORISED"})],
        )
    invoices = _client(connection, sleeps).get_invoices(statuses=["AUTHORISED"])
    assert len(invoices) == 103 and invoices[-1]["InvoiceNumber"] == "INV-0103"


def test_invoice_ids_are_asked_for_in_batches_of_fifty(xero, connection, sleeps):
    ids = [f"00000000-0000-0000-0000-{n:012d}" for n in range(120)]
    batches = xero.get(api_url("Invoices"), json=xero_json("invoices__one"))
    _client(connection, sleeps).get_invoices(ids=ids + ids[:5])
    asked = [call.request.params["IDs"].split(",") for call in xero.calls]
    assert [len(batch) for batch in asked] == [50, 50, 20] and batches.call_count == 3
    assert sum(asked, []) == ids


def test_changes_since_a_moment_use_if_modified_since(xero, connection, sleeps):
    xero.get(
        api_url("Payments"),
        json={"Payments": []},
        match=[matchers.header_matcher({"If-Modified-Since": "2026-11-20T22:30:00"})],
    )
    since = datetime(2026, 11, 21, 11, 30, tzinfo=timezone.get_fixed_timezone(13 * 60))
    assert _client(connection, sleeps).get_payments(modified_since=since) == []


def test_nothing_modified_is_an_empty_list(xero, connection, sleeps):
    xero.get(api_url("Contacts"), status=304)
    since = datetime(2026, 11, 20, tzinfo=UTC)
    assert _client(connection, sleeps).get_contacts(modified_since=since) == []


def test_credit_notes_by_id_are_asked_for_with_a_where_filter(xero, connection, sleeps):
    xero.get(api_url("CreditNotes"), json={"CreditNotes": [{"CreditNoteID": "cn-1"}]})
    notes = _client(connection, sleeps).get_credit_notes(ids=["cn-1"])
    assert notes == [{"CreditNoteID": "cn-1"}]
    assert xero.calls[0].request.params["where"] == 'CreditNoteID==Guid("cn-1")'


def test_the_other_resources(xero, connection, sleeps):
    xero.get(api_url("ContactGroups"), json=xero_json("contact_groups__two"))
    xero.get(api_url("Invoices/inv-1/OnlineInvoice"), json=xero_json("online_invoice__ok"))
    xero.get(api_url("Invoices/inv-draft/OnlineInvoice"), status=400, json={"Message": "Draft"})
    xero.get(api_url("InvoiceReminders/Settings"), json=xero_json("invoice_reminders__enabled"))
    client = _client(connection, sleeps)
    assert [group["Name"] for group in client.get_contact_groups()] == ["VIP", "Slow payers"]
    assert client.get_online_invoice_url("inv-1").startswith("https://in.xero.com/")
    assert client.get_online_invoice_url("inv-draft") is None
    assert client.get_invoice_reminder_settings() == {"Enabled": True}


def test_tracking_categories_come_with_archived_ones_unless_told_not_to(xero, connection, sleeps):
    xero.get(api_url("TrackingCategories"), json=xero_json("tracking_categories__region"))
    client = _client(connection, sleeps)
    categories = client.get_tracking_categories()
    assert [c["Name"] for c in categories] == ["Region", "Sales channel"]
    assert [o["Name"] for o in categories[0]["Options"]] == ["North", "South", "Central"]
    client.get_tracking_categories(include_archived=False)
    assert [call.request.params for call in xero.calls] == [{"includeArchived": "true"}, {}]


def test_xero_dates_and_money_are_read_exactly():
    assert parse_xero_date("/Date(1546128000000+0000)/") == datetime(2018, 12, 30, tzinfo=UTC)
    assert parse_xero_date("/Date(1546128000000+1300)/") == datetime(2018, 12, 30, tzinfo=UTC)
    assert parse_xero_date("2019-12-07T18:46:19.5165400") == datetime(
        2019, 12, 7, 18, 46, 19, 516540, tzinfo=UTC
    )
    assert parse_xero_date("2019-12-07T18:46:19") == datetime(2019, 12, 7, 18, 46, 19, tzinfo=UTC)
    assert parse_xero_date("2020-02-06T12:17:43-08:00") == datetime(
        2020, 2, 6, 20, 17, 43, tzinfo=UTC
    )
    assert parse_xero_date(None) is None and parse_xero_date("") is None
    assert parse_money(485.1) == Decimal("485.1")
    assert parse_money("0.10") + parse_money("0.20") == Decimal("0.30")
    assert parse_money(None) == Decimal("0")
