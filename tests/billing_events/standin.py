"""A stand-in Xero organisation for the reminder tests: invoices the test can move and pay.

Serves GET /Invoices (by IDs= or the whole list), /Contacts, /CreditNotes, /Payments,
/Invoices/{id}/OnlineInvoice, /TrackingCategories and /ContactGroups through `responses`, shaped
like the recorded fixtures.
"""

import json
from datetime import UTC, date, datetime
from urllib.parse import parse_qs, urlsplit

from tests.billing_events.helpers import API, ONLINE_INVOICE, SEGMENT_LISTS, api_json


def xero_date(day: date) -> str:
    return (
        f"/Date({int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000)}+0000)/"
    )


class StandInXero:
    def __init__(self, mock, invoices: str = "invoices__reminders_open"):
        self.invoices = {i["InvoiceID"]: i for i in api_json(invoices)["Invoices"]}
        self.contacts = api_json("contacts__reminders")["Contacts"]
        mock.add_callback("GET", f"{API}/Invoices", callback=self._invoices)
        mock.add("GET", f"{API}/Contacts", json=api_json("contacts__reminders"))
        mock.add("GET", f"{API}/CreditNotes", json=api_json("creditnotes__empty"))
        mock.add("GET", f"{API}/Payments", json=api_json("payments__empty"))
        mock.add("GET", ONLINE_INVOICE, json=api_json("online_invoice"))
        for resource, fixture in SEGMENT_LISTS.items():
            mock.add("GET", f"{API}/{resource}", json=api_json(fixture))
        self.mock = mock

    def _invoices(self, request):
        ids = parse_qs(urlsplit(request.url).query).get("IDs")
        wanted = ids[0].split(",") if ids else list(self.invoices)
        found = [self.invoices[i] for i in wanted if i in self.invoices]
        body = {
            "Status": "OK",
            "pagination": {"page": 1, "pageSize": 100, "pageCount": 1, "itemCount": len(found)},
            "Invoices": found,
        }
        return 200, {}, json.dumps(body)

    def due_on(self, day: date, *numbers: str) -> None:
        for invoice in self._numbered(numbers):
            invoice["DueDate"] = xero_date(day)
            invoice["DueDateString"] = f"{day.isoformat()}T00:00:00"

    def pay(self, number: str, *, on: date) -> None:
        """A payment in full, recorded in Xero (no webhook has told Dunwell yet)."""
        (invoice,) = self._numbered([number])
        invoice.update(Status="PAID", AmountDue=0.0, AmountPaid=invoice["Total"])
        invoice["Payments"] = [
            {"PaymentID": "0d666415-cf77-43fa-80c7-56775591d426", "Amount": invoice["Total"],
             "Date": xero_date(on), "CurrencyRate": 1.0, "HasAccount": False,
             "HasValidationErrors": False}
        ]  # fmt: skip
        invoice["UpdatedDateUTC"] = xero_date(on)

    def only(self, *numbers: str) -> None:
        self.invoices = {i["InvoiceID"]: i for i in self._numbered(numbers)}

    def _numbered(self, numbers) -> list[dict]:
        return [i for i in self.invoices.values() if i["InvoiceNumber"] in numbers]

    def online_invoice_calls(self) -> int:
        return sum(
            1 for call in self.mock.calls if call.request.path_url.endswith("/OnlineInvoice")
        )
