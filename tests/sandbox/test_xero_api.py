"""The sandbox accounting API answers, filters and limits like Xero (FACTS.md)."""

from datetime import timedelta
from decimal import Decimal
from urllib.parse import urlencode

import time_machine
from django.utils import timezone
from django.utils.http import http_date

from sandbox.console import invoice_create
from sandbox.models import Invoice


def test_every_answer_carries_the_rate_limit_headers(xero_get):
    response = xero_get("Organisation")
    assert response.status_code == 200
    assert response["X-MinLimit-Remaining"] == "59"
    assert response["X-DayLimit-Remaining"] == "4999"
    assert int(response["X-AppMinLimit-Remaining"]) == 9999
    assert response["Xero-Correlation-Id"]


def test_the_61st_call_in_a_minute_is_429_with_retry_after(xero_get):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        for _ in range(60):
            assert xero_get("Organisation").status_code == 200
        traveller.shift(timedelta(seconds=20))
        refused = xero_get("Organisation")
        assert refused.status_code == 429
        assert refused["X-Rate-Limit-Problem"] == "minute"
        assert refused["Retry-After"] == "40"
        assert refused["X-MinLimit-Remaining"] == "0"
        traveller.shift(timedelta(seconds=41))
        assert xero_get("Organisation").status_code == 200


def test_the_limit_is_per_organisation(xero_get, organisations):
    with time_machine.travel(timezone.now(), tick=False):
        for _ in range(60):
            xero_get("Organisation", organisation=organisations[0])
        assert xero_get("Organisation", organisation=organisations[0]).status_code == 429
        assert xero_get("Organisation", organisation=organisations[1]).status_code == 200


def test_a_wrong_tenant_header_is_403_authentication_unsuccessful(client, tokens):
    response = client.get(
        "/sandbox/xero/api/api.xro/2.0/Invoices",
        headers={
            "Authorization": f"Bearer {tokens['access_token']}",
            "Xero-tenant-id": "00000000-0000-0000-0000-000000000000",
            "Accept": "application/json",
        },
    )
    assert response.status_code == 403
    assert response.json()["Detail"] == "AuthenticationUnsuccessful"


def test_a_bad_token_is_401(xero_get):
    assert xero_get("Invoices", token="nonsense").status_code == 401


def test_without_accept_json_the_answer_is_xml(xero_get):
    response = xero_get("Organisation", accept="*/*")
    assert response["Content-Type"].startswith("text/xml")


def _numbers(response) -> list[str]:
    assert response.status_code == 200, response.content
    return sorted(invoice["InvoiceNumber"] for invoice in response.json()["Invoices"])


def test_invoices_filter_by_ids_statuses_numbers_and_contacts(xero_get, organisations):
    invoices = Invoice.objects.filter(organisation=organisations[0]).order_by("invoice_number")
    first, second = invoices[0], invoices[1]
    assert _numbers(xero_get(f"Invoices?IDs={first.invoice_id},{second.invoice_id}")) == [
        "INV-0001",
        "INV-0002",
    ]
    assert _numbers(xero_get("Invoices?Statuses=DRAFT,PAID")) == ["INV-0003", "INV-0004"]
    assert _numbers(xero_get("Invoices?InvoiceNumbers=INV-0002")) == ["INV-0002"]
    assert _numbers(xero_get(f"Invoices?ContactIDs={first.contact.contact_id}")) == ["INV-0001"]


def test_invoices_where_finds_the_overdue_ones(xero_get):
    today = timezone.now().date()
    where = (
        'Type=="ACCREC" AND Status=="AUTHORISED" AND AmountDue>0 '
        f"AND DueDate<DateTime({today.year},{today.month},{today.day})"
    )
    assert _numbers(xero_get(f"Invoices?{urlencode({'where': where})}")) == ["INV-0002"]


def test_invoices_where_is_passed_as_a_query_parameter(client, tokens, organisations):
    response = client.get(
        "/sandbox/xero/api/api.xro/2.0/Invoices",
        {"where": 'Status=="DRAFT" OR Status=="PAID"'},
        headers={
            "Authorization": f"Bearer {tokens['access_token']}",
            "Xero-tenant-id": str(organisations[0].tenant_id),
            "Accept": "application/json",
        },
    )
    assert _numbers(response) == ["INV-0003", "INV-0004"]


def test_an_unknown_where_field_is_a_400_query_parse_exception(xero_get):
    response = xero_get('Invoices?where=Colour=="red"')
    assert response.status_code == 400
    assert response.json()["Type"] == "QueryParseException"


def test_invoices_page_by_100_with_a_pagination_object(xero_get, organisations):
    contact = organisations[0].contacts.first()
    for _ in range(101):
        invoice_create(contact=contact, total=Decimal("1.00"), send_webhook=False)
    first = xero_get("Invoices?page=1").json()
    second = xero_get("Invoices?page=2").json()
    assert len(first["Invoices"]) == 100
    assert first["pagination"] == {"page": 1, "pageSize": 100, "pageCount": 2, "itemCount": 105}
    assert len(second["Invoices"]) == 5


def test_more_than_50_ids_is_a_404_like_an_overlong_url(xero_get):
    ids = ",".join(f"00000000-0000-0000-0000-{n:012d}" for n in range(51))
    assert xero_get(f"Invoices?IDs={ids}").status_code == 404


def test_if_modified_since_returns_only_later_changes(xero_get, organisations):
    later = timezone.now() + timedelta(hours=1)
    with time_machine.travel(later + timedelta(minutes=5)):
        invoice_create(
            contact=organisations[0].contacts.first(), total=Decimal("5"), send_webhook=False
        )
    assert (
        len(
            xero_get("Invoices", **{"If-Modified-Since": http_date(later.timestamp())}).json()[
                "Invoices"
            ]
        )
        == 1
    )
    iso = later.isoformat()
    assert len(xero_get("Invoices", **{"If-Modified-Since": iso}).json()["Invoices"]) == 1
    assert xero_get("Contacts", **{"If-Modified-Since": iso}).json()["Contacts"] == []


def test_dates_are_xero_ms_dates(xero_get):
    invoice = xero_get("Invoices?InvoiceNumbers=INV-0001").json()["Invoices"][0]
    assert invoice["DueDate"].startswith("/Date(") and invoice["DueDate"].endswith("+0000)/")
    assert invoice["DueDateString"].endswith("T00:00:00")


def test_the_online_invoice_url_opens_a_page_that_takes_payment(client, xero_get, organisations):
    invoice = Invoice.objects.get(organisation=organisations[0], invoice_number="INV-0001")
    answer = xero_get(f"Invoices/{invoice.invoice_id}/OnlineInvoice").json()
    url = answer["OnlineInvoices"][0]["OnlineInvoiceUrl"]
    path = url.removeprefix("http://dunwell.test")
    assert b"Pay now" in client.get(path).content
    client.post(path)
    invoice.refresh_from_db()
    assert invoice.status == "PAID"


def test_a_draft_has_no_online_invoice(xero_get, organisations):
    draft = Invoice.objects.get(organisation=organisations[0], status="DRAFT")
    assert xero_get(f"Invoices/{draft.invoice_id}/OnlineInvoice").status_code == 400


def test_contacts_carry_xeros_four_phone_slots_and_their_groups(xero_get):
    contacts = xero_get("Contacts").json()["Contacts"]
    aroha = next(c for c in contacts if c["Name"] == "Aroha Ngata")
    assert [p["PhoneType"] for p in aroha["Phones"]] == ["DEFAULT", "DDI", "FAX", "MOBILE"]
    assert aroha["Phones"][3]["PhoneNumber"] == "555 0101"
    assert [g["Name"] for g in aroha["ContactGroups"]] == ["Retail"]
    eli = next(c for c in contacts if c["Name"] == "Eli Thompson")
    assert all(not p["PhoneNumber"] for p in eli["Phones"])


def test_invoice_reminder_settings_and_organisation(xero_get, organisations):
    assert xero_get("InvoiceReminders/Settings").json()["InvoiceReminders"] == [{"Enabled": False}]
    organisation = xero_get("Organisation").json()["Organisations"][0]
    assert (organisation["CountryCode"], organisation["Timezone"]) == (
        "NZ",
        "NEWZEALANDSTANDARDTIME",
    )


def test_tracking_categories_list_archived_options_only_when_asked(xero_get, organisations):
    active = xero_get("TrackingCategories").json()["TrackingCategories"]
    assert [(c["Name"], [o["Name"] for o in c["Options"]]) for c in active] == [
        ("Region", ["North", "South"])
    ]
    everything = xero_get("TrackingCategories?includeArchived=true").json()
    options = everything["TrackingCategories"][0]["Options"]
    assert [(o["Name"], o["Status"]) for o in options] == [
        ("Central", "ARCHIVED"), ("North", "ACTIVE"), ("South", "ACTIVE"),
    ]  # fmt: skip


def test_invoice_line_items_carry_their_tracking_and_contacts_their_addresses(xero_get):
    invoice = xero_get("Invoices?InvoiceNumbers=INV-0001&page=1").json()["Invoices"][0]
    [tag] = invoice["LineItems"][0]["Tracking"]
    assert (tag["Name"], tag["Option"]) == ("Region", "North")
    assert {"TrackingCategoryID", "TrackingOptionID"} <= set(tag)
    contacts = xero_get("Contacts").json()["Contacts"]
    thistle = next(c for c in contacts if c["Name"] == "Thistle and Rose Ltd")
    street = next(a for a in thistle["Addresses"] if a["AddressType"] == "STREET")
    assert (street["City"], street["Country"]) == ("Edinburgh", "United Kingdom")
    assert [a["AddressType"] for a in thistle["Addresses"]] == ["POBOX", "STREET"]
